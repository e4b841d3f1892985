"""The reference design the engine replaces: one store behind one ``trio.Lock``.

:class:`LockStore` holds a single :class:`engine.ShardStore` — the very data structures
and indexes the engine's shards use (session table with its by-user/by-component
ordered indexes, memory table with its keyword index, working memory, the expiry index)
— and serves every operation inline in the calling task under one :class:`trio.Lock`.
An active sweeper task removes expired records at their deadline, in bounded batches,
taking the same lock. So the only difference from the engine is the concurrency
design: a global lock instead of sharded owner tasks with mailboxes.

The target builds the same records (:class:`engine.Session`, :class:`engine.Run`, ...) as
the engine target, so both pay the same validation and copying costs.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import trio

from bench._targets._engine_run import memory_of, run_of
from bench._targets._protocol import MemoryWrite, TargetCounts
from engine import (
    EngineConfig,
    Session,
    SessionSummary,
    ShardStore,
    UserMemory,
    WorkingMemory,
)

__all__ = ["LockStore", "LockTarget", "open_lock_store", "open_lock_target"]

_T = TypeVar("_T")


class LockStore:
    """One :class:`engine.ShardStore` guarded by one :class:`trio.Lock`.

    Use :func:`open_lock_store` (it runs the expiry sweeper). :meth:`call` is the only
    way in: ``await store.call(ShardStore.get_session, session_id, None, None)`` runs
    ``method(store, now, *args)`` while holding the lock. Acquiring the lock is a
    checkpoint, so every call yields once, like a call to the engine does.

    Args:
        config: TTL policies per kind (the engine's :class:`engine.EngineConfig`).
        timer_batch: Most records the sweeper expires per lock acquisition.
    """

    def __init__(self, config: EngineConfig | None = None, *, timer_batch: int = 256) -> None:
        self.config = config if config is not None else EngineConfig()
        self.store = ShardStore(self.config)
        self.lock = trio.Lock()
        self.requests = 0
        self.sweeps = 0
        self._timer_batch = timer_batch
        self._epoch = time.time()
        self._trio_anchor = trio.current_time()
        self._sweep_at = math.inf  # the engine-time deadline the sweeper sleeps until
        self._wake = trio.Event()

    def now(self) -> float:
        """Epoch seconds advancing with trio's clock (as the engine's clock)."""
        return self._epoch + (trio.current_time() - self._trio_anchor)

    async def call(self, method: Callable[..., _T], *args: Any) -> _T:
        """Run ``method(store, now, *args)`` under the lock; return its result.

        Raises:
            Exception: whatever ``method`` raised (the store is left as it was).
        """
        async with self.lock:
            self.requests += 1
            result = method(self.store, self.now(), *args)
            deadline = self.store.next_deadline()
            if deadline is not None and deadline < self._sweep_at:
                self._wake.set()
            return result

    async def call_many(
        self, calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]
    ) -> list[Any]:
        """Run each ``(method, args)`` as :meth:`call` does, in order, under one lock
        acquisition (the lock store's batch: one checkpoint for the lot).

        Raises:
            Exception: the first call's error; the calls before it have taken effect,
            the ones after it have not run.
        """
        async with self.lock:
            self.requests += len(calls)
            now = self.now()
            store = self.store
            try:
                return [method(store, now, *args) for method, args in calls]
            finally:
                deadline = store.next_deadline()
                if deadline is not None and deadline < self._sweep_at:
                    self._wake.set()

    async def run_sweeper(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Expire records at their deadline until cancelled (start with ``nursery.start``).

        Sleeps until the earliest deadline (or until a write brings an earlier one),
        then removes due records in batches of ``timer_batch``, re-taking the lock for
        each batch so that clients interleave.
        """
        task_status.started()
        while True:
            deadline = self.store.next_deadline()
            self._sweep_at = math.inf if deadline is None else deadline
            self._wake = trio.Event()
            if deadline is None:
                await self._wake.wait()
                continue
            with trio.move_on_at(self._trio_anchor + deadline - self._epoch):
                await self._wake.wait()
                continue
            while True:
                async with self.lock:
                    removed = self.store.expire_due(self.now(), self._timer_batch)
                self.sweeps += 1
                if removed < self._timer_batch:
                    break


@asynccontextmanager
async def open_lock_store(config: EngineConfig | None = None) -> AsyncIterator[LockStore]:
    """A :class:`LockStore` with its sweeper running for the duration of the block."""
    store = LockStore(config)
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run_sweeper)
        try:
            yield store
        finally:
            nursery.cancel_scope.cancel()


