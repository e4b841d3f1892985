"""The shard store's state and TTL plumbing (pure: no trio, no clock)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from typing import Any, Final

from engine._core._config import KIND_NAMES, EngineConfig
from engine._core._errors import MemoryLimitExceeded
from engine._core._rows import EXPIRES, Row
from engine._store._decoded import DecodedRuns
from engine._store._eviction import Eviction, row_cost
from engine._store._expiry import ExpiryIndex
from engine._store._knowledge_table import KnowledgeTable
from engine._store._memory_table import MemoryTable
from engine._store._session_table import SessionTable
from engine._store._ttls import TTLs

__all__ = [
    "ACCOUNTED",
    "KNOWLEDGE",
    "MEMORY",
    "SESSION",
    "TTL",
    "WORKING",
    "StoreBase",
]

SESSION: Final = 0
MEMORY: Final = 1
WORKING: Final = 2
KNOWLEDGE: Final = 3
#: The kinds held as rows, accounted by the memory budget and evictable.
ACCOUNTED: Final = frozenset((SESSION, MEMORY, WORKING, KNOWLEDGE))

TTL = float | None


class StoreBase:
    """The state of a shard store and its TTL plumbing; the record kinds' operations
    are mixins over it (``engine._store_*``), assembled by ``ShardStore``.

    Every table holds rows (``engine._core._rows``: tuples of atomic values the
    cyclic GC untracks), never ``attrs`` records; the operations build records from
    rows on read, and rows from validated records on write.
    """

    def __init__(self, config: EngineConfig) -> None:
        self.reconfigure(config)
        self.sessions = SessionTable()
        self.memories = MemoryTable()
        self.working: dict[tuple[str, str], Row] = {}
        self.knowledge = KnowledgeTable()
        self.expiry = ExpiryIndex()
        #: The runs history reads decoded last (bounded; see ``engine._store._decoded``).
        self.decoded = DecodedRuns()
        self._ttls = TTLs()
        self._expired = [0, 0, 0, 0]
        #: Reads that restarted a TTL (refresh_on_read): state changes to journal.
        self.touches = 0
        #: Bytes the stored rows account for (``engine._store._eviction.row_cost``).
        self.used_memory = 0
        self.evicted = 0
        #: When a list, every eviction's ``(kind, key)`` is appended (for a journal).
        self.eviction_log: list[tuple[int, Hashable]] | None = None
        #: Whether writes are held to the budget (off while a journal is replayed:
        #: the journal holds the evictions that happened).
        self.enforce_budget = True

    def reconfigure(self, config: EngineConfig) -> None:
        """Use ``config``'s TTL policies and memory budget from now on (records are
        unchanged; a store over a smaller budget evicts at its next growing write)."""
        self._config = config
        self._policies = tuple(config.policy(name) for name in KIND_NAMES)
        self._budget = config.shard_memory
        eviction = getattr(self, "_eviction", None)
        if eviction is None or eviction.policy != config.eviction_policy:
            self._eviction = Eviction(config.eviction_policy, ACCOUNTED)
            if eviction is not None:  # a new policy starts from the records as they are
                for kind in ACCOUNTED:
                    for key, row in self._records_of(kind).items():
                        self._eviction.written((kind, key), row[EXPIRES] is not None)

    # Every write is all or nothing (issue: a MemoryError mid-write must not leave a
    # record in some indexes and not others): each table's put/remove rolls itself
    # back, the expiry index's set too, and the steps below undo the steps before
    # them when a later one fails.

    def _set_deadline(self, kind: int, key: Hashable, ttl: TTL, expires: float | None) -> None:
        ident = (kind, key)
        ttls = self._ttls
        previous = ttls.get(ident)
        if ttl is None:
            if previous is not None:
                del ttls[ident]
        else:
            ttls[ident] = ttl
        try:
            self.expiry.set(kind, key, expires)
        except BaseException:  # the index rolls itself back; the TTL too
            if previous is None:
                ttls.pop(ident, None)
            else:
                ttls[ident] = previous
            raise

    def _forget_deadline(self, kind: int, key: Hashable) -> None:
        self.expiry.discard(kind, key)
        self._ttls.pop((kind, key), None)

    def _table_put(self, kind: int, key: Any, row: Row, grow: int | None = None) -> None:
        """Store ``row`` in its table (all or nothing) and account for it: ``grow`` is
        the change in accounted bytes when the caller knows it, else it is computed
        from the row replaced (O(fields + runs) of both rows). The kinds outside
        ``ACCOUNTED`` go to :meth:`_other_put`, unaccounted."""
        if kind not in ACCOUNTED:
            self._other_put(kind, key, row)
            return
        if grow is None:
            old = self._records_of(kind).get(key)
            grow = row_cost(row) - (0 if old is None else row_cost(old))
        if kind == SESSION:
            self.sessions.put(row)
        elif kind == MEMORY:
            self.memories.put(row)
        elif kind == WORKING:
            self.working[key] = row
        else:
            self.knowledge.put(row)
        self.used_memory += grow
        if self._eviction.counts_writes:
            self._eviction.written((kind, key), row[EXPIRES] is not None)

    def _table_remove(self, kind: int, key: Any) -> Any:
        if kind == SESSION:
            row = self.sessions.remove(key)
        elif kind == MEMORY:
            row = self.memories.remove(key)
        elif kind == WORKING:
            row = self.working.pop(key, None)
        elif kind == KNOWLEDGE:
            row = self.knowledge.remove(key)
        else:
            return self._other_remove(kind, key)
        if row is not None:
            self.used_memory -= row_cost(row)
            self._eviction.removed((kind, key))
        return row

    def _make_room(self, kind: int, key: Any, row: Row, grow: int | None = None) -> None:
        """Evict per the policy until ``row`` fits the shard's budget in place of
        the row at ``key`` (``grow``: the change in accounted bytes, if known): called
        before a write stores it. O(log n) per record evicted (every index cleaned,
        as a delete).

        Raises:
            MemoryLimitExceeded: under ``noeviction``, when no record can be evicted
                (e.g. ``volatile-*`` with no record with a TTL), or when the row alone
                is larger than the shard's budget. Records evicted before that stay
                evicted (as on Redis).
        """
        budget = self._budget
        if budget is None or not self.enforce_budget or kind not in ACCOUNTED:
            return  # the kinds outside ACCOUNTED are outside the budget
        if grow is None:
            old = self._records_of(kind).get(key)
            grow = row_cost(row) - (0 if old is None else row_cost(old))
        if grow <= 0 or self.used_memory + grow <= budget:
            return
        self._fit(kind, key, row_cost(row), grow, "a record")

    def _fit(self, kind: int, key: Any, size: int, grow: int, what: str) -> None:
        """Evict per the policy until ``grow`` more bytes fit the shard's budget, for
        the unit at ``(kind, key)`` (``what``, e.g. ``"a record"``, for the messages)
        of ``size`` bytes once written; never evicts that unit. O(log n) per record
        evicted.

        Raises:
            MemoryLimitExceeded: as :meth:`_make_room`.
        """
        budget = self._budget
        if budget is None or not self.enforce_budget:
            return
        if grow <= 0 or self.used_memory + grow <= budget:
            return
        policy = self._eviction.policy
        if size > budget:
            raise MemoryLimitExceeded(
                f"{what} of {size} bytes cannot fit the shard's memory budget of {budget} "
                f"bytes (EngineConfig.max_memory split over {self._config.shards} shards)"
            )
        while self.used_memory + grow > budget:
            victim = self._eviction.victim(self.expiry, (kind, key))
            if victim is None:
                raise MemoryLimitExceeded(
                    f"memory budget spent: {self.used_memory} of {budget} bytes used in this "
                    f"shard, a write of {grow} more bytes to {what} refused "
                    f"(eviction_policy={policy!r}"
                    + (")" if policy == "noeviction" else ": no record left to evict)")
                )
            self._evict(*victim)

    def _evict(self, kind: int, key: Any) -> None:
        if self._remove(kind, key) is not None:
            self.evicted += 1
            if self.eviction_log is not None:
                self.eviction_log.append((kind, key))

    def _write(self, kind: int, key: Any, row: Any, ttl: TTL, expires: float | None) -> None:
        """Store ``row`` (for the kinds of ``RecordKinds``, the record) and its
        deadline: both, or (on an error) neither. Makes room for it first (see
        :meth:`_make_room`)."""
        self._write_over(kind, key, self._records_of(kind).get(key), row, ttl, expires)

    def _write_over(
        self, kind: int, key: Any, old: Any, row: Any, ttl: TTL, expires: float | None
    ) -> None:
        """:meth:`_write` where the caller has the record stored at ``key`` (``old``,
        ``None`` if none): e.g. from :meth:`_live_row`. The row's accounted size is
        computed once, here."""
        grow = 0
        if kind in ACCOUNTED:
            grow = row_cost(row) - (0 if old is None else row_cost(old))
        self._make_room(kind, key, row, grow)
        self._table_put(kind, key, row, grow)
        try:
            self._set_deadline(kind, key, ttl, expires)
        except BaseException:
            if old is None:
                self._table_remove(kind, key)
            else:
                self._table_put(kind, key, old)
            raise

    def _refreshed(
        self, kind: int, key: Hashable, now: float, current: float | None
    ) -> float | None:
        """The deadline after a partial update: restarted if the policy says so."""
        ttl = self._ttls.get((kind, key))
        if ttl is None or not self._policies[kind].refresh_on_update:
            return current
        return now + ttl

    def _touch(self, kind: int, key: Hashable, row: Row, now: float) -> Row:
        """A point read of ``row``: count it for the eviction policy and apply
        ``refresh_on_read`` (restart the TTL). O(1) (O(log n) under ``allkeys-lfu``
        or with a restarted TTL)."""
        if self._eviction.counts_reads:
            self._eviction.read((kind, key))
        if not self._policies[kind].refresh_on_read:
            return row
        ttl = self._ttls.get((kind, key))
        if ttl is None:
            return row
        expires = now + ttl
        row = (expires, *row[1:])
        self.expiry.set(kind, key, expires)
        self.touches += 1
        table: Any = self._records_of(kind)
        table[key] = row  # sort keys (created/updated) unchanged: no reindexing
        return row

    def _records_of(self, kind: int) -> dict[Any, Any]:
        if kind == SESSION:
            return self.sessions.records
        if kind == MEMORY:
            return self.memories.records
        if kind == WORKING:
            return self.working
        if kind == KNOWLEDGE:
            return self.knowledge.records
        return self._other_records(kind)

    # Hooks for the kinds not stored as rows (``engine._store._items.RecordKinds``):
    # their table, deadline, put and remove. The row kinds never reach them.

    def _other_records(self, kind: int) -> dict[Any, Any]:
        raise ValueError(f"unknown record kind {kind}")

    def _other_expires(self, kind: int, record: Any) -> float | None:
        raise ValueError(f"unknown record kind {kind}")

    def _other_put(self, kind: int, key: Any, record: Any) -> None:
        raise ValueError(f"unknown record kind {kind}")

    def _other_remove(self, kind: int, key: Any) -> Any:
        raise ValueError(f"unknown record kind {kind}")

    def _remove(self, kind: int, key: Any) -> Any:
        """Remove the record at ``key`` and its deadline; all or nothing."""
        record = self._table_remove(kind, key)
        try:
            self._forget_deadline(kind, key)
        except BaseException:
            if record is not None:
                self._table_put(kind, key, record)
            raise
        return record

    def _remove_all(self, kind: int, keys: Iterable[Any]) -> int:
        """Remove the records at ``keys``: all of them, or (on an error) none."""
        removed: list[tuple[Any, Row, TTL]] = []
        try:
            for key in keys:
                ttl = self._ttls.get((kind, key))
                row = self._remove(kind, key)
                if row is not None:
                    removed.append((key, row, ttl))
        except BaseException:
            for key, row, ttl in reversed(removed):
                self._write(kind, key, row, ttl, self._expires(kind, row))
            raise
        return len(removed)

    def _expire(self, kind: int, key: Any) -> None:
        if self._remove(kind, key) is not None:
            self._expired[kind] += 1

    @staticmethod
    def _alive(row: Row, now: float) -> bool:
        expires = row[EXPIRES]
        return expires is None or expires > now

    def _expires(self, kind: int, record: Any) -> float | None:
        """The deadline of ``record`` (a row of ``kind``, or a record of a kind
        the ``_other_*`` hooks serve)."""
        if kind in ACCOUNTED:
            expires: float | None = record[EXPIRES]
            return expires
        return self._other_expires(kind, record)

    def _live(self, kind: int, key: Any, now: float) -> Any:
        """The live row at ``key`` (for the kinds of ``RecordKinds``, the record),
        or ``None`` (an expired one is removed)."""
        row = self._records_of(kind).get(key)
        if row is not None:
            expires = self._expires(kind, row)
            if expires is not None and expires <= now:
                self._expire(kind, key)
                return None
        return row

    def _live_row(self, records: dict[Any, Row], kind: int, key: Any, now: float) -> Row | None:
        """:meth:`_live` for a kind stored as rows, given its table's ``records``."""
        row = records.get(key)
        if row is not None:
            expires = row[EXPIRES]
            if expires is not None and expires <= now:
                self._expire(kind, key)
                return None
        return row

    def _deadline(self, now: float, ttl: TTL) -> float | None:
        return None if ttl is None else now + ttl

    def next_deadline(self) -> float | None:
        """The earliest deadline (epoch seconds) of any record, or ``None``. O(1)."""
        return self.expiry.next_deadline()

    def expire_due(self, now: float, limit: int | float = math.inf) -> int:
        """Remove up to ``limit`` records whose deadline is <= ``now``; return how many.

        Complexity: O(k log n) for k records removed.
        """
        removed = 0
        while removed < limit:
            due = self.expiry.pop_due(now, int(min(limit - removed, 1024)))
            if not due:
                break
            for index, (kind, key) in enumerate(due):
                try:
                    if self._remove(kind, key) is not None:
                        self._expired[kind] += 1
                except BaseException:  # the rest keep their deadlines: swept later
                    for other_kind, other_key in due[index:]:
                        row = self._records_of(other_kind).get(other_key)
                        if row is not None:
                            self.expiry.set(other_kind, other_key, self._expires(other_kind, row))
                    raise
            removed += len(due)
        return removed
