"""Ordered secondary indexes: per-group sorted lists of ``(timestamp, id)``."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from sortedcontainers import SortedList

__all__ = ["OrderedGroups"]


class OrderedGroups:
    """For each group key, the ids of its records sorted by a timestamp.

    Entries are ``(timestamp, id)`` tuples, unique because ids are unique within a
    table. An entry's timestamp never changes while stored: callers remove the old
    entry and add a new one. An emptied group is dropped.

    Complexity (n entries in a group): add/remove O(log n); iterating k entries in
    order from either end O(log n + k).
    """

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[Hashable, SortedList] = {}

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
                entries = registry[group] = SortedList()
            entries.add(entry)

    def remove_from(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from each of ``groups``; raises ``ValueError``
        if one lacks it. O(g log n)."""
        entry = (timestamp, ident)
        registry = self._groups
        for group in groups:
            entries = registry[group]
            entries.remove(entry)
            if not entries:
                del registry[group]

    def discard_from(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from those of ``groups`` that hold it: the
        tolerant removal a rollback uses on a half-indexed record. O(g log n)."""
        entry = (timestamp, ident)
        registry = self._groups
        for group in groups:
            entries = registry.get(group)
            if entries is None:
                continue
            entries.discard(entry)
            if not entries:
                del registry[group]

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
            entries._check()
