"""``shardmem bench durable``: what group commit buys, measured in one run.

N writers (trio tasks) each make acknowledged writes, one after the other, to a durable
engine: ``mem.working.store(<a new conversation id>, <payload>)``. Two variants run
back to back in the same process, each on a new, empty data directory and for the same
time budget:

- **group commit** — the engine's default: a shard serves every request queued when it
  wakes up, journals them with one ``write`` and (with ``fsync="always"``) one
  ``fsync``, then replies to all of them;
- **one fsync per write** — ``EngineConfig(max_batch=1)``: a shard serves one request
  per wake-up, so every write pays its own commit.

A variant stops issuing writes when its time budget (or its write cap) is spent; the
writes in flight then finish and count: every counted write was acknowledged, so it
was on disk (with ``always``) when its writer heard back. Throughput is acknowledged
writes over the variant's wall time (first write issued to last reply).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

import attrs
import trio

from bench._durable._model import VARIANTS, DurableOptions, DurableResult, VariantResult
from bench._measure._environment import directory_bytes, filesystem_type, load_average, machine
from bench._measure._latency import LatencyRecorder, OpLatency
from engine import EngineConfig, MemoryEngine, open_memory_engine

__all__ = ["run_durable"]


def run_durable(
    options: DurableOptions, *, announce: Callable[[str], object] | None = None
) -> DurableResult:
    """Measure both variants (blocking: runs its own trio loop per variant).

    Args:
        options: What to run.
        announce: Called with a one-line description before each variant starts
            (e.g. ``print`` to stderr); ``None``: silent.

    Returns:
        The measurements.

    Raises:
        OSError: if a data directory cannot be created or written.
        Exception: whatever the engine raised (the run stops).
    """
    with _parent_dir(options.data_dir) as parent:
        environment = _environment(parent)
        results = []
        for name, subdir, max_batch in VARIANTS:
            if announce is not None:
                announce(
                    f"{name}: {options.writers} writers, fsync {options.fsync}, "
                    f"{options.seconds:g} s..."
                )
            results.append(trio.run(_measure, options, name, parent / subdir, max_batch))
    group, single = results
    return DurableResult(options=options, group=group, single=single, environment=environment)


@contextmanager
def _parent_dir(data_dir: str | None) -> Iterator[Path]:
    if data_dir is not None:
        yield Path(data_dir)
        return
    with tempfile.TemporaryDirectory(prefix="shardmem-durable-") as temporary:
        yield Path(temporary)


def _environment(parent: Path) -> dict[str, Any]:
    load = load_average()
    environment = machine()
    started_at = environment.pop("started_at")
    environment["load_average_1m"] = None if load is None else load[0]
    environment["filesystem"] = filesystem_type(parent)
    environment["started_at"] = started_at
    return environment


@attrs.define(eq=False)
class _Budget:
    """Hands out write tickets until the deadline passes or the cap is reached."""

    deadline: float
    cap: float
    issued: int = 0

    def take(self) -> bool:
        if self.issued >= self.cap or perf_counter() >= self.deadline:
            return False
        self.issued += 1
        return True


async def _measure(
    options: DurableOptions, name: str, data_dir: Path, max_batch: int | None
) -> VariantResult:
    config = EngineConfig(shards=options.shards, fsync=options.fsync, max_batch=max_batch)
    recorder = LatencyRecorder()
    payload = ("shardmem durable bench " * (options.value_bytes // 23 + 1))[: options.value_bytes]
    async with open_memory_engine(config=config, data_dir=data_dir) as mem:
        before = mem.statistics()
        cap = float("inf") if options.writes is None else options.writes
        cpu_start = process_time()
        start = perf_counter()
        budget = _Budget(deadline=start + options.seconds, cap=cap)
        async with trio.open_nursery() as nursery:
            for writer in range(options.writers):
                nursery.start_soon(_writer, mem, writer, payload, budget, recorder)
        wall = perf_counter() - start
        cpu = process_time() - cpu_start
        after = mem.statistics()
        close_start = perf_counter()
    close_seconds = perf_counter() - close_start
    (latency,) = recorder.summary() or (_empty_latency(),)
    return VariantResult(
        name=name,
        max_batch=max_batch,
        data_dir=str(data_dir),
        writes=budget.issued,
        wall_seconds=wall,
        latency=latency,
        requests=after.requests - before.requests,
        commits=sum(s.batches for s in after.shards) - sum(s.batches for s in before.shards),
        close_seconds=close_seconds,
        data_dir_bytes=directory_bytes(data_dir),
        cpu_seconds=cpu,
    )


async def _writer(
    mem: MemoryEngine, writer: int, payload: str, budget: _Budget, recorder: LatencyRecorder
) -> None:
    """One writer: acknowledged writes one after the other, each to a new id."""
    index = 0
    while budget.take():
        key = f"durable-{writer:05d}-{index:09d}"
        start = perf_counter()
        await mem.working.store(key, payload)
        recorder.record("write", perf_counter() - start)
        index += 1


def _empty_latency() -> OpLatency:
    return OpLatency(op="write", count=0, mean_us=0.0, p50_us=0, p95_us=0, p99_us=0, max_us=0)
