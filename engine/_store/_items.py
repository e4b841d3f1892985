"""Shard store operations on namespaced items (LangGraph's ``BaseStore`` shape).

Items are stored as rows (``engine._core._item_rows``) and built on read."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from engine._core._item_filter import matches_filter, namespace_matches
from engine._core._item_rows import I_KEY, I_NAMESPACE, item_of, item_row, item_value
from engine._core._items import Item
from engine._core._records import replace
from engine._core._rows import CREATED, EXPIRES, UPDATED
from engine._core._vectors import Hit, rank_hits
from engine._store._base import TTL
from engine._store._record_kinds import ITEM, THREAD, RecordKinds

__all__ = ["ITEM", "THREAD", "ItemOps", "RecordKinds"]

Namespace = tuple[str, ...]
Row = tuple[Any, ...]


class ItemOps(RecordKinds):
    """Items keyed by ``(namespace, key)``; each with its own TTL (seconds) that reads
    may restart (``refresh``)."""

    def put_item(self, now: float, item: Item, ttl: TTL) -> Item:
        """Insert or replace an item; ``created_at`` kept from the stored one.
        O(log n + size). May evict other records for the memory budget.

        Raises:
            MemoryLimitExceeded: when the item cannot fit (see ``docs/memory.md``).
        """
        namespace = self.items.interned(item.namespace)
        ident = (namespace, item.key)
        old: Row | None = self._live(ITEM, ident, now)
        created = old[CREATED] if old is not None else now
        expires = self._deadline(now, ttl)
        stored = replace(
            item, namespace=namespace, created_at=created, updated_at=now, expires_at=expires
        )
        self._write(ITEM, ident, item_row(stored), ttl, expires)
        return stored

    def delete_item(self, now: float, namespace: Namespace, key: str) -> bool:
        """Delete an item; ``False`` if there was no live one. O(log n)."""
        ident = (namespace, key)
        if self._live(ITEM, ident, now) is None:
            return False
        self._remove(ITEM, ident)
        return True

    def _load_item(self, now: float, item: Item, ttl: TTL) -> bool:
        """Put back a restored item as it was (timestamps kept); ``False`` if it had
        expired at ``now``. ``ttl`` defaults to ``expires_at - updated_at``."""
        expires = item.expires_at
        if expires is not None and expires <= now:
            return False
        if expires is not None and ttl is None:
            ttl = max(expires - item.updated_at, 1e-9)  # type: ignore[operator]
        item = replace(item, namespace=self.items.interned(item.namespace))
        ident = (item.namespace, item.key)
        self._write(ITEM, ident, item_row(item), None if expires is None else ttl, expires)
        return True

    def get_item(self, now: float, namespace: Namespace, key: str, refresh: bool) -> Item | None:
        """The live item or ``None``; ``refresh`` restarts its TTL. O(1 + size)."""
        ident = (namespace, key)
        row: Row | None = self._live(ITEM, ident, now)
        if row is None:
            return None
        self._eviction.read((ITEM, ident))
        if refresh:
            row = self._refresh_item(ident, row, now)
        return item_of(row)

    def _refresh_item(self, ident: Hashable, row: Row, now: float) -> Row:
        ttl = self._ttls.get((ITEM, ident))
        if ttl is None:
            return row
        expires = now + ttl
        row = (expires, *row[1:])
        self.expiry.set(ITEM, ident, expires)
        self.items.replace_row(row)  # order key unchanged
        self.touches += 1
        return row

    def search_items(
        self,
        now: float,
        prefix: Namespace,
        filter: Mapping[str, Any] | None,
        k: int | None,
        vector: tuple[float, ...] | None,
        refresh: bool,
    ) -> list[Hit]:
        """Up to ``k`` live items under ``prefix`` matching ``filter``, best first.

        Without ``vector``: newest ``updated_at`` first, walking the namespaces'
        ordered indexes and stopping after ``k`` matches (O(log n + visited); a
        ``filter`` decodes the value of each item visited). With ``vector``: ranked
        by cosine similarity (the best of an item's vectors), items without vectors
        after the scored ones (O(m·d) for the m matches). ``refresh`` restarts the
        TTLs of the items returned.
        """
        expired: list[Any] = []
        hits: list[Hit] = []
        if k == 0:
            return hits
        for row in self.items.newest_first(prefix):
            if not self._alive(row, now):
                expired.append((row[I_NAMESPACE], row[I_KEY]))
                continue
            value = None
            if filter:
                value = item_value(row)
                if not matches_filter(value, filter):
                    continue
            order = (-row[UPDATED], row[I_NAMESPACE], row[I_KEY])
            hits.append((order, item_of(row, value), None))
            if vector is None and k is not None and len(hits) >= k:
                break
        for ident in expired:
            self._expire(ITEM, ident)
        if vector is not None:
            hits = rank_hits(hits, vector)[:k]
        if refresh:
            hits = [(order, self._refreshed_item(item, now), score) for order, item, score in hits]
        return hits

    def _refreshed_item(self, item: Item, now: float) -> Item:
        ident = (item.namespace, item.key)
        row = self._refresh_item(ident, self.items.records[ident], now)
        return item if row[EXPIRES] == item.expires_at else replace(item, expires_at=row[EXPIRES])

    def list_item_namespaces(
        self,
        now: float,
        prefix: Namespace | None,
        suffix: Namespace | None,
        max_depth: int | None,
    ) -> list[Namespace]:
        """The sorted distinct namespaces holding live items, matching ``prefix`` and
        ``suffix`` (``"*"`` matches any label), cut to ``max_depth`` labels. O(m log m)
        for the m namespaces under the fixed part of ``prefix``."""
        fixed: Namespace = ()
        if prefix:
            cut = prefix.index("*") if "*" in prefix else len(prefix)
            fixed = prefix[:cut]
        found: set[Namespace] = set()
        records = self.items.records
        for ns in self.items.under(fixed):
            if prefix and not namespace_matches(ns, prefix, suffix=False):
                continue
            if suffix and not namespace_matches(ns, suffix, suffix=True):
                continue
            if not any(self._alive(records[(ns, key)], now) for _, key in self.items.keys_of(ns)):
                continue
            found.add(ns if max_depth is None else ns[:max_depth])
        return sorted(found)
