"""The scaling and pipelined experiments of ``shardmem bench micro`` (see ``bench._micro._run``).

One trio run per measurement: ``clients`` concurrent tasks alternate ``get`` and ``upsert``
of random preloaded sessions on the ``engine``, the ``lock`` store, the ``ceiling`` (bare
:class:`engine.ShardStore` calls with one checkpoint each) or a Redis target; or batches
through ``mem.pipeline()``.
"""

from __future__ import annotations

import gc
import random
import statistics as stats
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from bench._measure._latency import LatencyRecorder
from bench._micro._model import SESSIONS_PER_USER, MicroOptions, ScalingPoint
from bench._micro._redis import open_redis_scaling_op
from bench._targets._lock import open_lock_store
from engine import EngineConfig, Session, ShardStore, open_memory_engine

__all__ = ["median_point", "pipelined_run", "scaling_run"]


def _session(index: int, users: int, tag: int = 0) -> Session:
    return Session(
        session_id=f"s{index}",
        user_id=f"u{index % users}",
        agent_id="micro-agent",
        name=f"session {index}",
        metadata={"tag": str(tag)},
    )


Op = Callable[[int, int], Awaitable[object]]


@asynccontextmanager
async def _open_scaling_target(
    target: str, options: MicroOptions
) -> Any:  # AsyncIterator[Op], kept loose for the three shapes
    records = options.scaling_records
    users = max(1, records // SESSIONS_PER_USER)
    sessions = [_session(i, users) for i in range(records)]
    if target == "engine":
        async with open_memory_engine(shards=options.shards) as mem:
            for session in sessions:
                await mem.sessions.upsert(session, ttl=None)

            async def engine_op(index: int, n: int) -> object:
                if n & 1:
                    return await mem.sessions.upsert(_session(index, users, n), ttl=None)
                return await mem.sessions.get(f"s{index}")

            yield engine_op
    elif target in options.redis_targets:
        async with open_redis_scaling_op(
            target, options.redis_url_of(target), shards=options.shards, records=records,
            session=lambda index, tag: _session(index, users, tag),
        ) as redis_op:  # fmt: skip
            yield redis_op
    elif target == "lock":
        async with open_lock_store() as locked:
            for session in sessions:
                await locked.call(ShardStore.upsert_session, session, None)

            async def lock_op(index: int, n: int) -> object:
                if n & 1:
                    session = _session(index, users, n)
                    return await locked.call(ShardStore.upsert_session, session, None)
                return await locked.call(ShardStore.get_session, f"s{index}", None, None)

            yield lock_op
    else:
        store = ShardStore(EngineConfig())
        epoch, anchor = time.time(), trio.current_time()
        for session in sessions:
            store.upsert_session(epoch, session, None)
        checkpoint = trio.lowlevel.checkpoint

        async def ceiling_op(index: int, n: int) -> object:
            now = epoch + (trio.current_time() - anchor)
            if n & 1:
                result: object = store.upsert_session(now, _session(index, users, n), None)
            else:
                result = store.get_session(now, f"s{index}", None, None)
            await checkpoint()
            return result

        yield ceiling_op


async def scaling_run(
    options: MicroOptions, target: str, clients: int, repeat: int
) -> tuple[float, LatencyRecorder]:
    recorder = LatencyRecorder()
    records = options.scaling_records
    async with _open_scaling_target(target, options) as op:
        gc.collect()
        go = trio.Event()
        ready = 0
        stop_at = 0.0
        total = 0

        async def client(seed: int) -> None:
            nonlocal ready, total
            rnd = random.Random(seed)
            ready += 1
            await go.wait()
            n = 0
            clock = trio.current_time
            perf = time.perf_counter
            record = recorder.record
            while clock() < stop_at:
                index = rnd.randrange(records)
                start = perf()
                await op(index, n)
                record("op", perf() - start)
                n += 1
            total += n

        async with trio.open_nursery() as nursery:
            for i in range(clients):
                nursery.start_soon(client, options.seed * 1_000_003 + repeat * 100_003 + i)
            while ready < clients:
                await trio.lowlevel.checkpoint()
            start = time.perf_counter()
            stop_at = trio.current_time() + options.duration
            go.set()
        wall = time.perf_counter() - start
    return (total / wall if wall > 0 else 0.0), recorder


#: Pipelines' worth of keys each pipelined client draws before the clock starts and
#: then cycles through, so that the timed loop measures the engine, not ``random``.
_DRAWN_PIPELINES = 50


async def pipelined_run(
    options: MicroOptions, mix: str, repeat: int
) -> tuple[float, LatencyRecorder]:
    """``pipeline_clients`` clients, each sending ``mem.pipeline()`` batches of
    ``pipeline_depth`` random gets (``mix == "get"``) or alternating gets and upserts,
    over the scaling experiment's preloaded sessions; returns operations per second
    and the latency of each pipeline. The random keys are drawn before the clock
    starts (:data:`_DRAWN_PIPELINES` pipelines' worth per client, cycled)."""
    recorder = LatencyRecorder()
    records = options.scaling_records
    users = max(1, records // SESSIONS_PER_USER)
    depth = options.pipeline_depth
    upserts = mix != "get"
    ids = [f"s{index}" for index in range(records)]
    drawn = []
    for i in range(options.pipeline_clients):
        rnd = random.Random(options.seed * 1_000_003 + repeat * 100_003 + i)
        drawn.append([rnd.randrange(records) for _ in range(depth * _DRAWN_PIPELINES)])
    async with open_memory_engine(shards=options.shards) as mem:
        for index in range(records):
            await mem.sessions.upsert(_session(index, users), ttl=None)
        gc.collect()
        total = 0
        start = time.perf_counter()
        stop_at = trio.current_time() + options.duration

        async def client(indexes: list[int]) -> None:
            nonlocal total
            n = 0
            window = 0
            while trio.current_time() < stop_at:
                began = time.perf_counter()
                batch = indexes[window : window + depth]
                window = (window + depth) % len(indexes)
                async with mem.pipeline() as p:
                    if upserts:
                        for k, index in enumerate(batch):
                            if k & 1:
                                p.sessions.upsert(_session(index, users, n + k), ttl=None)
                            else:
                                p.sessions.get(ids[index])
                    else:
                        get = p.sessions.get
                        for index in batch:
                            get(ids[index])
                recorder.record("pipeline", time.perf_counter() - began)
                n += depth
            total += n

        async with trio.open_nursery() as nursery:
            for indexes in drawn:
                nursery.start_soon(client, indexes)
        wall = time.perf_counter() - start
    return (total / wall if wall > 0 else 0.0), recorder


def median_point(
    target: str, clients: int, runs: Sequence[tuple[float, LatencyRecorder]]
) -> ScalingPoint:
    rates = [rate for rate, _ in runs]
    median_rate = stats.median(rates)
    # The latencies of the run whose throughput is closest to the median.
    _, recorder = min(runs, key=lambda run: abs(run[0] - median_rate))
    (summary,) = recorder.summary()
    return ScalingPoint(
        target=target,
        clients=clients,
        ops_per_second=median_rate,
        p50_us=summary.p50_us,
        p99_us=summary.p99_us,
        max_us=summary.max_us,
        runs=tuple(rates),
    )
