"""``mem.items``: JSON objects filed under namespaces, with filters, TTLs and vectors
(what LangGraph's ``BaseStore`` keeps)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Final

from engine._api._backend import Backend
from engine._core import _ops as ops
from engine._core._codec import FrozenDict, freeze_mapping
from engine._core._config import EngineConfig
from engine._core._errors import InvalidArgument
from engine._core._items import INTERNAL_LABEL, Item, ItemHit, check_namespace, namespace_key
from engine._core._ops import Call
from engine._core._validate import check_bool, check_id, check_limit, check_offset, check_ttl

__all__ = ["ItemRequests", "Items"]

OPERATORS: Final = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})


def check_filter(filter: object) -> FrozenDict | None:
    """A frozen search filter, or ``None``.

    Raises:
        TypeError: for a non-dict or a non-JSON value.
        InvalidArgument: for an operator other than ``$eq $ne $gt $gte $lt $lte``.
    """
    if filter is None:
        return None
    frozen = freeze_mapping(filter, "filter")

    def walk(value: Any, where: str) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                if key.startswith("$") and key not in OPERATORS:
                    raise InvalidArgument(
                        f"{where}: expected an operator in {sorted(OPERATORS)}, got {key!r}"
                    )
                walk(sub, f"{where}[{key!r}]")

    walk(frozen, "filter")
    return frozen or None


def _vector(name: str, value: object) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of floats, got {type(value).__name__}")
    vector = tuple(float(x) for x in value)
    if not vector:
        raise InvalidArgument(f"{name}: expected a non-empty vector")
    return vector


class ItemRequests:
    """The single-namespace requests of :class:`Items`, built synchronously (see
    :class:`~engine._api._working.WorkingRequests`); routed by the namespace."""

    __slots__ = ("_config",)

    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: Mapping[str, Any],
        *,
        vectors: Sequence[Sequence[float]] = (),
        ttl: float | None = None,
    ) -> Call:
        """The request of :meth:`Items.put`."""
        item = Item(namespace=namespace, key=key, value=value, vectors=vectors)
        if item.namespace[0] == INTERNAL_LABEL:
            raise InvalidArgument(
                f"namespace: the first label {INTERNAL_LABEL!r} is reserved for the engine"
            )
        self._config.check_size("item", item)
        ttl_s = check_ttl("ttl", ttl)
        return Call(ops.PUT_ITEM, (item, ttl_s), namespace_key(item.namespace))

    def get(self, namespace: Sequence[str], key: str, *, refresh_ttl: bool = False) -> Call:
        """The request of :meth:`Items.get`."""
        ns = check_namespace("namespace", namespace)
        check_id("key", key)
        refresh = check_bool("refresh_ttl", refresh_ttl)
        return Call(ops.GET_ITEM, (ns, key, refresh), namespace_key(ns))

    def delete(self, namespace: Sequence[str], key: str) -> Call:
        """The request of :meth:`Items.delete`."""
        ns = check_namespace("namespace", namespace)
        check_id("key", key)
        return Call(ops.DELETE_ITEM, (ns, key), namespace_key(ns))


class Items:
    """Items keyed by ``(namespace, key)``, sharded by namespace.

    A namespace is a tuple of labels, e.g. ``("memories", "alice")``; a prefix of it
    addresses every namespace below. Values are JSON objects, frozen on write (a
    caller cannot change a stored item). An item may carry vectors (embeddings of
    its fields, computed by the caller) for semantic search. TTLs are seconds;
    ``None`` (the default) never expires; reads restart a TTL when asked
    (``refresh_ttl=True``). Expired items are invisible at once and removed by the
    engine's expiry index.
    """

    __slots__ = ("_backend", "_requests")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._requests = ItemRequests(backend.config)

    async def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: Mapping[str, Any],
        *,
        vectors: Sequence[Sequence[float]] = (),
        ttl: float | None = None,
    ) -> Item:
        """Insert or replace an item; returns the stored item. O(log n).

        Raises:
            TypeError: for a non-dict or non-JSON ``value``, a bad namespace or vector.
            InvalidArgument: for an empty label or key, a bad ``ttl``, an item
                larger than ``EngineConfig.max_record_size`` bytes, or a namespace
                starting with the engine's reserved label ``"__shardmem__"``.
        """
        call = self._requests.put(namespace, key, value, vectors=vectors, ttl=ttl)
        stored: Item = await self._backend.call(call)
        return stored

    async def get(
        self, namespace: Sequence[str], key: str, *, refresh_ttl: bool = False
    ) -> Item | None:
        """The item, or ``None`` if absent or expired; ``refresh_ttl`` restarts its TTL.
        O(1)."""
        call = self._requests.get(namespace, key, refresh_ttl=refresh_ttl)
        item: Item | None = await self._backend.call(call)
        return item

    async def delete(self, namespace: Sequence[str], key: str) -> bool:
        """Delete an item; ``False`` if there was none. O(log n)."""
        deleted: bool = await self._backend.call(self._requests.delete(namespace, key))
        return deleted

    async def search(
        self,
        namespace_prefix: Sequence[str] = (),
        *,
        filter: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        vector: Sequence[float] | None = None,
        refresh_ttl: bool = False,
    ) -> list[ItemHit]:
        """Items under ``namespace_prefix`` (``()``: all) whose value matches ``filter``.

        ``filter`` maps a field (or a dotted path) to a value (equality; nested
        objects compare field by field) or to operators ``{"$gt": 3, "$ne": 5}``
        (``$eq $ne $gt $gte $lt $lte``; ordering compares numbers with numbers and
        strings with strings). Order: newest ``updated_at`` first; with ``vector``,
        by cosine similarity, the items without vectors last. Every shard returns its
        best ``offset + limit``; the engine merges them. O(log n + visited) per shard
        without ``vector``; O(matches * dims) with it.

        Raises:
            TypeError, InvalidArgument: for a bad prefix, filter, limit, offset or vector.
        """
        prefix = check_namespace("namespace_prefix", namespace_prefix, allow_empty=True)
        frozen = check_filter(filter)
        limit_n = check_limit("limit", limit)
        offset_n = check_offset("offset", offset)
        query = None if vector is None else _vector("vector", vector)
        k = None if limit_n is None else offset_n + limit_n
        refresh = check_bool("refresh_ttl", refresh_ttl)
        parts = await self._backend.scatter(
            Call(ops.SEARCH_ITEMS, (prefix, frozen, k, query, refresh))
        )
        merged = heapq.merge(*parts, key=lambda hit: hit[0])
        stop = None if limit_n is None else offset_n + limit_n
        return [ItemHit(item, score) for _, item, score in itertools.islice(merged, offset_n, stop)]

    async def list_namespaces(
        self,
        *,
        prefix: Sequence[str] | None = None,
        suffix: Sequence[str] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """The distinct namespaces holding items, sorted; ``prefix``/``suffix`` filter
        them (``"*"`` matches any one label), ``max_depth`` cuts them to that many
        labels (then deduplicated). O(m log m) for the m namespaces visited.

        Raises:
            TypeError, InvalidArgument: for a bad prefix, suffix, depth, limit or offset.
        """
        pre = None if prefix is None else check_namespace("prefix", prefix, allow_empty=True)
        suf = None if suffix is None else check_namespace("suffix", suffix, allow_empty=True)
        depth = None if max_depth is None else check_limit("max_depth", max_depth)
        if depth == 0:
            raise InvalidArgument("max_depth: expected a positive int or None, got 0")
        limit_n = check_limit("limit", limit)
        offset_n = check_offset("offset", offset)
        parts = await self._backend.scatter(Call(ops.LIST_ITEM_NAMESPACES, (pre, suf, depth)))
        names = sorted(set().union(*map(set, parts)))
        return names[offset_n : None if limit_n is None else offset_n + limit_n]
