"""What a benchmark target must provide: the per-turn operations of an agent's memory.

The workload (``bench._replay._workload``) only speaks to a :class:`Target`, so the same replay can
drive the shardmem engine today and peers (Agno, LangGraph, a lock-based store, Redis)
later: each peer is a small adapter module with an ``open_*_target`` context manager.
Arguments are plain strings and tuples so that a target pays for building its own records,
exactly like an application using that store would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol, runtime_checkable

import attrs

__all__ = [
    "OPERATIONS",
    "PIPELINE_BATCHES",
    "WRITE_OPERATIONS",
    "MemoryWrite",
    "PipelinedTarget",
    "Target",
    "TargetCounts",
]

#: The operation names, in the order an agent first performs them (used for reports).
OPERATIONS: Final = (
    "create_session",
    "read_history",
    "search_memories",
    "append_run",
    "store_working",
    "upsert_memory",
    "set_summary",
)

#: The operations that change the store (a durable engine journals each of them).
WRITE_OPERATIONS: Final = (
    "create_session",
    "append_run",
    "store_working",
    "upsert_memory",
    "set_summary",
)

#: The operations that share one call of a :class:`PipelinedTarget`, by method: each gets
#: the batch's latency, so their rows in a report are equal by construction.
PIPELINE_BATCHES: Final = {
    "read_turn": ("read_history", "search_memories"),
    "write_turn": ("append_run", "store_working", "upsert_memory"),
}


@attrs.frozen(kw_only=True)
class TargetCounts:
    """What a target holds at a point in time (live records) and how many expired.

    Attributes:
        sessions: Live sessions.
        runs: Runs stored in live sessions.
        memories: Live user memories.
        working: Live working-memory records.
        records: All live records, as the target counts them (sessions, memories, working
            memory, knowledge docs; runs live inside their session).
        expired: Records removed because their TTL passed, since the target opened.
    """

    sessions: int
    runs: int
    memories: int
    working: int
    records: int
    expired: int

    @classmethod
    def of(cls, counts: Any) -> TargetCounts:
        """From anything with these six attributes: the engine's ``statistics()`` (or
        a Redis engine's ``server_statistics()``), or a ``ShardStore``'s ``counts()``."""
        return cls(
            sessions=counts.sessions,
            runs=counts.runs,
            memories=counts.memories,
            working=counts.working,
            records=counts.records,
            expired=counts.expired,
        )


class Target(Protocol):
    """The operations one agent performs against a memory store.

    Every method is an ``async def`` that checkpoints; an exception propagates to the
    workload (and fails the run: a benchmark does not hide errors). Latency is measured
    by the caller around each call, so a method should do exactly one logical operation.
    """

    @property
    def name(self) -> str:
        """A short name for reports, e.g. ``"engine"``."""
        ...

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        """Create (upsert) an empty session owned by ``user_id``."""
        ...

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        """Read the messages of the session's last ``last_n_runs`` runs.

        Returns:
            The number of messages read.
        """
        ...

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        """Search ``user_id``'s memories for ``query`` (keyword ranking), at most ``limit``.

        Returns:
            The number of memories found.
        """
        ...

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        """Append a run (upsert by ``run_id``) to the session.

        Args:
            session_id: The session.
            user_id: The session's owner (scopes the write).
            run_id: The run's id, unique in the session.
            messages: ``(role, content, name)`` triples; role is ``"user"`` or
                ``"assistant"``, name is the speaker's user id.
        """
        ...

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        """Store (replace) the session's working memory, expiring ``ttl`` seconds later."""
        ...

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        """Create or replace one user memory (by ``memory_id``)."""
        ...

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        """Set the session's summary."""
        ...

    def counts(self) -> TargetCounts:
        """What the target holds now (synchronous, cheap)."""
        ...

    def details(self) -> dict[str, object]:
        """Target-specific statistics for the JSON report (JSON-safe values)."""
        ...


@attrs.frozen(kw_only=True)
class MemoryWrite:
    """The arguments of one :meth:`Target.upsert_memory`, for :meth:`PipelinedTarget.write_turn`."""

    memory_id: str
    user_id: str
    memory: str
    topics: tuple[str, ...]
    agent_id: str


@runtime_checkable
class PipelinedTarget(Protocol):
    """A target that can send one turn's reads, and one turn's writes, as one batch.

    The workload uses these instead of the single-operation methods when the target
    has them and pipelining is on (``shardmem bench``'s default; ``--no-pipeline``
    turns it off). Each method must have exactly the effect of the single-operation
    calls it replaces, in the same order. A store with a batch API (the engine's
    ``mem.pipeline()``) uses it; the ``lock`` store takes its lock once per batch.
    """

    async def read_turn(
        self, *, session_id: str, user_id: str, last_n_runs: int, query: str, limit: int
    ) -> tuple[int, int]:
        """:meth:`Target.read_history` and :meth:`Target.search_memories` in one batch.

        Returns:
            ``(messages read, memories found)``.
        """
        ...

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
        """:meth:`Target.append_run`, :meth:`Target.store_working` and, when ``memory``
        is given, :meth:`Target.upsert_memory`, in one batch and in that order."""
        ...
