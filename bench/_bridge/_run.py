"""``shardmem bench bridge``: the thread bridge against the native trio API.

One run measures, on the same engine and operation (``sessions.get`` of a random
stored session):

- native trio: throughput at ``--tasks`` concurrent tasks, and p50 of sequential calls;
- the blocking facade: p50 of sequential calls from one thread, and throughput from
  ``--threads`` threads; the same two through one ``trio.from_thread.run`` per call
  (the transport the mailbox replaces); and the threads' throughput of a call that does
  nothing in the engine thread (``call_in_engine_thread``): the transport's ceiling;
- the asyncio facade: throughput at ``--tasks`` concurrent tasks on one loop;
- start-up: ``start_blocking_engine()`` + ``close()``, median.

It prints the ratios against native trio and the goals of issue 10 (asyncio >= 0.5x,
threads >= 0.4x, sequential blocking <= native + 60 us). Throughputs are medians of
``--repeats`` runs of ``--duration`` seconds.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Final

import attrs
import trio
from rich.console import Console
from rich.table import Table

from engine import MemoryEngine, Session, open_memory_engine, start_blocking_engine

__all__ = ["DESCRIPTION", "BridgeOptions", "report_bridge", "run_bridge"]

#: What the benchmark measures (this docstring after its first line): ``--help``'s text.
DESCRIPTION: Final = __doc__.split("\n\n", 1)[1]


@attrs.frozen
class BridgeOptions:
    """What ``shardmem bench bridge`` measures (see the module doc)."""

    duration: float = 1.0
    repeats: int = 3
    threads: int = 8
    tasks: int = 100
    shards: int = 4
    records: int = 1000
    calls: int = 5000
    starts: int = 50
    seed: int = 1


def _ids(options: BridgeOptions) -> list[str]:
    return [f"s{i}" for i in range(options.records)]


async def _fill(mem: Any, options: BridgeOptions) -> None:
    for i, sid in enumerate(_ids(options)):
        await mem.sessions.upsert(Session(session_id=sid, user_id=f"u{i % 100}"))


def _p50_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


# ------------------------------------------------------------------- native


def _native(options: BridgeOptions) -> tuple[float, float]:
    """(throughput at ``tasks`` tasks in ops/s, sequential p50 in us)."""

    async def main() -> tuple[float, float]:
        async with open_memory_engine(options.shards) as mem:
            await _fill(mem, options)
            rates = [await _native_rate(mem, options, r) for r in range(options.repeats)]
            ids = _ids(options)
            rnd = random.Random(options.seed)
            samples = []
            perf = time.perf_counter_ns
            for _ in range(options.calls):
                sid = ids[rnd.randrange(len(ids))]
                start = perf()
                await mem.sessions.get(sid)
                samples.append(perf() - start)
            return statistics.median(rates), _p50_us(samples)

    return trio.run(main)


async def _native_rate(mem: MemoryEngine, options: BridgeOptions, repeat: int) -> float:
    ids = _ids(options)
    total = 0
    stop_at = time.perf_counter() + options.duration

    async def task(seed: int) -> None:
        nonlocal total
        rnd = random.Random(seed)
        n = 0
        while time.perf_counter() < stop_at:
            await mem.sessions.get(ids[rnd.randrange(len(ids))])
            n += 1
        total += n

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for i in range(options.tasks):
            nursery.start_soon(task, options.seed + repeat * 10_007 + i)
    return total / (time.perf_counter() - start)


# ----------------------------------------------------------------- blocking


def _sequential(get: Callable[[str], Any], options: BridgeOptions) -> float:
    ids = _ids(options)
    rnd = random.Random(options.seed)
    samples = []
    perf = time.perf_counter_ns
    for _ in range(options.calls):
        sid = ids[rnd.randrange(len(ids))]
        start = perf()
        get(sid)
        samples.append(perf() - start)
    return _p50_us(samples)


def _threaded(get: Callable[[str], Any], options: BridgeOptions, repeat: int) -> float:
    ids = _ids(options)
    counts = [0] * options.threads
    barrier = threading.Barrier(options.threads + 1)
    stop_at = 0.0

    def worker(index: int) -> None:
        rnd = random.Random(options.seed + repeat * 10_007 + index)
        barrier.wait()
        n = 0
        while time.perf_counter() < stop_at:
            get(ids[rnd.randrange(len(ids))])
            n += 1
        counts[index] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(options.threads)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    stop_at = start + options.duration
    barrier.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def _asyncio_rate(aio: Any, options: BridgeOptions, repeat: int) -> float:
    ids = _ids(options)

    async def main() -> float:
        total = 0
        stop_at = time.perf_counter() + options.duration

        async def task(seed: int) -> None:
            nonlocal total
            rnd = random.Random(seed)
            n = 0
            while time.perf_counter() < stop_at:
                await aio.sessions.get(ids[rnd.randrange(len(ids))])
                n += 1
            total += n

        start = time.perf_counter()
        await asyncio.gather(
            *(task(options.seed + repeat * 10_007 + i) for i in range(options.tasks))
        )
        return total / (time.perf_counter() - start)

    return asyncio.run(main())


def _start_close_ms(options: BridgeOptions) -> float:
    samples = []
    for _ in range(options.starts):
        start = time.perf_counter_ns()
        start_blocking_engine(options.shards).close()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1e6


def run_bridge(options: BridgeOptions) -> dict[str, float]:
    """Run every measurement; return the figures by name (ops/s, us, ms, ratios)."""
    native_rate, native_p50 = _native(options)
    mem = start_blocking_engine(options.shards)
    try:
        blocking_fill(mem, options)
        get = mem.sessions.get
        engine = mem._portal.engine
        token = mem._portal.mailbox.token

        def via_from_thread(sid: str) -> Any:
            return trio.from_thread.run(engine.sessions.get, sid, trio_token=token)

        figures = {
            "native_tasks_ops": native_rate,
            "native_sequential_p50_us": native_p50,
            "blocking_sequential_p50_us": _sequential(get, options),
            "from_thread_sequential_p50_us": _sequential(via_from_thread, options),
            "blocking_threads_ops": statistics.median(
                _threaded(get, options, r) for r in range(options.repeats)
            ),
            "from_thread_threads_ops": statistics.median(
                _threaded(via_from_thread, options, r) for r in range(options.repeats)
            ),
            "noop_threads_ops": statistics.median(
                _threaded(partial(mem.call_in_engine_thread, _noop), options, r)
                for r in range(options.repeats)
            ),
            "asyncio_tasks_ops": statistics.median(
                _asyncio_rate(mem.asyncio(), options, r) for r in range(options.repeats)
            ),
        }
    finally:
        mem.close()
    figures["start_close_ms"] = _start_close_ms(options)
    figures["asyncio_ratio"] = figures["asyncio_tasks_ops"] / native_rate
    figures["threads_ratio"] = figures["blocking_threads_ops"] / native_rate
    figures["sequential_overhead_us"] = figures["blocking_sequential_p50_us"] - native_p50
    return figures


def _noop(_: str) -> None:
    """The transport ceiling's call: nothing to do in the engine thread."""