@asynccontextmanager
async def open_lock_target() -> AsyncIterator[LockTarget]:
    """Open a :class:`LockStore` and yield it as a benchmark target."""
    async with open_lock_store() as store:
        yield LockTarget(store)


class LockTarget:
    """Adapts :class:`LockStore` to :class:`bench.Target`: one locked store call per op.

    As a :class:`bench.PipelinedTarget` it runs a turn's reads, and its writes, under
    one lock acquisition each (the lock design's batch).

    The calls are the ones the engine's facades make on a shard (``upsert_session``,
    ``get_messages``, ``search_memories`` with ``"keyword"``, ``append_run``,
    ``store_working``, ``upsert_memory``, ``set_summary``), all scoped by ``user_id``.
    """

    def __init__(self, store: LockStore) -> None:
        self.store = store

    @property
    def name(self) -> str:
        """``"lock"``."""
        return "lock"

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        """``ShardStore.upsert_session`` of an empty agent session."""
        session = Session(
            session_id=session_id,
            user_id=user_id,
            agent_id=agent_id,
            name=name,
            metadata=dict(metadata),
        )
        await self.store.call(ShardStore.upsert_session, session, None)

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        """``ShardStore.get_messages`` of the last runs; returns the count."""
        messages = await self.store.call(
            ShardStore.get_messages, session_id, last_n_runs, None, user_id
        )
        return len(messages)

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        """``ShardStore.search_memories`` (BM25 keyword ranking); returns the count."""
        found = await self.store.call(ShardStore.search_memories, user_id, query, "keyword", limit)
        return len(found)

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        """``ShardStore.append_run`` with one :class:`engine.Message` per triple."""
        run = run_of(run_id, messages)
        await self.store.call(ShardStore.append_run, session_id, run, user_id)

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        """``ShardStore.store_working`` with a TTL."""
        record = WorkingMemory(conversation_id=session_id, data=data)
        await self.store.call(ShardStore.store_working, record, ttl)

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        """``ShardStore.upsert_memory`` of a :class:`engine.UserMemory`."""
        record = UserMemory(
            memory_id=memory_id, user_id=user_id, memory=memory, topics=topics, agent_id=agent_id
        )
        await self.store.call(ShardStore.upsert_memory, record, None)

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        """``ShardStore.set_summary``."""
        value = SessionSummary(summary=summary, topics=topics)
        await self.store.call(ShardStore.set_summary, session_id, value, user_id)

    async def read_turn(
        self, *, session_id: str, user_id: str, last_n_runs: int, query: str, limit: int
    ) -> tuple[int, int]:
        """``get_messages`` and ``search_memories`` under one lock acquisition."""
        messages, found = await self.store.call_many(
            [
                (ShardStore.get_messages, (session_id, last_n_runs, None, user_id)),
                (ShardStore.search_memories, (user_id, query, "keyword", limit)),
            ]
        )
        return len(messages), len(found)

    async def write_turn(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
        working: str,
        working_ttl: float,
        memory: MemoryWrite | None,
    ) -> None:
        """``append_run``, ``store_working`` (and ``upsert_memory``) under one acquisition."""
        calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
            (ShardStore.append_run, (session_id, run_of(run_id, messages), user_id)),
            (
                ShardStore.store_working,
                (WorkingMemory(conversation_id=session_id, data=working), working_ttl),
            ),
        ]
        if memory is not None:
            calls.append((ShardStore.upsert_memory, (memory_of(memory), None)))
        await self.store.call_many(calls)

    def counts(self) -> TargetCounts:
        """From ``ShardStore.counts()``."""
        return TargetCounts.of(self.store.store.counts())

    def details(self) -> dict[str, object]:
        """Requests served and sweeper wake-ups."""
        return {"requests": self.store.requests, "sweeps": self.store.sweeps}
