"""The pure shard store: one shard's records, indexes, TTLs and counters.

No trio, no actors: every method takes ``now`` (epoch seconds) and never reads a
clock. Only the shard's owner task calls it. A method validates everything before it
mutates anything, so a request that raises leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from engine._core._item_rows import item_of
from engine._core._items import ChannelBlob, Checkpoint, Item, PendingWrite
from engine._core._records import (
    KnowledgeDoc,
    Session,
    UserMemory,
    WorkingMemory,
)
from engine._core._rows import EXPIRES, UPDATED, doc_of, memory_of, row_of, session_of, working_of
from engine._core._statistics import StoreCounts
from engine._store._base import ACCOUNTED, KNOWLEDGE, MEMORY, SESSION, WORKING
from engine._store._checkpoints import CheckpointOps
from engine._store._eviction import row_cost
from engine._store._items import ITEM, THREAD, ItemOps
from engine._store._knowledge import KnowledgeOps
from engine._store._memories import MemoryOps
from engine._store._sessions import SessionOps
from engine._store._working import WorkingOps

__all__ = ["KNOWLEDGE", "MEMORY", "SESSION", "WORKING", "ShardStore"]


class ShardStore(SessionOps, MemoryOps, WorkingOps, KnowledgeOps, ItemOps, CheckpointOps):
    """Everything one shard holds: sessions, user memories, working memory, knowledge,
    namespaced items and checkpoint threads.

    Args:
        config: the engine configuration (TTL policies per kind).

    Every record with a deadline is in the :class:`ExpiryIndex`; an expired record is
    invisible at once (checked on access) and removed by :meth:`expire_due`, which
    also cleans every secondary index.
    """

    def clear(self, now: float) -> int:
        """Remove every record; return how many live records there were. O(n).

        Records already past their deadline but not yet swept count as expired.
        """
        count = 0
        for kind in (SESSION, MEMORY, WORKING, KNOWLEDGE):
            records = self._records_of(kind).values()
            alive = sum(self._alive(record, now) for record in records)
            self._expired[kind] += len(records) - alive
            count += alive
        self.sessions.clear()
        self.memories.clear()
        self.working.clear()
        self.knowledge.clear()
        count += sum(self._alive(row, now) for row in self.items.records.values())
        self.items.clear()
        self.threads.clear()
        self.expiry.clear()
        self._ttls.clear()
        self._eviction.clear()
        self.used_memory = 0
        return count

    def dump(self, now: float) -> dict[str, list[Any]]:
        """Every live record, by kind (``sessions``, ``memories``, ``working``,
        ``knowledge``, ``items``, ``checkpoints``, ``channel_blobs``, ``pending_writes``;
        a thread's checkpoints come before its blobs and writes).

        O(n): every record is built from its row.
        """
        dump: dict[str, list[Any]] = {
            name: [decode(r) for r in self._records_of(kind).values() if self._alive(r, now)]
            for name, kind, decode in (
                ("sessions", SESSION, session_of),
                ("memories", MEMORY, memory_of),
                ("working", WORKING, working_of),
                ("knowledge", KNOWLEDGE, doc_of),
            )
        }
        dump["items"] = [item_of(r) for r in self.items.records.values() if self._alive(r, now)]
        records = list(self._dump_checkpoints(now))
        for name, cls in (
            ("checkpoints", Checkpoint),
            ("channel_blobs", ChannelBlob),
            ("pending_writes", PendingWrite),
        ):
            dump[name] = [r for r in records if type(r) is cls]
        return dump

    def export(self, now: float) -> dict[str, list[tuple[Any, float | None]]]:
        """:meth:`dump` with each record's TTL: ``(record, ttl)`` pairs. O(n)."""
        return {
            kind: [(record, self.ttl_of(record)) for record in records]
            for kind, records in self.dump(now).items()
        }

    @staticmethod
    def identity(record: Any) -> tuple[int, Hashable]:
        """The ``(kind, key)`` of a record. Raises ``TypeError`` for a non-record."""
        if isinstance(record, Session):
            return SESSION, record.session_id
        if isinstance(record, UserMemory):
            return MEMORY, (record.user_id, record.memory_id)
        if isinstance(record, WorkingMemory):
            return WORKING, (record.conversation_id, record.memory_type)
        if isinstance(record, KnowledgeDoc):
            return KNOWLEDGE, record.doc_id
        if isinstance(record, Item):
            return ITEM, (record.namespace, record.key)
        raise TypeError(f"expected a record, got {type(record).__name__}")

    def ttl_of(self, record: Any) -> float | None:
        """The TTL (seconds) the record was last written with, or ``None``. O(1)."""
        if isinstance(record, Checkpoint | ChannelBlob | PendingWrite):
            return self._thread_ttl(record.thread_id)
        return self._ttls.get(self.identity(record))

    def load(self, now: float, record: Any, ttl: float | None = None) -> bool:
        """Put a restored record back as it was (timestamps kept); ``False`` if it
        had already expired at ``now``.

        ``ttl`` is the TTL later refreshes restart; when ``None`` it is taken as
        ``expires_at - updated_at``.
        """
        if isinstance(record, Checkpoint | ChannelBlob | PendingWrite):
            return self._load_checkpoint_record(now, record, ttl)
        if isinstance(record, Item):
            return self._load_item(now, record, ttl)
        kind, key = self.identity(record)
        return self.load_row(now, kind, key, row_of(record), ttl)

    def load_row(self, now: float, kind: int, key: Any, row: Any, ttl: float | None) -> bool:
        """:meth:`load` for a row (``engine._core._rows``) of ``kind`` at ``key``,
        trusted as valid (e.g. read back from a CRC-checked journal frame).

        Raises:
            ValueError: for a kind not stored as rows (items, threads: :meth:`load`).
        """
        if kind not in ACCOUNTED:
            raise ValueError(f"load_row: kind {kind} is not stored as rows (use load)")
        expires = row[EXPIRES]
        if expires is not None and expires <= now:
            return False
        if expires is not None and ttl is None:
            ttl = max(expires - row[UPDATED], 1e-9)
        self._write(kind, key, row, None if expires is None else ttl, expires)
        return True

    def load_rows(self, now: float, items: list[tuple[int, Any, Any, float | None]]) -> int:
        """:meth:`load_row` for many ``(kind, key, row, ttl)`` of records not stored
        yet, with every index built in bulk (each index group sorted once, the expiry
        index updated once): what recovery loads a snapshot with. Rows already expired
        at ``now`` are skipped; returns how many were loaded. Not all or nothing (a
        failed recovery discards its store).

        Raises:
            ValueError: if a record is already stored, or for a kind not stored as
                rows (items, threads: :meth:`load`).
        """
        by_kind: list[list[Any]] = [[], [], [], []]
        deadlines = []
        ttls = self._ttls
        eviction = self._eviction
        used = 0
        for kind, key, row, ttl in items:
            if kind not in ACCOUNTED:
                raise ValueError(f"load_rows: kind {kind} is not stored as rows (use load)")
            expires = row[EXPIRES]
            if expires is not None:
                if expires <= now:
                    continue
                deadlines.append((expires, kind, key))
                ttls[(kind, key)] = max(expires - row[UPDATED], 1e-9) if ttl is None else ttl
            by_kind[kind].append(row)
            used += row_cost(row)
            eviction.written((kind, key), expires is not None)
        self.sessions.load_many(by_kind[SESSION])
        self.memories.load_many(by_kind[MEMORY])
        for row in by_kind[WORKING]:
            key = (row[3], row[4])
            if key in self.working:
                raise ValueError(f"load_rows: working memory {key!r} is already stored")
            self.working[key] = row
        self.knowledge.load_many(by_kind[KNOWLEDGE])
        self.expiry.add_many(deadlines)
        self.used_memory += used
        return sum(len(rows) for rows in by_kind)

    def counts(self) -> StoreCounts:
        """Counts of live records and expirations. O(1)."""
        return StoreCounts(
            sessions=len(self.sessions.records),
            runs=self.sessions.runs,
            memories=len(self.memories.records),
            working=len(self.working),
            knowledge=len(self.knowledge.records),
            expiry_entries=len(self.expiry),
            next_deadline=self.expiry.next_deadline(),
            expired_sessions=self._expired[SESSION],
            expired_memories=self._expired[MEMORY],
            expired_working=self._expired[WORKING],
            expired_knowledge=self._expired[KNOWLEDGE],
            used_memory=self.used_memory,
            max_memory=self._budget,
            evicted=self.evicted,
        )

    def _check(self) -> None:
        """Assert every invariant of every table and index (for tests)."""
        self.sessions._check()
        self.memories._check()
        self.knowledge._check()
        self.items._check()
        self.threads._check()
        self.expiry._check()
        for kind in (SESSION, MEMORY, WORKING, KNOWLEDGE, ITEM, THREAD):
            for key, record in self._records_of(kind).items():
                assert self.expiry.deadline(kind, key) == self._expires(kind, record)
        assert set(self._ttls) <= set(self.expiry._deadlines)
        for kind, key in self.expiry._deadlines:
            assert key in self._records_of(kind), "a deadline without its record"
        assert self.used_memory == self._langgraph_used() + sum(
            row_cost(row) for kind in ACCOUNTED for row in self._records_of(kind).values()
        )
