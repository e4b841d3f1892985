"""The engine on Redis/Valkey: the same facades over a Redis data model.

``open_redis_memory`` yields a :class:`RedisMemoryEngine` whose ``sessions``,
``memories``, ``working`` and ``knowledge`` are the embedded engine's facades
(validation and docs shared); each facade call reaches :class:`RedisRouter`, which runs
its operation's method of ``engine._redis._ops`` in the partition owning the key. See
``docs/scale-out.md``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs
import trio

from actors import single_leaf
from engine._api._checkpoints import Checkpoints
from engine._api._clock import EngineClock
from engine._api._items import Items
from engine._api._knowledge import Knowledge
from engine._api._memories import Memories
from engine._api._sessions import Sessions
from engine._api._working import Working
from engine._core._config import EngineConfig
from engine._core._errors import BackendUnavailable, InvalidArgument
from engine._core._ops import CLEAR, EXPORT, Call
from engine._core._records import KnowledgeDoc, Session, UserMemory, WorkingMemory
from engine._core._snapshot import AnyRecord, Record, build_snapshot, parse_snapshot
from engine._core._statistics import EngineStatistics, ShardStatistics
from engine._core._validate import check_ttl
from engine._redis._client import connect
from engine._redis._conn import Connection
from engine._redis._keys import KeyLayout, check_prefix
from engine._redis._pipeline import RedisPipeline
from engine._redis._restore import restore_records
from engine._redis._router import RedisRouter
from engine._redis._statistics import RedisStatistics

if TYPE_CHECKING:
    from engine._bridge._handles import BlockingEngine

__all__ = ["RedisMemoryEngine", "RedisStatistics", "open_redis_memory"]


class RedisMemoryEngine:
    """A memory engine on Redis. Get one from :func:`open_redis_memory`.

    Attributes:
        sessions, memories, working, knowledge: the same facades as
            :class:`MemoryEngine`'s, with the same semantics.
        config: the :class:`EngineConfig` in force (``shards`` = partitions).
    """

    def __init__(
        self, config: EngineConfig, clock: EngineClock, conn: Connection, cluster: bool
    ) -> None:
        self.config = config
        self._clock = clock
        self._conn = conn
        self._cluster = cluster
        self._router = RedisRouter(config, conn, clock)
        self._sweeps = 0
        self._swept = 0
        self.sessions = Sessions(self._router)
        self.memories = Memories(self._router)
        self.working = Working(self._router)
        self.knowledge = Knowledge(self._router)
        self.items = Items(self._router)
        self.checkpoints = Checkpoints(self._router)

    # ---------------------------------------------------------------- public API

    @property
    def shards(self) -> int:
        """The number of partitions (``config.shards``)."""
        return self.config.shards

    @property
    def closed(self) -> bool:
        """Whether the engine is closed."""
        return self._router.closed

    def now(self) -> float:
        """The engine clock: epoch seconds advancing with trio's clock."""
        return self._clock.now()

    async def drop(self, *, forget: bool = False) -> int:
        """Delete every record of this engine's prefix. Returns how many live records
        there were. Works in batches of 500 records per script call.

        Args:
            forget: also delete the prefix's meta key (its partition count) and the
                partitions' counters, so that nothing of the prefix is left; use it
                last, before closing.

        Raises:
            EngineClosed, BackendUnavailable.
        """
        dropped: int = sum(await self._router.scatter(Call(CLEAR, ())))
        if forget:
            keys = self._conn.keys
            # one key per command: on a cluster the keys live in different slots
            for key in (*(keys.route(p) for p in range(self.config.shards)), keys.meta):
                await self._conn.command(lambda client, key=key: client.delete([key]))
        return dropped

    async def snapshot(self) -> dict[str, Any]:
        """Every live record as one JSON-safe dict (as ``MemoryEngine.snapshot``),
        with each record's TTL under ``"ttls"``; restore it with
        ``open_redis_memory(snapshot=...)`` or ``open_memory_engine(snapshot=...)``.

        Cost: O(records); each partition is read in batches, not frozen.
        """
        dumps = await self._router.scatter(Call(EXPORT, ()))
        return build_snapshot(dumps, self._clock.now())

    def pipeline(self, *, raise_on_error: bool = True) -> RedisPipeline:
        """Queue several operations and send their scripts in one coredis pipeline.

        Use as ``async with mem.pipeline() as p:``, exactly as
        :meth:`MemoryEngine.pipeline`: ``p.sessions.get(...)`` etc. validate at once
        and return a :class:`PipelineResult`; on exit every queued script call goes
        out in one ``pipeline(transaction=False)`` (one round trip per server; a
        multi-call operation such as ``memories.search`` adds a round per call). Each
        operation succeeds or fails on its own; the first error is raised unless
        ``raise_on_error=False``. Each partition runs its operations in queued order.

        Raises:
            TypeError: if ``raise_on_error`` is not a bool.
        """
        return RedisPipeline(self._router, raise_on_error=raise_on_error)

    def blocking(self) -> BlockingEngine:
        """A blocking handle on this engine for the trio app's worker threads; see
        :meth:`MemoryEngine.blocking`."""
        from engine._bridge._open import attach_blocking

        return attach_blocking(self)

    def statistics(self) -> RedisStatistics:
        """Client-side counters. Never blocks; see :meth:`server_statistics`."""
        return RedisStatistics(
            location=self._conn.location,
            cluster=self._cluster,
            partitions=self.config.shards,
            requests=self._conn.requests,
            round_trips=self._conn.round_trips,
            failures=self._conn.failures,
            sweeps=self._sweeps,
            swept=self._swept,
            closed=self._router.closed,
        )

    async def server_statistics(self) -> EngineStatistics:
        """The stored counts, per partition, as the embedded engine's
        :class:`EngineStatistics` (mailbox fields are 0: there are no mailboxes).

        One script call per partition (pipelined per node); each first removes a
        bounded batch of expired records.
        """
        router = self._router
        router.check()
        now = self._clock.now()
        counts = await router.each(lambda p: router.ops.counts(p, now))
        shards = tuple(
            ShardStatistics(
                shard=index,
                store=store,
                mailbox_capacity=0,
                mailbox_depth=0,
                mailbox_peak=0,
                requests=0,
                batches=0,
                errors=0,
                dropped_replies=0,
                timers_fired=0,
            )
            for index, store in enumerate(counts)
        )
        return EngineStatistics(shards=shards, closed=router.closed)

    async def sweep(self, limit: int = 1000) -> int:
        """Remove expired records (and their index entries) now, up to ``limit`` per
        partition; return how many. The background sweeper calls this."""
        router = self._router
        router.check()
        now = self._clock.now()
        removed = sum(await router.each(lambda p: router.ops.sweep(p, now, limit)))
        self._sweeps += 1
        self._swept += removed
        return removed

    async def _serve_sweeper(
        self, interval: float, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        while True:
            await trio.sleep(interval)
            try:
                await self.sweep()
            except BackendUnavailable:
                continue  # the next round retries; calls report the outage themselves

    def _close(self) -> None:
        self._router.closed = True


@asynccontextmanager
async def open_redis_memory(
    url: str = "redis://localhost:6379/0",
    *,
    cluster: bool = False,
    shards: int | None = None,
    config: EngineConfig | None = None,
    prefix: str = "shardmem",
    timeout: float = 5.0,
    sweep_interval: float | None = 1.0,
    sweep_limit: int = 100,
    start_time: float | None = None,
    snapshot: Mapping[str, Any] | None = None,
    username: str | None = None,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[RedisMemoryEngine]:
    """Run a memory engine on Redis/Valkey for the duration of an ``async with`` block.

    The drop-in sibling of :func:`open_memory_engine`: same facades, records, errors
    and semantics; the data lives in Redis and is shared by every process that opens
    the same ``url`` and ``prefix``.

    Args:
        url: ``redis://[user:password@]host:port/db``, ``rediss://...`` or
            ``unix:///path.sock``; for a cluster, any node's address.
        cluster: talk to a Redis Cluster (``coredis.RedisCluster``).
        shards: partitions (hash-tagged key groups); overrides ``config.shards``.
            Fixed when the prefix is first used: reopening with another count
            raises :class:`InvalidArgument`. On a cluster use several per node.
        config: an :class:`EngineConfig` (TTL policies; ``shards``). With
            ``max_memory`` set, the server's ``maxmemory`` (every node's, on a
            cluster) and ``maxmemory-policy`` are set to ``max_memory`` and
            ``eviction_policy`` with ``CONFIG SET``: the budget is then the whole
            server's, and Redis evicts keys, not records (see ``docs/memory.md``).
        prefix: the key prefix; engines with different prefixes never see each
            other's records. No ``{``, ``}`` or NUL.
        timeout: seconds a request (or the initial connection) may take before
            :class:`BackendUnavailable` is raised.
        sweep_interval: seconds between background sweeps of expired records'
            index entries (``None``: no background task; writes and reads still
            sweep a bounded batch each).
        sweep_limit: expired records each script call removes before its work.
        start_time: the engine clock's reading at start (epoch seconds).
        snapshot: a dict from :meth:`MemoryEngine.snapshot` or
            :meth:`RedisMemoryEngine.snapshot` to restore before serving, into a
            prefix that must hold no live records. Records keep their timestamps and
            TTLs and are re-routed (the partition count may differ); records already
            expired are dropped. Validated before connecting.
        username, password: ACL credentials (``AUTH``), for when they should not be
            written into the URL (a credential inside the URL wins, as in coredis).
        ssl_context: connect with TLS using this ``ssl.SSLContext`` (certificates,
            verification), whatever the URL's scheme; ``rediss://`` alone uses
            Python's default context.

    Raises:
        BackendUnavailable: if the server cannot be reached within ``timeout``.
        TypeError, InvalidArgument: for a bad argument or ``snapshot``, a ``shards``
            that differs from the one this prefix was created with, or a ``snapshot``
            given for a prefix that already holds records.
    """
    if config is None:
        config = EngineConfig()
    elif not isinstance(config, EngineConfig):
        raise TypeError(f"config: expected EngineConfig, got {type(config).__name__}")
    if shards is not None:
        config = attrs.evolve(config, shards=shards)
    if not isinstance(url, str):
        raise TypeError(f"url: expected str, got {type(url).__name__}")
    check_prefix(prefix)
    timeout_s = check_ttl("timeout", timeout)
    if timeout_s is None:
        raise InvalidArgument("timeout: expected a finite number of seconds > 0, got None")
    interval = check_ttl("sweep_interval", sweep_interval)
    if type(sweep_limit) is not int or sweep_limit <= 0:
        raise InvalidArgument(f"sweep_limit: expected a positive int, got {sweep_limit!r}")
    records = [] if snapshot is None else _base_records(parse_snapshot(snapshot))
    keys = KeyLayout(prefix, config.shards)
    clock = EngineClock.start(start_time)
    try:
        # the embedded engine bounds each shard's mailbox; here one queue serves all partitions
        capacity = config.mailbox_size * config.shards if config.when_full == "reject" else None
        async with connect(
            url,
            cluster=cluster,
            keys=keys,
            timeout=timeout_s,
            sweep_limit=sweep_limit,
            capacity=capacity,
            credentials=_credentials(username, password, ssl_context),
        ) as conn:
            if config.max_memory is not None:  # first: the claim below is a write
                await conn.command(lambda c: _set_maxmemory(c, config))
            stored = await conn.command(lambda c: _claim_partitions(c, keys))
            if stored != config.shards:
                raise InvalidArgument(
                    f"shards: prefix {prefix!r} holds data in {stored} partitions; "
                    f"open it with shards={stored}, got {config.shards}"
                )
            engine = RedisMemoryEngine(config, clock, conn, cluster)
            if snapshot is not None:
                stored = (await engine.server_statistics()).records
                await restore_records(conn, records, config.shards, clock.now(), stored)
            try:
                async with trio.open_nursery() as nursery:
                    if interval is not None:
                        await nursery.start(engine._serve_sweeper, interval)
                    try:
                        yield engine
                    finally:
                        nursery.cancel_scope.cancel()
            finally:
                engine._close()
    except BaseExceptionGroup as group:
        # coredis' client runs a task group; a start-up failure (server unreachable,
        # wrong shards) comes wrapped in it. Raise it as itself, as documented.
        # The body's own error, too, comes out as itself (like open_memory_engine).
        leaf = single_leaf(group)
        if leaf is None:
            raise
        raise leaf from leaf.__cause__


def _credentials(username: object, password: object, ssl_context: object) -> dict[str, Any]:
    """The client options for credentials and TLS given as arguments, checked."""
    options: dict[str, Any] = {}
    for name, value in (("username", username), ("password", password)):
        if value is not None:
            if not isinstance(value, str):
                raise TypeError(f"{name}: expected str or None, got {type(value).__name__}")
            options[name] = value
    if ssl_context is not None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(
                f"ssl_context: expected ssl.SSLContext or None, got {type(ssl_context).__name__}"
            )
        options["ssl_context"] = ssl_context
    return options


async def _set_maxmemory(client: Any, config: EngineConfig) -> None:
    """``CONFIG SET maxmemory`` and ``maxmemory-policy`` from ``config``."""
    await client.config_set(
        {"maxmemory": str(config.max_memory), "maxmemory-policy": config.eviction_policy}
    )


async def _claim_partitions(client: Any, keys: KeyLayout) -> int:
    await client.hsetnx(keys.meta, "partitions", str(keys.partitions))
    return int(await client.hget(keys.meta, "partitions"))


def _base_records(
    records: list[tuple[AnyRecord, float | None]],
) -> list[tuple[Record, float | None]]:
    """The records a Redis snapshot restore supports; LangGraph's are refused."""
    base: list[tuple[Record, float | None]] = []
    for record, ttl in records:
        if not isinstance(record, Session | UserMemory | WorkingMemory | KnowledgeDoc):
            raise InvalidArgument(
                f"snapshot: restoring {type(record).__name__} records into Redis is not "
                "supported yet; restore them into an embedded engine"
            )
        base.append((record, ttl))
    return base
