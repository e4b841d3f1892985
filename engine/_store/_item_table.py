"""The namespaced item table of one shard: items by ``(namespace, key)``, namespaces in
sorted order (prefix lookups by bisection), and per namespace the items in
``updated_at`` order.

Search walks only the namespaces under the prefix, newest first, merging their
ordered indexes lazily, and stops once it has ``k`` matches; no whole-table scan.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Any

from sortedcontainers import SortedList

from engine._core._items import Item

__all__ = ["ItemTable", "matches_filter", "namespace_matches"]

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
        """The namespaces starting with ``prefix``, in order. O(log n + m)."""
        n = len(prefix)
        for ns in self.namespaces.irange(minimum=prefix):
            if ns[:n] != prefix:
                return
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


def namespace_matches(ns: Namespace, path: Namespace, suffix: bool) -> bool:
    """Whether ``ns`` starts (or, with ``suffix``, ends) with ``path``; ``"*"`` in
    ``path`` matches any one label."""
    if len(ns) < len(path):
        return False
    labels = ns[len(ns) - len(path) :] if suffix else ns[: len(path)]
    return all(p == "*" or p == label for label, p in zip(labels, path, strict=True))


_MISSING = object()


def _field(value: Mapping[str, Any], key: str) -> Any:
    """``value[key]``, or by a dotted path (``"a.b"``) when there is no such key."""
    found = value.get(key, _MISSING)
    if found is not _MISSING or "." not in key:
        return None if found is _MISSING else found
    current: Any = value
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def matches_filter(value: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    """Whether an item's value satisfies a (frozen) filter: per key, a value compared
    for equality (nested objects field by field, arrays element by element), or an
    object of operators ``$eq $ne $gt $gte $lt $lte``."""
    return all(_compare(_field(value, key), wanted) for key, wanted in filter.items())


def _compare(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        if any(key.startswith("$") for key in wanted):
            return all(_operator(actual, op, operand) for op, operand in wanted.items())
        if not isinstance(actual, Mapping):
            return False
        return all(_compare(actual.get(key), sub) for key, sub in wanted.items())
    if isinstance(wanted, tuple | list):
        return (
            isinstance(actual, tuple | list)
            and len(actual) == len(wanted)
            and all(_compare(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    return bool(actual == wanted)


def _ordered(actual: Any, operand: Any) -> tuple[Any, Any] | None:
    numbers = (actual, operand)
    if all(isinstance(x, int | float) and not isinstance(x, bool) for x in numbers):
        return actual, operand
    if isinstance(actual, str) and isinstance(operand, str):
        return actual, operand
    return None


def _operator(actual: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return _compare(actual, operand)
    if op == "$ne":
        return not _compare(actual, operand)
    pair = _ordered(actual, operand)
    if pair is None:
        return False
    a, b = pair
    if op == "$gt":
        return bool(a > b)
    if op == "$gte":
        return bool(a >= b)
    if op == "$lt":
        return bool(a < b)
    return bool(a <= b)  # "$lte"; the facade refused any other operator
