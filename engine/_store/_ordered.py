"""Ordered secondary indexes: per group, the ids of its records sorted by a timestamp,
packed as flat tuples (``engine._store._pairs``)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from itertools import pairwise
from typing import Any, Final

from engine._store._pairs import (
    PairChunks,
    flat_between,
    flat_find,
    flat_insert,
    flat_of,
    flat_pairs,
    flat_without,
)

__all__ = ["SMALL_GROUP", "OrderedGroups"]

#: A group holds a flat tuple ``(t0, ..., id0, ...)`` up to this many entries, a
#: :class:`~engine._store._pairs.PairChunks` beyond (flat chunks). Flat tuples of
#: atomic values are untracked by the cyclic GC, so a full collection never walks an
#: index's entries; most groups (a user's sessions, an agent's) are small, and
#: rebuilding a tuple this short on an insert or a removal costs about what a
#: sorted-list insert does.
SMALL_GROUP: Final = 64

Entries = Any  # tuple[float | id, ...] (flat) | PairChunks


class OrderedGroups:
    """For each group key, the ids of its records sorted by a timestamp.

    Entries are ``(timestamp, id)`` pairs, unique because ids are unique within a
    table, stored without a tuple per entry: a group is a flat tuple of its
    timestamps then its ids (two pointers per entry, to the objects the row holds),
    or flat chunks when big. An entry's timestamp never changes while stored:
    callers remove the old entry and add a new one. An emptied group is dropped.

    Memory: 16 bytes per entry and group (a record in g groups: 16 g bytes), plus
    one tuple header per small group or chunk.

    Complexity (n entries in a group): add/remove O(log n) (O(n) copy of at most
    :data:`SMALL_GROUP` pairs while the group is small); iterating k entries in
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
        """Add ``(timestamp, ident)`` to each of ``groups``. O(g log n)."""
        registry = self._groups
        for group in groups:
            entries = registry.get(group)
            if entries is None:
                registry[group] = (timestamp, ident)
            elif type(entries) is tuple:
                if len(entries) < 2 * SMALL_GROUP:
                    registry[group] = flat_insert(entries, timestamp, ident)
                else:
                    n = len(entries) >> 1
                    grown = PairChunks(zip(entries[:n], entries[n:], strict=True))
                    grown.add(timestamp, ident)  # first: if this fails, nothing changed
                    registry[group] = grown
            else:
                entries.add(timestamp, ident)

    def add_many(self, entries: Iterable[tuple[Iterable[Hashable], float, Any]]) -> None:
        """:meth:`add_to` for many ``(groups, timestamp, ident)``: the same entries, each
        group's new entries sorted once and merged in one pass (a C sort of the
        already-sorted run and the new one) instead of taking one insert each. A big
        group that receives few entries (fewer than an eighth of its size) takes
        them one by one, so a bulk load of k entries costs O(k log k + the groups it
        rebuilds), never O(n) per small load. For bulk loading.
        """
        fresh: dict[Hashable, list[tuple[float, Any]]] = {}
        get = fresh.get
        for groups, timestamp, ident in entries:
            pair = (timestamp, ident)
            for group in groups:
                bucket = get(group)
                if bucket is None:
                    fresh[group] = [pair]
                else:
                    bucket.append(pair)
        registry = self._groups
        for group, bucket in fresh.items():
            old = registry.get(group)
            if type(old) is tuple:
                n = len(old) >> 1
                bucket += zip(old[:n], old[n:], strict=True)
            elif old is not None:
                if len(bucket) < len(old) >> 3:  # few: insert them
                    for timestamp, ident in bucket:
                        old.add(timestamp, ident)
                    continue
                bucket += old
            if len(bucket) <= SMALL_GROUP:
                bucket.sort()
                registry[group] = flat_of(bucket)
            else:
                registry[group] = PairChunks(bucket)  # sorts it

    def _take(self, group: Hashable, timestamp: float, ident: Any, strict: bool) -> None:
        registry = self._groups
        entries = registry.get(group)
        if entries is not None:
            if type(entries) is tuple:
                rest = flat_without(entries, timestamp, ident)
                if rest is not None:
                    if rest:
                        registry[group] = rest
                    else:
                        del registry[group]
                    return
            elif entries.take(timestamp, ident):
                if not entries:
                    del registry[group]
                return
        if strict:
            raise ValueError(f"{(timestamp, ident)!r} not in group {group!r}")

    def remove_from(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from each of ``groups``; raises ``ValueError``
        if one lacks it. O(g log n)."""
        for group in groups:
            self._take(group, timestamp, ident, True)

    def discard_from(self, groups: Iterable[Hashable], timestamp: float, ident: Any) -> None:
        """Remove ``(timestamp, ident)`` from those of ``groups`` that hold it: the
        tolerant removal a rollback uses on a half-indexed record. O(g log n)."""
        for group in groups:
            self._take(group, timestamp, ident, False)

    def size(self, group: Hashable) -> int:
        """How many entries ``group`` has. O(1)."""
        entries = self._groups.get(group)
        if entries is None:
            return 0
        return len(entries) >> 1 if type(entries) is tuple else len(entries)

    def contains(self, group: Hashable, timestamp: float, ident: Any) -> bool:
        """Whether ``group`` holds ``(timestamp, ident)``. O(log n)."""
        entries = self._groups.get(group)
        if entries is None:
            return False
        if type(entries) is tuple:
            return flat_find(entries, timestamp, ident)
        found: bool = entries.has(timestamp, ident)
        return found

    def scan(
        self,
        group: Hashable,
        *,
        descending: bool,
        since: float | None = None,
        until: float | None = None,
    ) -> Iterator[tuple[float, Any]]:
        """Iterate ``group``'s entries as ``(timestamp, id)`` in timestamp order,
        ``since <= t < until``.

        The group must not change while the iterator is in use.
        """
        entries = self._groups.get(group)
        if entries is None:
            return iter(())
        if type(entries) is tuple:
            return flat_pairs(entries, *flat_between(entries, since, until), descending)
        iterator: Iterator[tuple[float, Any]] = entries.scan(descending, since, until)
        return iterator

    def groups(self) -> Iterator[Hashable]:
        """Every group key (for tests and diagnostics)."""
        return iter(self._groups)

    def clear(self) -> None:
        """Remove every group."""
        self._groups.clear()

    def _check(self) -> None:
        """Assert invariants (for tests). O(n)."""
        for entries in self._groups.values():
            assert entries
            if type(entries) is tuple:
                n = len(entries) >> 1
                assert len(entries) % 2 == 0 and n <= SMALL_GROUP
                pairs = list(zip(entries[:n], entries[n:], strict=True))
                assert all(a < b for a, b in pairwise(pairs))
            else:
                assert len(entries) > 0
                entries._check()
