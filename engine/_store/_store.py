"""The pure shard store: one shard's records, indexes, TTLs and counters.

No trio, no actors: every method takes ``now`` (epoch seconds) and never reads a
clock. Only the shard's owner task calls it. A method validates everything before it
mutates anything, so a request that raises leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from operator import itemgetter
from typing import Any, Final, NamedTuple

from engine._core._item_rows import item_of
from engine._core._items import ChannelBlob, Checkpoint, Item, PendingWrite
from engine._core._records import (
    KnowledgeDoc,
    Session,
    UserMemory,
    WorkingMemory,
)
from engine._core._rows import (
    EXPIRES,
    UPDATED,
    Row,
    doc_of,
    memory_of,
    row_of,
    session_of,
    working_of,
)
from engine._core._statistics import StoreCounts
from engine._store._base import ACCOUNTED, KNOWLEDGE, MEMORY, SESSION, WORKING
from engine._store._checkpoints import CheckpointOps
from engine._store._eviction import row_cost
from engine._store._items import ITEM, THREAD, ItemOps
from engine._store._knowledge import KnowledgeOps
from engine._store._memories import MemoryOps
from engine._store._sessions import SessionOps
from engine._store._working import WorkingOps

__all__ = ["KNOWLEDGE", "MEMORY", "ROW_KEYS", "SESSION", "WORKING", "ShardStore", "StoreRows"]


#: The key of a row, by kind number (``engine._core._rows`` layouts).
ROW_KEYS: Final = (itemgetter(3), itemgetter(3, 4), itemgetter(3, 4), itemgetter(3))


class StoreRows(NamedTuple):
    """A shard's live contents as stored (:meth:`ShardStore.export_rows`).

    Attributes:
        rows: the rows (``engine._core._rows``) of each kind, by kind number
            (``SESSION``, ``MEMORY``, ``WORKING``, ``KNOWLEDGE``).
        ttls: parallel to ``rows``: the TTL (seconds) each was last written with,
            or ``None``.
        records: the records not stored as rows (items, then each live thread's
            checkpoints, blobs and writes) with their TTLs.
    """

    rows: tuple[list[Row], ...]
    ttls: tuple[list[float | None], ...]
    records: list[tuple[Any, float | None]]


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
        self.decoded.clear()
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
        dump.update(self._unrowed(now))
        return dump

    def _unrowed(self, now: float) -> dict[str, list[Any]]:
        """The live records a durable snapshot keeps as records, not rows
        (:meth:`dump`'s ``items``, ``checkpoints``, ``channel_blobs``,
        ``pending_writes``), built from their rows."""
        dump: dict[str, list[Any]] = {
            "items": [item_of(r) for r in self.items.records.values() if self._alive(r, now)]
        }
        records = list(self._dump_checkpoints(now))
        for name, cls in (
            ("checkpoints", Checkpoint),
            ("channel_blobs", ChannelBlob),
            ("pending_writes", PendingWrite),
        ):
            dump[name] = [r for r in records if type(r) is cls]
        return dump

    def export_rows(self, now: float) -> StoreRows:
        """Every live record as stored: the rows of each kind with their TTLs, and
        the records that are not rows (items, checkpoint threads) with theirs — what a
        durable snapshot holds. O(n), but builds no record from a row: cheap enough to
        take in the owner task and encode elsewhere (rows are immutable tuples).
        """
        rows: tuple[list[Row], ...] = ([], [], [], [])
        ttls: tuple[list[float | None], ...] = ([], [], [], [])
        ttl_of = self._ttls.get
        for kind in (SESSION, MEMORY, WORKING, KNOWLEDGE):
            kind_rows, kind_ttls = rows[kind], ttls[kind]
            for key, row in self._records_of(kind).items():
                expires = row[EXPIRES]
                if expires is None:
                    kind_rows.append(row)
                    kind_ttls.append(None)
                elif expires > now:
                    kind_rows.append(row)
                    kind_ttls.append(ttl_of((kind, key)))
        records = [
            (record, self.ttl_of(record)) for kind in self._unrowed(now).values() for record in kind
        ]
        return StoreRows(rows, ttls, records)

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

    def holds(self, kind: int, key: Any) -> bool:
        """Whether a row of ``kind`` is stored at ``key`` (expired or not). O(1)."""
        return key in self._records_of(kind)

    def stored_row(self, kind: int, key: Any) -> tuple[Row, float | None]:
        """The row stored at ``key`` of ``kind`` and its TTL (seconds or ``None``):
        what a durable shard journals after a whole-record write. O(1).

        Raises:
            KeyError: if there is none.
        """
        return self._records_of(kind)[key], self._ttls.get((kind, key))

    def put_row(self, now: float, kind: int, key: Any, row: Row, ttl: float | None) -> None:
        """Redo a whole-record write that stored ``row`` at ``key`` with ``ttl``
        (:meth:`stored_row`, journaled): the stored row (an expired one counted as
        expired, as the write counted it) replaced, its deadline ``row``'s own.
        Trusts the row. O(log n). Makes room under the budget as any write does,
        unless ``enforce_budget`` is off (as while a journal is replayed).
        """
        self._live(kind, key, now)
        expires = row[EXPIRES]
        self._write(kind, key, row, None if expires is None else ttl, expires)

    def load_rows(self, now: float, items: list[tuple[int, Any, Any, float | None]]) -> int:
        """:meth:`load_row` for many ``(kind, key, row, ttl)`` of records not stored
        yet: :meth:`load_kinds` (the key is the row's own), with the eviction
        policy told of them in the order given (as loading them one by one would).

        Raises:
            ValueError: if a record is already stored, or for a kind not stored as
                rows (items, threads: :meth:`load`).
        """
        rows: tuple[list[Row], ...] = ([], [], [], [])
        ttls: tuple[list[float | None], ...] = ([], [], [], [])
        for kind, _, row, ttl in items:
            if kind not in ACCOUNTED:
                raise ValueError(f"load_rows: kind {kind} is not stored as rows (use load)")
            rows[kind].append(row)
            ttls[kind].append(ttl)
        loaded = self._load_kinds(now, rows, ttls, tell_eviction=False)
        written = self._eviction.written
        for kind, key, row, _ in items:
            expires = row[EXPIRES]
            if expires is None or expires > now:
                written((kind, key), expires is not None)
        return loaded

    def load_kinds(
        self, now: float, rows: Sequence[list[Row]], ttls: Sequence[list[float | None]]
    ) -> int:
        """Load the rows of records not stored yet, by kind number (``rows[SESSION]``
        ...), each with its TTL (``ttls`` parallel to ``rows``; ``None`` with a
        deadline: taken as ``expires_at - updated_at``), with every index built in
        bulk (each index group sorted once, the expiry index updated once): what
        recovery loads a snapshot with (:meth:`export_rows` gives these lists). Rows
        already expired at ``now`` are skipped; returns how many were loaded.
        Trusts the rows (e.g. read back from a CRC-checked file). Not all or nothing
        (a failed recovery discards its store). O(n log n).

        Raises:
            ValueError: if a record is already stored (or listed twice), or if a
                kind's TTLs do not run parallel to its rows.
        """
        return self._load_kinds(now, rows, ttls, tell_eviction=True)

    def _load_kinds(
        self,
        now: float,
        rows: Sequence[list[Row]],
        ttls: Sequence[list[float | None]],
        *,
        tell_eviction: bool,
    ) -> int:
        live: tuple[list[Row], ...] = ([], [], [], [])
        deadlines = []
        store_ttls = self._ttls
        written = self._eviction.written
        used = 0
        for kind in (SESSION, MEMORY, WORKING, KNOWLEDGE):
            kind_rows, kind_ttls, kept, key_of = rows[kind], ttls[kind], live[kind], ROW_KEYS[kind]
            if len(kind_rows) != len(kind_ttls):
                raise ValueError(
                    f"load_kinds: {len(kind_ttls)} TTLs for {len(kind_rows)} rows of kind {kind}"
                )
            for row, ttl in zip(kind_rows, kind_ttls, strict=True):
                expires = row[EXPIRES]
                key = key_of(row)
                if expires is not None:
                    if expires <= now:
                        continue
                    deadlines.append((expires, kind, key))
                    store_ttls[(kind, key)] = (
                        max(expires - row[UPDATED], 1e-9) if ttl is None else ttl
                    )
                kept.append(row)
                used += row_cost(row)
                if tell_eviction:
                    written((kind, key), expires is not None)
        self.sessions.load_many(live[SESSION])
        self.memories.load_many(live[MEMORY])
        working = self.working
        for row in live[WORKING]:
            key = (row[3], row[4])
            if key in working:
                raise ValueError(f"load_kinds: working memory {key!r} is already stored")
            working[key] = row
        self.knowledge.load_many(live[KNOWLEDGE])
        self.expiry.add_many(deadlines)
        self.used_memory += used
        return sum(len(kept) for kept in live)

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