def blocking_fill(mem: Any, options: BridgeOptions) -> None:
    """Store the sessions the measurements read (through the blocking facade)."""
    for i, sid in enumerate(_ids(options)):
        mem.sessions.upsert(Session(session_id=sid, user_id=f"u{i % 100}"))


# ----------------------------------------------------------------------- cli


def report_bridge(figures: dict[str, float], options: BridgeOptions, console: Console) -> None:
    """Print the figures of :func:`run_bridge`, their ratios to native trio and the goals."""
    table = Table(title=f"bridge vs native trio (sessions.get, {options.shards} shards)")
    for column in ("measurement", "value", "vs native", "goal"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    native = figures["native_tasks_ops"]
    t, n = options.threads, options.tasks

    def ops(name: str) -> str:
        return f"{figures[name]:,.0f} ops/s"

    def ok(passed: bool) -> str:
        return "[green]met[/]" if passed else "[red]missed[/]"

    seq_over = figures["sequential_overhead_us"]
    table.add_row(f"native trio, {n} tasks", ops("native_tasks_ops"), "1.00x", "")
    table.add_row(
        "native trio, sequential p50", f"{figures['native_sequential_p50_us']:.1f} us", "", ""
    )
    table.add_row(
        f"asyncio facade, {n} tasks",
        ops("asyncio_tasks_ops"),
        f"{figures['asyncio_ratio']:.2f}x",
        f">= 0.5x {ok(figures['asyncio_ratio'] >= 0.5)}",
    )
    table.add_row(
        f"blocking facade, {t} threads",
        ops("blocking_threads_ops"),
        f"{figures['threads_ratio']:.2f}x",
        f">= 0.4x {ok(figures['threads_ratio'] >= 0.4)}",
    )
    table.add_row(
        "blocking facade, sequential p50",
        f"{figures['blocking_sequential_p50_us']:.1f} us",
        f"+{seq_over:.1f} us",
        f"<= +60 us {ok(seq_over <= 60)}",
    )
    table.add_row(
        f"trio.from_thread.run, {t} threads",
        ops("from_thread_threads_ops"),
        f"{figures['from_thread_threads_ops'] / native:.2f}x",
        "",
    )
    table.add_row(
        "trio.from_thread.run, sequential p50",
        f"{figures['from_thread_sequential_p50_us']:.1f} us",
        f"+{figures['from_thread_sequential_p50_us'] - figures['native_sequential_p50_us']:.1f} us",
        "",
    )
    table.add_row(
        f"no-op call, {t} threads (transport ceiling)",
        ops("noop_threads_ops"),
        f"{figures['noop_threads_ops'] / native:.2f}x",
        "",
    )
    table.add_row("start_blocking_engine + close", f"{figures['start_close_ms']:.2f} ms", "", "")
    console.print(table)
