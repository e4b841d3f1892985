"""Applying a journal's entries to a store on recovery, runs of fresh rows in bulk.

A logical entry (``[seq, now, op, args]``) goes through the store method of its
operation with the logged ``now``, as the shard served it. A row entry
(:mod:`engine._durable._row_entries`) puts its row back: when no row is stored at its
key yet, it is queued, and a run of queued rows is loaded with the indexes built in
bulk (:meth:`ShardStore.load_rows`) just before the next entry that is not such a
row, or at the end. The state is the one the entries give one by one: a queued key is
new, so neither its neighbours nor anything before it depend on it; its deadline,
TTL, accounting and place in the eviction order are the ones a put would give, in
journal order. Rows already past their deadline are loaded too (a sequential replay
keeps them until the sweep that follows recovery). The snapshot's rows are queued
first (:meth:`Replay.seed`), so a snapshot and the new rows after it load together.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import partial
from itertools import repeat
from operator import is_not, itemgetter
from typing import Any

from engine._core._ops import Op
from engine._core._rows import EXPIRES
from engine._durable._row_entries import ROW_WRITES, RowWrite
from engine._store._dispatch import STORE_METHODS
from engine._store._store import ROW_KEYS, ShardStore

__all__ = ["Replay"]

_DEADLINE = itemgetter(EXPIRES)
_NOT_NONE = partial(is_not, None)


class Replay:
    """Applies journal entries to ``store`` in order (see the module docstring).

    Call :meth:`flush` after the last entry: until then, queued rows are not stored.
    """

    __slots__ = ("_queued", "_store", "_waiting")

    def __init__(self, store: ShardStore) -> None:
        self._store = store
        self._waiting: list[tuple[int, Any, Any, float | None]] = []
        #: the keys queued, by kind number
        self._queued: tuple[set[Any], ...] = (set(), set(), set(), set())

    def seed(
        self, taken_at: float, rows: Sequence[list[Any]], ttls: Sequence[list[float | None]]
    ) -> None:
        """Queue a snapshot's rows (by kind number, ``ttls`` parallel), as
        :meth:`ShardStore.load_kinds` would load them at ``taken_at`` (rows expired
        then are dropped), so that they and the run of new rows the journal starts
        with are loaded in one bulk load (an index grows fastest from empty). Call
        it first, on an empty store. O(n), in C unless a row has expired.

        Raises:
            ValueError: if a kind's TTLs do not run parallel to its rows, or a record
                is listed twice.
        """
        waiting = self._waiting
        for kind, (kind_rows, kind_ttls) in enumerate(zip(rows, ttls, strict=True)):
            if len(kind_rows) != len(kind_ttls):
                raise ValueError(f"{len(kind_ttls)} TTLs for {len(kind_rows)} rows of kind {kind}")
            if any(map(taken_at.__ge__, filter(_NOT_NONE, map(_DEADLINE, kind_rows)))):
                live = [
                    (row, ttl)
                    for row, ttl in zip(kind_rows, kind_ttls, strict=True)
                    if row[EXPIRES] is None or row[EXPIRES] > taken_at
                ]
                kind_rows, kind_ttls = [row for row, _ in live], [ttl for _, ttl in live]
            keys = list(map(ROW_KEYS[kind], kind_rows))
            queued = self._queued[kind]
            expected = len(queued) + len(keys)
            queued.update(keys)
            if len(queued) != expected:
                twice = [key for key, count in Counter(keys).items() if count > 1]
                raise ValueError(f"record {(kind, *twice[:1])!r} is already stored (listed twice)")
            waiting.extend(zip(repeat(kind), keys, kind_rows, kind_ttls, strict=False))

    def apply(self, now: float, op: Op, args: tuple[Any, ...]) -> None:
        """Apply one decoded entry of ``op`` (journaled) logged at ``now``.

        Raises:
            ValueError: for a row entry of another kind than ``op`` writes.
            Exception: whatever the store method raises (damage: the caller names
                the entry).
        """
        if len(args) == 1 and type(args[0]) is RowWrite:
            write: RowWrite = args[0]
            kind = write.kind
            writes = ROW_WRITES.get(op)
            if writes is None or writes[0] != kind:
                raise ValueError(f"a row entry of kind {kind} for {op.name}")
            key = ROW_KEYS[kind](write.row)
            queued = self._queued[kind]
            if key not in queued and not self._store.holds(kind, key):
                self._waiting.append((kind, key, write.row, write.ttl))
                queued.add(key)
                return
            self.flush()
            self._store.put_row(now, kind, key, write.row, write.ttl)
            return
        self.flush()
        STORE_METHODS[op](self._store, now, *args)

    def flush(self) -> None:
        """Store the queued rows (indexes built in bulk). O(k log n) for k rows.

        Raises:
            ValueError: if one is stored already (not for rows :meth:`apply` queued).
        """
        if self._waiting:
            waiting, self._waiting = self._waiting, []
            for queued in self._queued:
                queued.clear()
            self._store.load_rows(-math.inf, waiting)
