"""The namespaced item table of one shard: item rows by ``(namespace, key)``, the
namespaces in sorted order (prefix lookups by bisection), and per namespace the keys
in ``updated_at`` order.

Everything held is GC-untracked: rows (``engine._core._item_rows``), the namespace
set as a :class:`ChunkedSortedList` of namespace tuples, the per-namespace order as
:class:`OrderedGroups` of ``(updated_at, key)``. Search walks only the namespaces
under the prefix, newest first, merging their ordered indexes lazily, and stops once
it has ``k`` matches; no whole-table scan.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any, Final

from engine._core._item_rows import I_KEY, I_NAMESPACE, I_VALUE, I_VECTORS
from engine._core._items import hidden
from engine._core._rows import UPDATED
from engine._store._chunked import ChunkedSortedList
from engine._store._ordered import OrderedGroups

__all__ = ["ITEM_RECORD_OVERHEAD", "ItemTable", "item_cost"]

Namespace = tuple[str, ...]
Row = tuple[Any, ...]

ITEM_RECORD_OVERHEAD: Final = 480
"""Bytes accounted per item on top of its payload: the measured overhead of an item
(``python -m bench.langgraph_items``: 477 bytes beyond the payload — the row, its
key tuple and table slot, its order entry, its timestamps, the headers of its key
and value objects), rounded up."""


def item_cost(row: Row) -> int:
    """The bytes an item row accounts for in the memory budget:
    :data:`ITEM_RECORD_OVERHEAD` plus the characters of its key and namespace labels
    and the bytes of its encoded value and vectors. O(labels + vectors)."""
    value = row[I_VALUE]
    return (
        ITEM_RECORD_OVERHEAD
        + len(row[I_KEY])
        + sum(map(len, row[I_NAMESPACE]))
        + (0 if value is None else len(value))
        + sum(map(len, row[I_VECTORS]))
    )


class ItemTable:
    """Item rows by ``(namespace, key)``. put/remove O(log n); see the module docstring."""

    __slots__ = ("_interned", "by_namespace", "namespaces", "records")

    def __init__(self) -> None:
        self.records: dict[tuple[Namespace, str], Row] = {}
        self.namespaces = ChunkedSortedList()
        #: each stored namespace, to itself: its items share one tuple of labels
        self._interned: dict[Namespace, Namespace] = {}
        #: namespace -> (updated_at, key) entries
        self.by_namespace = OrderedGroups()

    def __len__(self) -> int:
        return len(self.records)

    def interned(self, namespace: Namespace) -> Namespace:
        """The stored tuple equal to ``namespace`` (``namespace`` if none is): rows and
        keys built with it share one tuple of labels per namespace. O(1)."""
        return self._interned.get(namespace, namespace)

    def put(self, row: Row) -> None:
        """Insert or replace the item row ``row`` (timestamps set). All or nothing."""
        ident = (row[I_NAMESPACE], row[I_KEY])
        old = self.records.get(ident)
        if old is not None:
            self.remove(ident)
        try:
            self._add(ident, row)
        except BaseException:
            self._scrub(row)
            if old is not None:
                self._add(ident, old)
            raise

    def _add(self, ident: tuple[Namespace, str], row: Row) -> None:
        ns = ident[0]
        if not self.by_namespace.size(ns):
            self.namespaces.add(ns)
            self._interned[ns] = ns
        self.by_namespace.add(ns, row[UPDATED], ident[1])
        self.records[ident] = row

    def _scrub(self, row: Row) -> None:
        ns = row[I_NAMESPACE]
        self.records.pop((ns, row[I_KEY]), None)
        self.by_namespace.discard_from((ns,), row[UPDATED], row[I_KEY])
        if not self.by_namespace.size(ns):
            self.namespaces.discard(ns)
            self._interned.pop(ns, None)

    def remove(self, ident: tuple[Namespace, str]) -> Row | None:
        """Remove and return the row at ``(namespace, key)``, or ``None``."""
        row = self.records.get(ident)
        if row is None:
            return None
        self._scrub(row)
        return row

    def replace_row(self, row: Row) -> None:
        """Store ``row`` in place of the row of the same item and ``updated_at``
        (e.g. a restarted deadline): no reindexing."""
        self.records[(row[I_NAMESPACE], row[I_KEY])] = row

    def under(self, prefix: Namespace) -> Iterator[Namespace]:
        """The namespaces starting with ``prefix``, in order (the engine's own only
        when ``prefix`` names them). O(log n + m)."""
        n = len(prefix)
        for ns in self.namespaces.irange(minimum=prefix):
            if ns[:n] != prefix:
                return
            if not hidden(ns, prefix):
                yield ns

    def keys_of(self, ns: Namespace) -> Iterator[tuple[float, str]]:
        """The ``(updated_at, key)`` entries of namespace ``ns``, oldest first."""
        return self.by_namespace.scan(ns, descending=False)

    def newest_first(self, prefix: Namespace) -> Iterator[Row]:
        """The item rows under ``prefix``, newest ``updated_at`` first (ties:
        namespace, key)."""
        streams = [self._stream(ns) for ns in self.under(prefix)]
        records = self.records
        for _, ns, key in heapq.merge(*streams):
            yield records[(ns, key)]

    def _stream(self, ns: Namespace) -> Iterator[tuple[float, Namespace, str]]:
        for at, key in self.by_namespace.scan(ns, descending=True):
            yield -at, ns, key

    def clear(self) -> None:
        """Remove every item."""
        self.records.clear()
        self.namespaces.clear()
        self.by_namespace.clear()
        self._interned.clear()

    def _check(self) -> None:
        self.namespaces._check()
        self.by_namespace._check()
        count = 0
        for ns in self.namespaces:
            entries = list(self.keys_of(ns))
            assert entries, "an empty namespace in the namespace set"
            for at, key in entries:
                row = self.records[(ns, key)]
                assert row[UPDATED] == at and row[I_NAMESPACE] == ns and row[I_KEY] == key
            count += len(entries)
        assert count == len(self.records)
        assert len(self.namespaces) == len({ns for ns, _ in self.records}) == len(self._interned)
        assert all(ns is self._interned[ns] for ns, _ in self.records)
