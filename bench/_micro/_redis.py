"""``shardmem bench micro`` on Redis: the scaling op and the cost-growth adapters.

``redis`` and ``redis-cluster`` run the engine's Redis backend through its facades (the
same calls as the ``engine`` target); ``redis-naive`` runs :class:`NaiveRedisStore`
(one awaited command per step). Every run uses a fresh key prefix, removed on exit.
A server that cannot be reached raises :class:`PeerUnavailable` (the run reports the
target as skipped, with the reason).

Cost growth on ``redis-naive``: ``get`` is one GET, ``upsert`` SET + ZADD,
``list_user_sessions`` ZRANGE + MGET of the user's index, ``recent`` SCAN + MGET over
every session key (the naive design has no global index; the peers list this way),
``search_memories`` SMEMBERS + MGET + client-side ranking; ``expiry`` is n/a (the
server expires the keys itself). On ``redis``/``redis-cluster``, ``expiry`` is the time
``sweep()`` takes per record to remove 1,000 due records and their index entries.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

import trio
from rich import box
from rich.table import Table

from bench._micro._growth import EngineAdapter, memory_text, random_query
from bench._micro._model import GrowthAdapter, Layout, MicroResult, Unsupported
from bench._targets._redis import (
    REDIS_TARGETS,
    check_reachable,
    default_redis_url,
    open_redis_engine,
)
from bench._targets._redis_naive import NaiveRedisStore, open_naive_redis_target
from engine import Session

__all__ = ["open_redis_growth_adapter", "open_redis_scaling_op", "redis_scaling_table"]

Op = Callable[[int, int], Awaitable[object]]

_EXPIRING: Final = 1_000
_EXPIRY_TTL: Final = 0.2
_LOADERS: Final = 64  # concurrent tasks preloading the scaling sessions


async def _each(count: int, load: Callable[[int], Awaitable[object]]) -> None:
    """``load(i)`` for ``i < count`` with :data:`_LOADERS` tasks (a fast preload)."""
    indexes = iter(range(count))

    async def worker() -> None:
        for index in indexes:
            await load(index)

    async with trio.open_nursery() as nursery:
        for _ in range(_LOADERS):
            nursery.start_soon(worker)


def _partitions(target: str, shards: int) -> int:
    return max(shards, 16) if target == "redis-cluster" else shards


@asynccontextmanager
async def open_redis_scaling_op(
    target: str,
    url: str | None,
    *,
    shards: int,
    records: int,
    session: Callable[[int, int], Session],
) -> AsyncIterator[Op]:
    """The scaling experiment's op on a Redis target, over ``records`` preloaded
    sessions: odd ``n`` upserts ``session(index, n)``, even ``n`` gets ``s{index}``.

    Raises:
        PeerUnavailable: if the server cannot be reached.
    """
    url = url or default_redis_url(target)
    await check_reachable(target, url)
    if target == "redis-naive":
        async with open_naive_redis_target(url) as naive:
            store = naive.store

            async def upsert(index: int, n: int) -> None:
                record = session(index, n)
                assert record.user_id is not None and record.agent_id is not None
                await store.create_session(
                    record.session_id, record.user_id, record.agent_id, record.name,
                    record.metadata,
                )  # fmt: skip

            async def naive_op(index: int, n: int) -> object:
                if n & 1:
                    await upsert(index, n)
                    return None
                return await store.client.get(store._key("s", f"s{index}"))

            await _each(records, lambda index: upsert(index, 0))
            yield naive_op
        return
    cluster = target == "redis-cluster"
    async with open_redis_engine(
        url, cluster=cluster, shards=_partitions(target, shards), name=target
    ) as mem:
        await _each(records, lambda index: mem.sessions.upsert(session(index, 0), ttl=None))

        async def engine_op(index: int, n: int) -> object:
            if n & 1:
                return await mem.sessions.upsert(session(index, n), ttl=None)
            return await mem.sessions.get(f"s{index}")

        yield engine_op


class _RedisEngineAdapter(EngineAdapter):
    """The engine adapter on a ``RedisMemoryEngine``; ``expiry`` times ``sweep()``."""

    async def _expiry(self, n: int) -> float:
        async with self.mem.pipeline() as p:
            for i in range(_EXPIRING):
                p.working.store(f"x{n}:{i}", "due", ttl=_EXPIRY_TTL)
        time.sleep(_EXPIRY_TTL + 0.01)  # every record is due at once, as for the engine
        start = time.perf_counter()
        removed = 0
        with trio.fail_after(60):
            while removed < _EXPIRING:
                removed += await self.mem.sweep(limit=_EXPIRING)
        return (time.perf_counter() - start) / _EXPIRING


class _NaiveAdapter:
    """Cost growth of :class:`NaiveRedisStore` (see the module doc for each op)."""

    def __init__(self, store: NaiveRedisStore) -> None:
        self.store = store

    async def load(self, layout: Layout, index: int) -> int:
        k = index // 2
        user = f"u{k % layout.users}"
        if index % 2 == 0:
            await self.store.create_session(f"s{k}", user, "micro", f"session {k}", {})
        else:
            text, topics = memory_text(k)
            await self.store.upsert_memory(f"m{k}", user, text, topics, "micro")
        return 0

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        k = rnd.randrange(layout.sessions)
        user = f"u{k % layout.users}"
        store, client = self.store, self.store.client
        start = time.perf_counter()
        if op == "get":
            await client.get(store._key("s", f"s{k}"))
        elif op == "upsert":
            await store.create_session(f"s{k}", user, "micro", f"v{n}", {})
        elif op == "list_user_sessions":
            ids = await client.zrange(store._key("us", user), 0, -1)
            if ids:
                await client.mget([store._key("s", sid) for sid in ids])
        elif op == "recent":
            await self._recent()
        elif op == "search_memories":
            await store.search(user, random_query(rnd), 5)
        else:
            raise Unsupported("keys expire inside the server (PX); nothing to sweep")
        return [time.perf_counter() - start]

    async def _recent(self) -> list[dict[str, Any]]:
        """The 10 most recently updated sessions: SCAN every session key, MGET each page."""
        store, client = self.store, self.store.client
        newest: list[dict[str, Any]] = []
        page: list[str] = []
        async for key in client.scan_iter(match=store._key("s", "*"), count=1000):
            page.append(key)
            if len(page) == 1000:
                newest = _top(newest, await client.mget(page))
                page = []
        if page:
            newest = _top(newest, await client.mget(page))
        return newest


def _top(newest: list[dict[str, Any]], blobs: Any) -> list[dict[str, Any]]:
    sessions = [json.loads(blob) for blob in blobs if blob is not None]
    return sorted([*newest, *sessions], key=lambda s: s["updated_at"], reverse=True)[:10]


@asynccontextmanager
async def open_redis_growth_adapter(
    target: str, url: str | None, *, shards: int
) -> AsyncIterator[GrowthAdapter]:
    """A cost-growth adapter on the Redis target ``target`` (fresh prefix, removed on
    exit; the engine's background sweeper is off so ``expiry`` measures ``sweep()``).

    Raises:
        PeerUnavailable: if the server cannot be reached.
        KeyError: for an unknown target.
    """
    if target not in REDIS_TARGETS:
        raise KeyError(target)
    url = url or default_redis_url(target)
    await check_reachable(target, url)
    if target == "redis-naive":
        async with open_naive_redis_target(url) as naive:
            yield _NaiveAdapter(naive.store)
        return
    async with open_redis_engine(
        url,
        cluster=target == "redis-cluster",
        shards=_partitions(target, shards),
        name=target,
        sweep_interval=None,
    ) as mem:
        yield _RedisEngineAdapter(mem)


def redis_scaling_table(result: MicroResult) -> Table:
    """The scaling experiment's Redis targets beside the embedded engine: ops/s and
    p50 / p99 per client count, and ``redis / redis-naive`` (same server, same run)."""
    targets = ("engine", *result.options.redis_targets)
    table = Table(title="single ops on Redis (same records, same server)", box=box.SIMPLE_HEAVY)
    table.add_column("clients", justify="right")
    for target in targets:
        table.add_column(f"{target} ops/s", justify="right")
        table.add_column("p50 / p99", justify="right")
    table.add_column("redis / naive", justify="right")
    for clients in result.options.clients:
        cells = [f"{clients:,}"]
        for target in targets:
            point = result.scaling_point(target, clients)
            if point is None:
                cells += ["-", "-"]
                continue
            cells += [
                f"{point.ops_per_second:,.0f}",
                f"{point.p50_us / 1000:.2f} / {point.p99_us / 1000:.2f} ms",
            ]
        ours, naive = (result.scaling_point(t, clients) for t in ("redis", "redis-naive"))
        ratio = "-"
        if ours is not None and naive is not None and naive.ops_per_second:
            ratio = f"{ours.ops_per_second / naive.ops_per_second:.2f}x"
        table.add_row(*cells, ratio)
    skipped = result.environment.get("skipped", {})
    if skipped:
        table.caption = "; ".join(f"skipped {name}: {why}" for name, why in skipped.items())
    return table
