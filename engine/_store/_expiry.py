"""The expiry index: every record's deadline, in deadline order.

A :class:`~engine._store._chunked.ChunkedSortedList` of ``(deadline, kind, key)``
(tuple chunks: the cyclic GC skips the entries) plus a
``{(kind, key): deadline}`` map. A deadline moves by remove-then-add, never in place,
so the sorted list's keys never change while stored.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from engine._store._chunked import ChunkedSortedList

__all__ = ["ExpiryIndex"]

Entry = tuple[float, int, Hashable]


class ExpiryIndex:
    """Deadlines (epoch seconds) of records, keyed by ``(kind, key)``.

    ``kind`` is a small int naming the record kind; keys of one kind must be mutually
    comparable (all ``str``, or all tuples of ``str``).

    Complexity (n entries): :meth:`set` and :meth:`discard` O(log n); :meth:`next_deadline`
    O(1); :meth:`pop_due` O(k log n) for k entries returned.
    """

    __slots__ = ("_by_deadline", "_deadlines")

    def __init__(self) -> None:
        self._by_deadline = ChunkedSortedList()
        self._deadlines: dict[tuple[int, Hashable], float] = {}

    def __len__(self) -> int:
        return len(self._deadlines)

    def set(self, kind: int, key: Hashable, deadline: float | None) -> None:
        """Set, move or (with ``None``) remove the deadline of ``(kind, key)``."""
        ident = (kind, key)
        old = self._deadlines.get(ident)
        if old == deadline:
            return
        if deadline is None:
            self.discard(kind, key)
            return
        entry = (deadline, kind, key)
        self._by_deadline.add(entry)  # first: if this fails, nothing has changed
        try:
            self._deadlines[ident] = deadline
            if old is not None:
                self._by_deadline.remove((old, kind, key))
        except BaseException:  # e.g. MemoryError: undo, so the index stays whole
            self._by_deadline.discard(entry)
            if old is None:
                self._deadlines.pop(ident, None)
            else:
                self._deadlines[ident] = old
                if (old, kind, key) not in self._by_deadline:
                    self._by_deadline.add((old, kind, key))
            raise

    def discard(self, kind: int, key: Hashable) -> None:
        """Remove the deadline of ``(kind, key)`` if it has one."""
        old = self._deadlines.pop((kind, key), None)
        if old is not None:
            try:
                self._by_deadline.remove((old, kind, key))
            except BaseException:
                self._deadlines[(kind, key)] = old
                raise

    def add_many(self, entries: list[tuple[float, int, Hashable]]) -> None:
        """Set the deadlines ``(deadline, kind, key)`` of records that have none yet, in
        one sorted update (O(n log n) in C). For bulk loading."""
        deadlines = self._deadlines
        for _deadline, kind, key in entries:
            if (kind, key) in deadlines:
                raise ValueError(f"add_many: {(kind, key)!r} already has a deadline")
        self._by_deadline.update(entries)
        for deadline, kind, key in entries:
            deadlines[(kind, key)] = deadline

    def deadline(self, kind: int, key: Hashable) -> float | None:
        """The deadline of ``(kind, key)``, or ``None``. O(1)."""
        return self._deadlines.get((kind, key))

    def next_deadline(self) -> float | None:
        """The earliest deadline, or ``None`` when empty. O(1)."""
        if not self._by_deadline:
            return None
        deadline: float = self._by_deadline[0][0]
        return deadline

    def in_order(self) -> Iterator[tuple[int, Hashable]]:
        """The ``(kind, key)`` of every deadline, earliest first, lazily: O(1) per
        entry taken (the index must not change while this is consumed)."""
        return ((kind, key) for _, kind, key in self._by_deadline)

    def pop_due(self, now: float, limit: int) -> list[tuple[int, Hashable]]:
        """Remove and return up to ``limit`` ``(kind, key)`` whose deadline is <= ``now``.

        Earliest first.
        """
        due: list[tuple[int, Hashable]] = []
        by_deadline = self._by_deadline
        deadlines = self._deadlines
        while by_deadline and len(due) < limit:
            deadline, kind, key = by_deadline[0]
            if deadline > now:
                break
            by_deadline.pop_first()
            del deadlines[(kind, key)]
            due.append((kind, key))
        return due

    def clear(self) -> None:
        """Remove every deadline."""
        self._by_deadline.clear()
        self._deadlines.clear()

    def _check(self) -> None:
        """Assert the internal invariants (for tests). O(n)."""
        self._by_deadline._check()
        assert len(self._by_deadline) == len(self._deadlines)
        for deadline, kind, key in self._by_deadline:
            assert self._deadlines[(kind, key)] == deadline
