"""``shardmem bench micro``: single-operation scaling and cost growth, in one process.

Two experiments, both in one trio run per measurement:

**Scaling** — single-operation throughput and p50/p99 at 1, 10, 100, 1,000 and 10,000
concurrent clients, for three designs over the same preloaded sessions:

- ``engine``: the shardmem engine through its public API (``mem.sessions.get`` /
  ``mem.sessions.upsert``);
- ``lock``: one :class:`engine.ShardStore` behind one :class:`trio.Lock`
  (:class:`bench._targets._lock.LockStore`);
- ``ceiling``: the same :class:`engine.ShardStore` calls with one
  ``trio.lowlevel.checkpoint()`` per operation and nothing else — no design that yields
  once per operation can beat it.

Each client alternates ``get`` and ``upsert`` of random sessions until the run's time is
up; throughput is operations over the wall time, latency is measured around each call.
Each point is the median of ``repeats`` runs; the ratios the goals use come from the same
run.

**Pipelined** — operations per second through ``mem.pipeline()``: ``pipeline_clients``
clients each sending batches of ``pipeline_depth`` gets (and, in a second run,
gets and upserts alternating) over the same preloaded sessions.

**Cost growth** — the p50/p99 of one operation at a time (one client) with 10k, 100k and
1M stored records (half sessions, half user memories; 20 of each per user): ``get``,
``upsert``, ``list_user_sessions``, ``recent`` (the 10 most recently updated sessions),
``search_memories`` and ``expiry`` (time to remove one due record when 1,000 expire
together), for the engine and each installed peer. A peer loads through its own API under
a time budget; one that cannot load or measure within it is reported as stopped.

Memory: bytes per stored record beyond its payload, by :mod:`tracemalloc`, for the engine.
"""

from __future__ import annotations

import gc
import random
import statistics as stats
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import attrs
import trio

from bench._measure._environment import load_average, machine
from bench._micro._growth import open_growth_adapter
from bench._micro._model import (
    GROWTH_OPS,
    PIPELINE_MIXES,
    GrowthAdapter,
    GrowthPoint,
    Layout,
    MicroOptions,
    MicroResult,
    ScalingPoint,
    Unsupported,
    check_goals,
)
from bench._micro._redis import open_redis_growth_adapter
from bench._micro._scaling import median_point, pipelined_run, scaling_run
from bench._targets._peers import PEERS, PeerUnavailable, peer_version

__all__ = ["run_micro"]


#: Called with a one-line description before each measurement.
Progress = Callable[[str], None]


def run_micro(options: MicroOptions, *, progress: Progress | None = None) -> MicroResult:
    """Run both experiments and the memory measurement (blocking: its own trio runs).

    Args:
        options: What to run.
        progress: Called with a one-line description before each measurement.

    Returns:
        The measurements and the goals checked against them.
    """
    say = progress if progress is not None else (lambda line: None)
    environment = _environment(options)
    scaling: list[ScalingPoint] = []
    skipped: dict[str, str] = environment.setdefault("skipped", {})
    for clients in options.clients:
        for target in options.scaling_targets:
            if target in skipped:
                continue
            say(f"scaling: {target} at {clients:,} clients")
            try:
                runs = [
                    trio.run(scaling_run, options, target, clients, repeat)
                    for repeat in range(options.repeats)
                ]
            except PeerUnavailable as exc:  # a Redis target without its server
                skipped[target] = str(exc)
                say(f"scaling: skipped {target}: {exc}")
                continue
            scaling.append(median_point(target, clients, runs))
    pipelined: list[ScalingPoint] = []
    if options.pipeline_depth:
        for mix in PIPELINE_MIXES:
            say(
                f"pipelined: {mix}, {options.pipeline_clients} clients x "
                f"{options.pipeline_depth} ops per pipeline"
            )
            runs = [
                trio.run(pipelined_run, options, mix, repeat) for repeat in range(options.repeats)
            ]
            pipelined.append(median_point(mix, options.pipeline_clients, runs))
    growth: list[GrowthPoint] = []
    for target in (*options.targets, *options.redis_targets):
        for records in options.records:
            say(f"growth: {target} at {records:,} records")
            growth.extend(trio.run(_growth_run, options, target, records))
            gc.collect()
    memory: dict[str, Any] = {}
    if options.memory_records:
        say(f"memory: engine with {options.memory_records:,} records (tracemalloc)")
        memory = trio.run(_memory_run, options)
    partial = MicroResult(
        options=options,
        scaling=tuple(scaling),
        growth=tuple(growth),
        memory=memory,
        goals=(),
        environment=environment,
        pipelined=tuple(pipelined),
    )
    return attrs.evolve(partial, goals=check_goals(partial))


