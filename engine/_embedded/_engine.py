"""The engine: shards on actors, the four facades, and ``open_memory_engine``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import trio

from actors import Actor, ActorRef, unwrap_single_error
from engine._api._checkpoints import Checkpoints
from engine._api._clock import EngineClock
from engine._api._items import Items
from engine._api._knowledge import Knowledge
from engine._api._memories import Memories
from engine._api._pipeline import Pipeline
from engine._api._sessions import Sessions
from engine._api._working import Working
from engine._core._config import EngineConfig
from engine._core._errors import EngineClosed
from engine._core._ops import CLEAR, EXPORT, Call, Compact
from engine._core._routing import shard_of
from engine._core._snapshot import build_snapshot, parse_snapshot, routing_key
from engine._core._statistics import EngineStatistics, ShardStatistics
from engine._durable._data_dir import DataDir
from engine._durable._journal import ShardJournal
from engine._durable._recovery import recover
from engine._embedded._durable_shard import DurableShard
from engine._embedded._router import ShardRouter
from engine._embedded._shard import ShardBehaviour
from engine._store._store import ShardStore

if TYPE_CHECKING:
    from engine._bridge._handles import BlockingEngine

__all__ = ["MemoryEngine", "open_memory_engine"]


class MemoryEngine:
    """A running engine. Get one from :func:`open_memory_engine`.

    Attributes:
        sessions: :class:`Sessions` — sessions, runs, messages, summaries.
        memories: :class:`Memories` — user memories with topics and search.
        working: :class:`Working` — working memory with a TTL.
        knowledge: :class:`Knowledge` — the knowledge registry.
        items: :class:`Items` — namespaced JSON items (LangGraph's store).
        checkpoints: :class:`Checkpoints` — LangGraph checkpoints per thread.
        config: the :class:`EngineConfig` in force.
    """

    def __init__(
        self,
        config: EngineConfig,
        clock: EngineClock,
        stores: list[ShardStore],
        refs: list[ActorRef],
        journals: list[ShardJournal],
    ) -> None:
        self.config = config
        self._clock = clock
        self._stores = stores
        self._router = ShardRouter(config, refs)
        self._journals = journals
        self.sessions = Sessions(self._router)
        self.memories = Memories(self._router)
        self.working = Working(self._router)
        self.knowledge = Knowledge(self._router)
        self.items = Items(self._router)
        self.checkpoints = Checkpoints(self._router)

    # ---------------------------------------------------------------- public API

    @property
    def shards(self) -> int:
        """The number of shards."""
        return len(self._router.refs)

    @property
    def closed(self) -> bool:
        """Whether the engine is closed."""
        return self._router.closed

    def now(self) -> float:
        """The engine clock: epoch seconds advancing with trio's clock."""
        return self._clock.now()

    async def drop(self) -> int:
        """Delete every record of every kind. Returns how many live records there were.

        Raises:
            EngineClosed: if the engine is closed.
        """
        counts = await self._router.scatter(Call(CLEAR, ()))
        return sum(counts)

    async def snapshot(self) -> dict[str, Any]:
        """Every live record as one JSON-safe dict (see ``open_memory_engine(snapshot=)``).

        Each shard dumps its records in one request, so each shard's part is
        consistent; shards are not frozen together (writes to other shards may land
        between two shards' dumps). Cost: O(records).

        Raises:
            EngineClosed: if the engine is closed.
        """
        dumps = await self._router.scatter(Call(EXPORT, ()))
        return build_snapshot(dumps, self._clock.now())

    def pipeline(self, *, raise_on_error: bool = True) -> Pipeline:
        """Queue operations and send them as one request per shard on exit.

        Use as ``async with mem.pipeline() as p:``; see :class:`Pipeline`.
        """
        return Pipeline(self._router, raise_on_error=raise_on_error)

    async def compact(self) -> int:
        """Ask every shard of a durable engine to compact its journal into a snapshot.

        Each shard starts a new journal segment at once and writes its snapshot in
        the background; closing the engine waits for those writes. Returns the number
        of shards asked.

        Raises:
            InvalidArgument: if the engine has no ``data_dir``.
            EngineClosed: if the engine is closed.
        """
        await self._router.scatter(Compact())
        return len(self._router.refs)

    def blocking(self) -> BlockingEngine:
        """A blocking handle on this engine for the trio app's worker threads.

        Call it inside the trio run; its calls run as tasks of this run (see
        ``docs/blocking.md``). Closing the handle detaches it only.
        """
        from engine._bridge._open import attach_blocking

        return attach_blocking(self)

    def statistics(self) -> EngineStatistics:
        """A frozen snapshot of every shard's counts and mailbox. Never blocks.

        It reads counters only (atomic under trio's single thread). O(shards).
        """
        shards = []
        refs = self._router.refs
        journals: list[ShardJournal | None] = [*self._journals] or [None] * len(refs)
        for index, (store, ref, journal) in enumerate(
            zip(self._stores, refs, journals, strict=True)
        ):
            mailbox = ref.statistics()
            shards.append(
                ShardStatistics(
                    shard=index,
                    store=store.counts(),
                    mailbox_capacity=mailbox.mailbox_capacity,
                    mailbox_depth=mailbox.mailbox_depth,
                    mailbox_peak=mailbox.mailbox_peak,
                    requests=mailbox.requests,
                    batches=mailbox.batches,
                    errors=mailbox.errors,
                    dropped_replies=mailbox.dropped_replies,
                    timers_fired=mailbox.timers_fired,
                    commits=mailbox.commits,
                    fsyncs=0 if journal is None else journal.fsyncs,
                    journal_entries=0 if journal is None else journal.seq,
                )
            )
        return EngineStatistics(shards=tuple(shards), closed=self._router.closed)

    def _close(self) -> None:
        self._router.close()


@asynccontextmanager
async def open_memory_engine(
    shards: int | None = None,
    *,
    config: EngineConfig | None = None,
    snapshot: Mapping[str, Any] | None = None,
    start_time: float | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    fsync: str | None = None,
) -> AsyncIterator[MemoryEngine]:
    """Run a memory engine for the duration of an ``async with`` block.

    Starts one owner task per shard. On exit, new calls raise :class:`EngineClosed`
    and the block waits until every shard has served the requests already queued.
    An exception raised in the block reaches the caller as itself (not wrapped in an
    ``ExceptionGroup``).

    Args:
        shards: number of shards (>= 1); overrides ``config.shards``. Default 4.
        config: an :class:`EngineConfig`; default ``EngineConfig()``.
        snapshot: a dict from :meth:`MemoryEngine.snapshot` to restore before serving.
            Records are re-routed, so the shard count may differ; records already
            expired are dropped. With a ``data_dir`` it must be empty.
        start_time: the engine clock's reading at start (epoch seconds); default
            ``time.time()``. Tests pin it for exact timestamps.
        data_dir: make the engine durable: each shard journals its writes there and
            the engine recovers from it (snapshot + journal replay) before serving.
            See ``docs/durability.md``.
        fsync: ``"always"``, ``"everysec"`` or ``"no"``; overrides ``config.fsync``.

    Raises:
        TypeError, InvalidArgument: for a bad ``shards``, ``config``, ``snapshot`` or
            ``fsync`` (checked before any task starts).
        JournalCorrupt: if the data directory is damaged beyond a torn tail.
        BlockingIOError: if another engine holds ``data_dir``.
    """
    if config is None:
        config = EngineConfig()
    elif not isinstance(config, EngineConfig):
        raise TypeError(f"config: expected EngineConfig, got {type(config).__name__}")
    if shards is not None:
        config = attrs.evolve(config, shards=shards)
    if fsync is not None:
        config = attrs.evolve(config, fsync=fsync)
    records = [] if snapshot is None else parse_snapshot(snapshot)
    clock = EngineClock.start(start_time)
    if data_dir is None:
        stores = [ShardStore(config) for _ in range(config.shards)]
        _load(stores, records, clock.now())
        async with _serve(config, clock, stores, None) as engine:
            yield engine
        return
    directory = await trio.to_thread.run_sync(DataDir.open, data_dir)
    try:
        generation, recovered = await trio.to_thread.run_sync(
            partial(recover, directory, config, clock.now(), restore=records)
        )
        stores = [shard.store for shard in recovered]
        async with _serve(config, clock, stores, (directory, generation, recovered)) as engine:
            yield engine
    finally:
        directory.close()


def _load(stores: list[ShardStore], records: list[Any], now: float) -> None:
    """Load ``(record, ttl)`` pairs into the stores that own them."""
    for record, ttl in records:
        stores[shard_of(routing_key(record), len(stores))].load(now, record, ttl)


@asynccontextmanager
async def _serve(
    config: EngineConfig,
    clock: EngineClock,
    stores: list[ShardStore],
    durable: tuple[DataDir, int, list[Any]] | None,
) -> AsyncIterator[MemoryEngine]:
    """Start one owner per store (journaled if ``durable``), yield the engine, stop."""
    with unwrap_single_error():
        async with trio.open_nursery() as background:
            journals: list[ShardJournal] = []
            async with trio.open_nursery() as nursery:
                refs: list[ActorRef] = []
                engine: MemoryEngine | None = None
                try:
                    for index, store in enumerate(stores):
                        behaviour: ShardBehaviour
                        if durable is None:
                            behaviour = ShardBehaviour(store, clock)
                        else:
                            journal = await _open_journal(config, durable, index)
                            journals.append(journal)
                            if config.fsync == "everysec":
                                await background.start(journal.run_everysec)
                            behaviour = DurableShard(
                                store,
                                clock,
                                journal,
                                nursery.start_soon,
                                compact_factor=config.compact_factor,
                                compact_min_bytes=config.compact_min_bytes,
                            )
                        actor = Actor(
                            behaviour,
                            mailbox_size=config.mailbox_size,
                            timer_batch=config.timer_batch,
                            max_batch=config.max_batch,
                            closed_error=_engine_closed,
                        )
                        refs.append(await nursery.start(actor.serve))
                    engine = MemoryEngine(config, clock, stores, refs, journals)
                    yield engine
                finally:
                    if engine is not None:
                        engine._close()
                    for ref in refs:
                        ref.close()
            for journal in journals:
                await journal.close()  # fsyncs; a later everysec sync() is a no-op
            background.cancel_scope.cancel()


def _engine_closed(_: str) -> EngineClosed:
    """The error of a request to a closed shard (what the engine's clients catch)."""
    return EngineClosed("the engine is closed")


async def _open_journal(
    config: EngineConfig, durable: tuple[DataDir, int, list[Any]], index: int
) -> ShardJournal:
    directory, generation, recovered = durable
    shard = recovered[index]
    journal = ShardJournal(
        directory.files(generation, index),
        shards=config.shards,
        seq=shard.seq,
        segment=shard.next_segment,
        fsync=config.fsync,
        journal_bytes=shard.journal_bytes,
        snapshot_bytes=shard.snapshot_bytes,
        on_segment=partial(directory.record_segment, generation, index),
    )
    await journal.open()
    return journal
