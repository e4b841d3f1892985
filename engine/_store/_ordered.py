"""Ordered secondary indexes: per-group sorted lists of ``(timestamp, id)``."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Iterator
from itertools import islice, pairwise
from typing import Any, Final

from engine._store._chunked import ChunkedSortedList

__all__ = ["SMALL_GROUP", "OrderedGroups"]

#: A group holds a sorted ``tuple`` up to this many entries, a
#: :class:`~engine._store._chunked.ChunkedSortedList` beyond (its entries in tuple
#: chunks). Tuples of untracked entries are untracked by the cyclic GC, so a full
#: collection never walks an index's entries; most groups (a user's sessions, an
#: agent's) are small, and rebuilding a tuple this short on an insert or a removal
#: costs about what a sorted-list insert does.
SMALL_GROUP: Final = 64

Entries = Any  # tuple[tuple[float, Any], ...] | ChunkedSortedList


class OrderedGroups:
    """For each group key, the ids of its records sorted by a timestamp.

    Entries are ``(timestamp, id)`` tuples, unique because ids are unique within a
    table. An entry's timestamp never changes while stored: callers remove the old
    entry and add a new one. An emptied group is dropped.

    Complexity (n entries in a group): add/remove O(log n) (O(n) memmove of at most
    :data:`SMALL_GROUP` pointers while the group is small); iterating k entries in
    order from either end O(log n + k).
    """

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[Hashable, Entries] = {}

    def add(self, group: Hashable, timestamp: float, ident: Any) -> None:
        """Add ``(timestamp, ident)`` to ``group``."""
        self.add_to((group,), timestamp, ident)

    def remove(self, group: Hashable, timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from ``group``; raises ``ValueError`` if absent."""
        self.remove_from((group,), timestamp, ident)

    def add_to(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Add ``(timestamp, ident)`` to each of ``groups``.

        One entry tuple is shared by every group (a record indexed in g groups costs
        one tuple, not g). O(g log n).
        """
        entry = (timestamp, ident)
        registry = self._groups
        for group in groups:
            entries = registry.get(group)
            if entries is None:
                registry[group] = (entry,)
            elif type(entries) is tuple:
                if len(entries) < SMALL_GROUP:
                    index = bisect_right(entries, entry)
                    registry[group] = (*entries[:index], entry, *entries[index:])
                else:
                    grown = ChunkedSortedList(entries)  # first: if this fails, nothing changed
                    grown.add(entry)
                    registry[group] = grown
            else:
                entries.add(entry)

    def add_many(self, entries: Iterable[tuple[Iterable[Hashable], float, Any]]) -> None:
        """:meth:`add_to` for many ``(groups, timestamp, ident)``: each new group is
        sorted once (O(n log n) in C) instead of taking n inserts. For bulk loading."""
        fresh: dict[Hashable, list[tuple[float, Any]]] = {}
        registry = self._groups
        for groups, timestamp, ident in entries:
            entry = (timestamp, ident)
            for group in groups:
                if group in registry:
                    self.add_to((group,), timestamp, ident)
                else:
                    bucket = fresh.get(group)
                    if bucket is None:
                        fresh[group] = [entry]
                    else:
                        bucket.append(entry)
        for group, bucket in fresh.items():
            bucket.sort()
            registry[group] = (
                tuple(bucket) if len(bucket) <= SMALL_GROUP else ChunkedSortedList(bucket)
            )

    def _take(self, group: Hashable, entry: tuple[float, Any], strict: bool) -> None:
        registry = self._groups
        entries = registry.get(group)
        if entries is None:
            if strict:
                raise ValueError(f"{entry!r} not in group {group!r}")
            return
        if type(entries) is tuple:
            index = bisect_left(entries, entry)
            if index == len(entries) or entries[index] != entry:
                if strict:
                    raise ValueError(f"{entry!r} not in group {group!r}")
                return
            entries = registry[group] = entries[:index] + entries[index + 1 :]
        elif strict:
            entries.remove(entry)
        else:
            entries.discard(entry)
        if not entries:
            del registry[group]

    def remove_from(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from each of ``groups``; raises ``ValueError``
        if one lacks it. O(g log n)."""
        entry = (timestamp, ident)
        for group in groups:
            self._take(group, entry, True)

    def discard_from(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from those of ``groups`` that hold it: the
        tolerant removal a rollback uses on a half-indexed record. O(g log n)."""
        entry = (timestamp, ident)
        for group in groups:
            self._take(group, entry, False)

    def size(self, group: Hashable) -> int:
        """How many entries ``group`` has. O(1)."""
        entries = self._groups.get(group)
        return 0 if entries is None else len(entries)

    def scan(
        self,
        group: Hashable,
        *,
        descending: bool,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[tuple[float, Any]]:
        """Iterate ``group``'s entries in timestamp order, ``since <= t < until``.

        The group must not change while the iterator is in use.
        """
        entries = self._groups.get(group)
        if entries is None:
            return iter(())
        if since is None and until is None:
            return reversed(entries) if descending else iter(entries)
        if type(entries) is tuple:
            low = 0 if since is None else bisect_left(entries, (since,))
            high = len(entries) if until is None else bisect_left(entries, (until,))
            if descending:
                return (entries[i] for i in range(high - 1, low - 1, -1))
            return islice(entries, low, high)
        lower = None if since is None else (since,)
        upper = None if until is None else (until,)
        iterator: Iterator[tuple[float, Any]] = entries.irange(
            lower, upper, inclusive=(True, False), reverse=descending
        )
        return iterator

    def clear(self) -> None:
        """Remove every group."""
        self._groups.clear()

    def _check(self) -> None:
        """Assert invariants (for tests). O(n)."""
        for entries in self._groups.values():
            assert entries
            if type(entries) is tuple:
                assert len(entries) <= SMALL_GROUP
                assert all(a < b for a, b in pairwise(entries))
            else:
                entries._check()