def _environment(options: MicroOptions) -> dict[str, Any]:
    versions = {name: peer_version(name) for name in PEERS}
    load = load_average()
    environment = machine()
    started_at = environment.pop("started_at")
    environment["load_average"] = None if load is None else list(load)
    environment["trio"] = trio.__version__
    environment["peers"] = versions
    environment["started_at"] = started_at
    return environment


# --------------------------------------------------------------------------- growth


async def _growth_run(options: MicroOptions, target: str, records: int) -> list[GrowthPoint]:
    def row(op: str, status: str) -> GrowthPoint:
        return GrowthPoint(target=target, records=records, op=op, status=status)

    try:
        if target in options.redis_targets:
            opener = open_redis_growth_adapter(
                target, options.redis_url_of(target), shards=options.shards
            )
        else:
            opener = open_growth_adapter(target, shards=options.shards)
        async with opener as adapter:
            loaded = await _load(adapter, records, options.load_budget)
            if loaded < records:
                status = (
                    f"stopped: loaded {loaded:,} of {records:,} records in "
                    f"{options.load_budget:.0f} s budget"
                )
                return [row(op, status) for op in GROWTH_OPS]
            gc.collect()
            return [await _measure(adapter, target, records, op, options) for op in GROWTH_OPS]
    except PeerUnavailable as exc:
        return [row(op, f"skipped: {exc}") for op in GROWTH_OPS]


async def _load(adapter: GrowthAdapter, records: int, budget: float) -> int:
    """Load ``records`` (half sessions, half memories, interleaved); stop at ``budget``."""
    deadline = time.perf_counter() + budget
    layout = Layout(records)
    for index in range(records):
        if index % 256 == 0 and time.perf_counter() > deadline:
            return index
        await adapter.load(layout, index)
    return records


async def _measure(
    adapter: GrowthAdapter, target: str, records: int, op: str, options: MicroOptions
) -> GrowthPoint:
    layout = Layout(records)
    rnd = random.Random(options.seed + records)
    latencies: list[float] = []
    deadline = time.perf_counter() + options.op_budget
    try:
        for n in range(options.samples):
            if n >= 5 and time.perf_counter() > deadline:
                break
            latencies.extend(await adapter.measure(op, layout, rnd, n))
    except Unsupported as exc:
        return GrowthPoint(target=target, records=records, op=op, status=f"n/a: {exc}")
    if not latencies:
        return GrowthPoint(target=target, records=records, op=op, status="stopped: no sample")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    status = "ok" if len(latencies) >= min(5, options.samples) else "stopped: budget"
    return GrowthPoint(
        target=target,
        records=records,
        op=op,
        status=status,
        samples=len(latencies),
        p50_us=stats.median(latencies) * 1e6,
        p99_us=p99 * 1e6,
    )


# --------------------------------------------------------------------------- memory


async def _memory_run(options: MicroOptions) -> dict[str, Any]:
    """Bytes per record beyond payload for the engine (``tracemalloc``)."""
    count = options.memory_records
    layout = Layout(count)
    opener: AbstractAsyncContextManager[GrowthAdapter] = open_growth_adapter(
        "engine", shards=options.shards
    )
    async with opener as adapter:
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            payload = 0
            for index in range(count):
                payload += await adapter.load(layout, index)
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    traced = after - before
    return {
        "target": "engine",
        "records": count,
        "traced_bytes": traced,
        "payload_bytes": payload,
        "bytes_per_record": traced / count,
        "overhead_bytes_per_record": (traced - payload) / count,
    }
