"""The shardmem engine as a benchmark target (through its public API only)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs

from bench._targets._engine_run import memory_of, run_of
from bench._targets._protocol import MemoryWrite, TargetCounts
from engine import MemoryEngine, Session, UserMemory, open_memory_engine

__all__ = ["EngineTarget", "open_engine_target"]


@asynccontextmanager
async def open_engine_target(
    shards: int = 4,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    fsync: str | None = None,
) -> AsyncIterator[EngineTarget]:
    """Open an embedded engine with ``shards`` shards and yield it as a target.

    The engine closes when the block exits (a durable one fsyncs its journals and
    finishes its snapshot writes first).

    Args:
        shards: Engine shards.
        data_dir: Make the engine durable, journaling into this directory
            (``open_memory_engine(data_dir=...)``); ``None``: in memory only.
        fsync: The journal's fsync policy (``"always"``, ``"everysec"``, ``"no"``);
            ``None``: the engine's default. Only with ``data_dir``.
    """
    async with open_memory_engine(shards=shards, data_dir=data_dir, fsync=fsync) as engine:
        yield EngineTarget(engine)


@attrs.define(eq=False)
class EngineTarget:
    """Adapts :class:`engine.MemoryEngine` to :class:`bench.Target`.

    Each method is one engine call; reads and writes pass ``user_id`` so they are
    ownership-scoped, as an application serving many users would do. It is a
    :class:`bench.PipelinedTarget`: a turn's reads, and its writes, go as one
    ``mem.pipeline()`` each.

    Attributes:
        engine: a :class:`engine.MemoryEngine`, or any engine with the same facades
            and ``pipeline()`` (the Redis targets pass a ``RedisMemoryEngine``).
        label: the target's name in reports (default ``"engine"``).
    """

    engine: MemoryEngine | Any
    label: str = attrs.field(default="engine", kw_only=True)

    @property
    def name(self) -> str:
        """The ``label`` (``"engine"`` for the embedded engine)."""
        return self.label

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        """``mem.sessions.upsert`` of an empty agent session."""
        await self.engine.sessions.upsert(
            Session(
                session_id=session_id,
                user_id=user_id,
                agent_id=agent_id,
                name=name,
                metadata=dict(metadata),
            )
        )

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        """``mem.sessions.messages(session_id, last_n_runs=...)``; returns the count."""
        messages = await self.engine.sessions.messages(
            session_id, last_n_runs=last_n_runs, user_id=user_id
        )
        return len(messages)

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        """``mem.memories.search(user_id, query=..., limit=...)``; returns the count."""
        found = await self.engine.memories.search(user_id, query=query, limit=limit)
        return len(found)

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        """``mem.sessions.append_run`` with one :class:`engine.Message` per triple."""
        run = run_of(run_id, messages)
        await self.engine.sessions.append_run(session_id, run, user_id=user_id)

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        """``mem.working.store(session_id, data, ttl=ttl)``."""
        await self.engine.working.store(session_id, data, ttl=ttl)

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        """``mem.memories.upsert`` of a :class:`engine.UserMemory`."""
        await self.engine.memories.upsert(
            UserMemory(
                memory_id=memory_id,
                user_id=user_id,
                memory=memory,
                topics=topics,
                agent_id=agent_id,
            )
        )

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        """``mem.sessions.set_summary(session_id, summary, topics=...)``."""
        await self.engine.sessions.set_summary(session_id, summary, topics=topics, user_id=user_id)

    async def read_turn(
        self, *, session_id: str, user_id: str, last_n_runs: int, query: str, limit: int
    ) -> tuple[int, int]:
        """``messages`` and ``memories.search`` in one ``mem.pipeline()``."""
        async with self.engine.pipeline() as p:
            messages = p.sessions.messages(session_id, last_n_runs=last_n_runs, user_id=user_id)
            found = p.memories.search(user_id, query=query, limit=limit)
        return len(messages.result()), len(found.result())

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
        """``append_run``, ``working.store`` (and ``memories.upsert``) in one pipeline."""
        async with self.engine.pipeline() as p:
            p.sessions.append_run(session_id, run_of(run_id, messages), user_id=user_id)
            p.working.store(session_id, working, ttl=working_ttl)
            if memory is not None:
                p.memories.upsert(memory_of(memory))

    def counts(self) -> TargetCounts:
        """From ``mem.statistics()``."""
        return TargetCounts.of(self.engine.statistics())

    def details(self) -> dict[str, object]:
        """``mem.statistics()`` as a JSON-safe dict: per shard, plus engine-wide totals."""
        stats = self.engine.statistics()
        details: dict[str, object] = attrs.asdict(stats)
        details["requests"] = stats.requests
        details["mailbox_peak"] = stats.mailbox_peak
        return details
