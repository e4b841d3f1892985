"""Frozen statistics snapshots of shards and of the engine."""

from __future__ import annotations

import attrs

__all__ = ["EngineStatistics", "ShardStatistics", "StoreCounts"]


@attrs.frozen(kw_only=True)
class StoreCounts:
    """What one shard's store holds and has expired.

    Attributes:
        sessions, runs, memories, working, knowledge: live records (``runs`` counts
            the runs inside the sessions).
        expiry_entries: records with a deadline.
        next_deadline: the earliest deadline (epoch seconds) or ``None``.
        expired_sessions, expired_memories, expired_working, expired_knowledge:
            records removed because their TTL passed (by the sweep or on access).
        used_memory: bytes the shard's records account for (payload plus a fixed
            overhead per record; see ``EngineConfig.max_memory``).
        max_memory: the shard's budget in bytes, or ``None``.
        evicted: records (a session with its runs is one) evicted for the budget.
    """

    sessions: int
    runs: int
    memories: int
    working: int
    knowledge: int
    expiry_entries: int
    next_deadline: float | None
    expired_sessions: int
    expired_memories: int
    expired_working: int
    expired_knowledge: int
    used_memory: int = 0
    max_memory: int | None = None
    evicted: int = 0

    @property
    def records(self) -> int:
        """Live records of every kind (runs not counted separately)."""
        return self.sessions + self.memories + self.working + self.knowledge

    @property
    def expired(self) -> int:
        """Records of every kind removed by TTL."""
        return (
            self.expired_sessions
            + self.expired_memories
            + self.expired_working
            + self.expired_knowledge
        )


@attrs.frozen(kw_only=True)
class ShardStatistics:
    """One shard: its store counts and its mailbox.

    Attributes:
        shard: the shard's index.
        store: the :class:`StoreCounts`.
        mailbox_capacity, mailbox_depth, mailbox_peak: the mailbox's bound, current
            depth and the largest batch the owner found at a wake-up (requests).
        requests, batches, errors, dropped_replies: requests served, wake-ups that
            served any, requests whose handler raised, replies to departed clients.
        timers_fired: expiry sweeps' records removed.
        commits: batches committed to the journal (durable engines; else 0).
        fsyncs: journal fsyncs (durable engines; else 0).
        journal_entries: the journal's last sequence number (durable engines; else 0).
    """

    shard: int
    store: StoreCounts
    mailbox_capacity: int
    mailbox_depth: int
    mailbox_peak: int
    requests: int
    batches: int
    errors: int
    dropped_replies: int
    timers_fired: int
    commits: int = 0
    fsyncs: int = 0
    journal_entries: int = 0


@attrs.frozen(kw_only=True)
class EngineStatistics:
    """The whole engine: per-shard statistics and their totals.

    Attributes:
        shards: one :class:`ShardStatistics` per shard, in shard order.
        closed: whether the engine is closed.
    """

    shards: tuple[ShardStatistics, ...]
    closed: bool

    def _total(self, name: str) -> int:
        return sum(getattr(shard.store, name) for shard in self.shards)

    @property
    def sessions(self) -> int:
        """Live sessions."""
        return self._total("sessions")

    @property
    def runs(self) -> int:
        """Runs inside live sessions."""
        return self._total("runs")

    @property
    def memories(self) -> int:
        """Live user memories."""
        return self._total("memories")

    @property
    def working(self) -> int:
        """Live working-memory entries."""
        return self._total("working")

    @property
    def knowledge(self) -> int:
        """Live knowledge documents."""
        return self._total("knowledge")

    @property
    def records(self) -> int:
        """Live records of every kind."""
        return self._total("records")

    @property
    def expired(self) -> int:
        """Records removed by TTL, every kind."""
        return self._total("expired")

    @property
    def used_memory(self) -> int:
        """Bytes the records account for, every shard (see ``EngineConfig.max_memory``)."""
        return self._total("used_memory")

    @property
    def evicted(self) -> int:
        """Records evicted for the memory budget, every shard."""
        return self._total("evicted")

    @property
    def requests(self) -> int:
        """Requests served by all shards."""
        return sum(shard.requests for shard in self.shards)

    @property
    def mailbox_peak(self) -> int:
        """The largest mailbox batch seen by any shard."""
        return max((shard.mailbox_peak for shard in self.shards), default=0)
