"""Matching items: namespace prefixes/suffixes with wildcards, and value filters
(``$eq $ne $gt $gte $lt $lte``, nested objects, dotted paths). Pure functions shared by
the embedded store and the Redis backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["matches_filter", "namespace_matches"]

Namespace = tuple[str, ...]


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
