"""``shardmem bench memory``: the measurements (see the package docstring)."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import trio

from bench._measure._environment import machine
from bench._measure._monitor import GcPauses
from bench._memory._model import MemoryOptions, MemoryResult
from bench._memory._records import payload_bytes, record_at
from engine import (
    EngineConfig,
    KnowledgeDoc,
    Session,
    UserMemory,
    WorkingMemory,
    open_memory_engine,
)

__all__ = ["run_memory"]

Say = Callable[[str], None]


async def _store(mem: Any, record: Any, ttl: float | None) -> None:
    if isinstance(record, Session):
        await mem.sessions.upsert(record, ttl=ttl)
    elif isinstance(record, UserMemory):
        await mem.memories.upsert(record, ttl=ttl)
    elif isinstance(record, WorkingMemory):
        await mem.working.store(
            record.conversation_id, record.data, metadata=record.metadata, ttl=ttl
        )
    else:
        assert isinstance(record, KnowledgeDoc)
        await mem.knowledge.upsert(record, ttl=ttl)


async def _fill(mem: Any, count: int, say: Say) -> int:
    """Store ``count`` records of the mix; return their payload bytes."""
    payload = 0
    step = max(count // 10, 1)
    for index in range(count):
        record, ttl = record_at(index)
        payload += payload_bytes(record)
        await _store(mem, record, ttl)
        if (index + 1) % step == 0:
            say(f"  {index + 1:,} / {count:,} records")
    return payload


def _gc_run(options: MemoryOptions, say: Say) -> dict[str, Any]:
    count = options.gc_records

    async def main() -> dict[str, Any]:
        config = EngineConfig(shards=options.shards)
        async with open_memory_engine(config=config) as mem:
            await _fill(mem, count, say)
            gc.collect()
            gc.collect()  # a row is untracked by the first collection that sees it whole
            walls, cpus = [], []
            for _ in range(options.repeats):
                cpu, wall = time.thread_time(), time.perf_counter()
                gc.collect()
                walls.append(time.perf_counter() - wall)
                cpus.append(time.thread_time() - cpu)
            tracked = len(gc.get_objects())
            stored = mem.statistics().records
        return {
            "records": stored,
            "tracked_objects": tracked,
            "median_seconds": statistics.median(walls),
            "max_seconds": max(walls),
            "median_cpu_seconds": statistics.median(cpus),
        }

    return trio.run(main)


def _size_run(options: MemoryOptions, say: Say) -> dict[str, Any]:
    count = options.size_records

    async def main() -> dict[str, Any]:
        async with open_memory_engine(config=EngineConfig(shards=options.shards)) as mem:
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                payload = await _fill(mem, count, say)
                gc.collect()
                after = tracemalloc.get_traced_memory()[0]
            finally:
                tracemalloc.stop()
        traced = after - before
        return {
            "records": count,
            "traced_bytes": traced,
            "payload_bytes": payload,
            "bytes_per_record": traced / count,
            "overhead_bytes_per_record": (traced - payload) / count,
        }

    return trio.run(main)


def _reopen_run(options: MemoryOptions, count: int, say: Say) -> dict[str, Any]:
    config = EngineConfig(shards=options.shards, fsync="no")

    async def write(directory: str) -> float:
        start = time.perf_counter()
        async with open_memory_engine(config=config, data_dir=directory) as mem:
            await _fill(mem, count, say)
        return time.perf_counter() - start

    async def reopen(directory: str, compact: bool) -> tuple[float, int]:
        start = time.perf_counter()
        async with open_memory_engine(config=config, data_dir=directory) as mem:
            seconds = time.perf_counter() - start
            records = mem.statistics().records
            if compact:
                await mem.compact()
        return seconds, records

    with tempfile.TemporaryDirectory(prefix="shardmem-bench-memory-") as directory:
        write_seconds = trio.run(write, directory)
        say(f"  reopening {count:,} records from the journal")
        journal_seconds, records = trio.run(reopen, directory, True)
        say(f"  reopening {count:,} records from the snapshot")
        snapshot_seconds, again = trio.run(reopen, directory, False)
    if records != count or again != count:
        raise RuntimeError(f"reopen lost records: wrote {count}, read {records} then {again}")
    return {
        "records": count,
        "write_seconds": write_seconds,
        "journal_seconds": journal_seconds,
        "snapshot_seconds": snapshot_seconds,
    }


def _replay_run() -> dict[str, Any]:
    from bench._replay._results import BenchOptions
    from bench._replay._runner import run_bench

    pauses = GcPauses()

    def during_replay(phase: str, info: dict[str, Any]) -> None:
        # run_bench freezes the corpus before the replay: count only what follows
        if gc.get_freeze_count():
            pauses._callback(phase, info)

    gc.callbacks.append(during_replay)
    try:
        result = run_bench(BenchOptions(progress=False))
    finally:
        gc.callbacks.remove(during_replay)
    return {
        "wall_seconds": result.wall_seconds,
        "max_gc_pause_seconds": pauses.max_pause,
        "max_gc_cpu_seconds": pauses.max_cpu_pause,
        "gc_collections": pauses.collections,
        "gc_full_collections": pauses.full_collections,
        "gc_total_seconds": pauses.total_pause,
        "bench_reported_max_gc_pause_seconds": result.process.gc_max_pause_seconds,
    }


def run_memory(options: MemoryOptions, say: Say | None = None) -> MemoryResult:
    """Run every measurement ``options`` asks for (blocking: runs its own trio loops)."""
    tell: Say = say if say is not None else (lambda line: None)
    environment = machine()
    gc_result = size = replay = None
    if options.replay:  # first: on a heap the other measurements have not churned
        tell("the ChitChat replay")
        replay = _replay_run()
    if options.gc_records:
        tell(f"full collections with {options.gc_records:,} records")
        gc_result = _gc_run(options, tell)
    if options.size_records:
        tell(f"bytes per record, {options.size_records:,} records (tracemalloc)")
        size = _size_run(options, tell)
    reopen = []
    for count in options.reopen_records:
        tell(f"reopening a data directory of {count:,} records")
        reopen.append(_reopen_run(options, count, tell))
    return MemoryResult(
        options=options,
        gc=gc_result,
        size=size,
        reopen=tuple(reopen),
        replay=replay,
        environment=environment,
    )
