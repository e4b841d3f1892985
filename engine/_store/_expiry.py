"""The expiry index: every record's deadline, in deadline order.

One pair of structures per record kind: a ``{key: deadline}`` map and a
:class:`~engine._store._pairs.PairChunks` of ``(deadline, key)`` pairs, packed flat
(``(d0, ..., d(n-1), key0, ..., key(n-1))`` tuples of at most ``PAIR_CHUNK`` pairs).
Both hold the very key and deadline objects the store's table and row hold, so a
deadline costs one map slot and two pointers, where it was a ``(deadline, kind, key)``
entry tuple plus a ``(kind, key)`` tuple per record (~100 bytes more); the chunks are
tuples of atomic values, which the cyclic GC untracks. Kinds merge in deadline order
(``(deadline, kind, key)``, as one sorted list would give). A deadline moves by
remove-then-add, never in place, so stored pairs never change.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterator
from itertools import islice, takewhile
from typing import Any

from engine._store._pairs import PairChunks

__all__ = ["ExpiryIndex"]

Entry = tuple[float, int, Hashable]


def _entries(kind: int, pairs: PairChunks) -> Iterator[Entry]:
    return ((deadline, kind, key) for deadline, key in pairs)


class ExpiryIndex:
    """Deadlines (epoch seconds) of records, keyed by ``(kind, key)``.

    ``kind`` is a small int naming the record kind; keys of one kind must be mutually
    comparable (all ``str``, or all tuples of ``str``).

    Complexity (n entries, k kinds, c = ``PAIR_CHUNK``): :meth:`set` and
    :meth:`discard` O(log n + c); :meth:`next_deadline` O(k); :meth:`pop_due`
    O(m (log n + c + log k)) for m entries returned.
    """

    __slots__ = ("_by_kind",)

    def __init__(self) -> None:
        #: kind -> (its keys' deadlines, its (deadline, key) pairs in order)
        self._by_kind: dict[int, tuple[dict[Hashable, float], PairChunks]] = {}

    def __len__(self) -> int:
        return sum(len(deadlines) for deadlines, _ in self._by_kind.values())

    def _of(self, kind: int) -> tuple[dict[Hashable, float], PairChunks]:
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = ({}, PairChunks())
        return found

    def set(self, kind: int, key: Hashable, deadline: float | None) -> None:
        """Set, move or (with ``None``) remove the deadline of ``(kind, key)``."""
        if deadline is None:
            self.discard(kind, key)
            return
        deadlines, pairs = self._of(kind)
        old = deadlines.get(key)
        if old == deadline:
            return
        pairs.add(deadline, key)  # first: if this fails, nothing has changed
        try:
            deadlines[key] = deadline
            if old is not None:
                pairs.take(old, key)
        except BaseException:  # e.g. MemoryError: undo, so the index stays whole
            pairs.take(deadline, key)
            if old is None:
                deadlines.pop(key, None)
            else:
                deadlines[key] = old
                if not pairs.has(old, key):
                    pairs.add(old, key)
            raise

    def discard(self, kind: int, key: Hashable) -> None:
        """Remove the deadline of ``(kind, key)`` if it has one."""
        found = self._by_kind.get(kind)
        if found is None:
            return
        deadlines, pairs = found
        old = deadlines.pop(key, None)
        if old is not None:
            try:
                pairs.take(old, key)
            except BaseException:
                deadlines[key] = old
                raise

    def add_many(self, entries: list[tuple[float, int, Hashable]]) -> None:
        """Set the deadlines ``(deadline, kind, key)`` of records that have none yet, in
        one sorted rebuild per kind (O((n + m) log(n + m)) in C). For bulk loading.

        Raises:
            ValueError: a record already has a deadline (or appears twice); nothing
                is changed then.
        """
        new: dict[int, dict[Hashable, float]] = {}
        for deadline, kind, key in entries:
            found = self._by_kind.get(kind)
            added = new.setdefault(kind, {})
            if (found is not None and key in found[0]) or key in added:
                raise ValueError(f"add_many: {(kind, key)!r} already has a deadline")
            added[key] = deadline
        built = {}
        for kind, added in new.items():
            deadlines, pairs = self._of(kind)
            merged: list[tuple[Any, Any]] = [*pairs, *[(d, key) for key, d in added.items()]]
            built[kind] = ({**deadlines, **added}, PairChunks(merged))
        self._by_kind.update(built)  # only once every kind is built

    def deadline(self, kind: int, key: Hashable) -> float | None:
        """The deadline of ``(kind, key)``, or ``None``. O(1)."""
        found = self._by_kind.get(kind)
        return None if found is None else found[0].get(key)

    def next_deadline(self) -> float | None:
        """The earliest deadline, or ``None`` when empty. O(kinds)."""
        earliest: float | None = None
        for _, pairs in self._by_kind.values():
            if pairs:
                first: float = next(iter(pairs))[0]
                if earliest is None or first < earliest:
                    earliest = first
        return earliest

    def _merged(self) -> Iterator[Entry]:
        """Every ``(deadline, kind, key)``, earliest first (ties: by kind, then key)."""
        streams = [
            _entries(kind, pairs) for kind, (_, pairs) in sorted(self._by_kind.items()) if pairs
        ]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams)

    def in_order(self) -> Iterator[tuple[int, Hashable]]:
        """The ``(kind, key)`` of every deadline, earliest first, lazily: O(log kinds)
        per entry taken (the index must not change while this is consumed)."""
        return ((kind, key) for _, kind, key in self._merged())

    def pop_due(self, now: float, limit: int) -> list[tuple[int, Hashable]]:
        """Remove and return up to ``limit`` ``(kind, key)`` whose deadline is <= ``now``.

        Earliest first.
        """
        if limit <= 0:
            return []
        due = list(islice(takewhile(lambda entry: entry[0] <= now, self._merged()), limit))
        by_kind = self._by_kind
        for deadline, kind, key in due:  # taken only once the merge is consumed
            deadlines, pairs = by_kind[kind]
            pairs.take(deadline, key)
            del deadlines[key]
        return [(kind, key) for _, kind, key in due]

    def clear(self) -> None:
        """Remove every deadline."""
        self._by_kind.clear()

    @property
    def _deadlines(self) -> dict[tuple[int, Hashable], float]:
        """Every ``{(kind, key): deadline}`` (a new dict, for checks and tests). O(n)."""
        return {
            (kind, key): deadline
            for kind, (deadlines, _) in self._by_kind.items()
            for key, deadline in deadlines.items()
        }

    def _check(self) -> None:
        """Assert the internal invariants (for tests). O(n)."""
        for deadlines, pairs in self._by_kind.values():
            pairs._check()
            assert len(pairs) == len(deadlines)
            for deadline, key in pairs:
                assert deadlines[key] == deadline
