"""The namespaced item table of one shard: items by ``(namespace, key)``, namespaces in
sorted order (prefix lookups by bisection), and per namespace the items in
``updated_at`` order.

Search walks only the namespaces under the prefix, newest first, merging their
ordered indexes lazily, and stops once it has ``k`` matches; no whole-table scan.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from sortedcontainers import SortedList

from engine._core._items import Item, hidden

__all__ = ["ItemTable"]

Namespace = tuple[str, ...]


class ItemTable:
    """Items by ``(namespace, key)``. put/remove O(log n); see the module docstring."""

    __slots__ = ("by_namespace", "namespaces", "records")

    def __init__(self) -> None:
        self.records: dict[tuple[Namespace, str], Item] = {}
        self.namespaces: SortedList = SortedList()
        #: namespace -> SortedList of (updated_at, key)
        self.by_namespace: dict[Namespace, SortedList] = {}

    def __len__(self) -> int:
        return len(self.records)

    def put(self, item: Item) -> None:
        """Insert or replace ``item`` (timestamps set). All or nothing."""
        ident = (item.namespace, item.key)
        old = self.records.get(ident)
        if old is not None:
            self.remove(ident)
        try:
            self._add(item)
        except BaseException:
            self._scrub(item)
            if old is not None:
                self._add(old)
            raise

    def _add(self, item: Item) -> None:
        ns = item.namespace
        order = self.by_namespace.get(ns)
        if order is None:
            order = self.by_namespace[ns] = SortedList()
            self.namespaces.add(ns)
        order.add((item.updated_at, item.key))
        self.records[(ns, item.key)] = item

    def _scrub(self, item: Item) -> None:
        ns = item.namespace
        self.records.pop((ns, item.key), None)
        order = self.by_namespace.get(ns)
        if order is not None:
            order.discard((item.updated_at, item.key))
            if not order:
                del self.by_namespace[ns]
                self.namespaces.discard(ns)

    def remove(self, ident: tuple[Namespace, str]) -> Item | None:
        """Remove and return the item at ``(namespace, key)``, or ``None``."""
        item = self.records.get(ident)
        if item is None:
            return None
        self._scrub(item)
        return item

    def under(self, prefix: Namespace) -> Iterator[Namespace]:
        """The namespaces starting with ``prefix``, in order (the engine's own only
        when ``prefix`` names them). O(log n + m)."""
        n = len(prefix)
        for ns in self.namespaces.irange(minimum=prefix):
            if ns[:n] != prefix:
                return
            if not hidden(ns, prefix):
                yield ns

    def newest_first(self, prefix: Namespace) -> Iterator[Item]:
        """The items under ``prefix``, newest ``updated_at`` first (ties: namespace, key)."""
        streams = [self._stream(ns) for ns in self.under(prefix)]
        for _, ns, key in heapq.merge(*streams):
            yield self.records[(ns, key)]

    def _stream(self, ns: Namespace) -> Iterator[tuple[float, Namespace, str]]:
        for at, key in reversed(self.by_namespace[ns]):
            yield -at, ns, key

    def clear(self) -> None:
        """Remove every item."""
        self.records.clear()
        self.namespaces.clear()
        self.by_namespace.clear()

    def _check(self) -> None:
        assert set(self.namespaces) == set(self.by_namespace)
        count = 0
        for ns, order in self.by_namespace.items():
            assert order, "an empty namespace index"
            for at, key in order:
                assert self.records[(ns, key)].updated_at == at
            count += len(order)
        assert count == len(self.records)
