"""Shard store operations on namespaced items (LangGraph's ``BaseStore`` shape), and the
plumbing for the item and checkpoint-thread kinds in the shared TTL machinery."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Final

from engine._core._config import EngineConfig
from engine._core._item_filter import matches_filter, namespace_matches
from engine._core._items import Item
from engine._core._records import replace
from engine._core._vectors import Hit, rank_hits
from engine._store._base import TTL, StoreBase
from engine._store._checkpoint_table import CheckpointTable
from engine._store._item_table import ItemTable

__all__ = ["ITEM", "THREAD", "ItemOps", "RecordKinds"]

ITEM: Final = 4
THREAD: Final = 5

Namespace = tuple[str, ...]


class RecordKinds(StoreBase):
    """The item and checkpoint-thread kinds in the expiry index and the TTL plumbing.

    Unlike the other kinds, their tables hold ``attrs`` records (an :class:`Item`, a
    thread's mutable state), not rows: the accessors below read their deadline as
    ``.expires_at``. They are outside the memory budget (never accounted, never
    evicted; see docs/memory.md).
    """

    def __init__(self, config: EngineConfig) -> None:
        super().__init__(config)
        self._expired.extend((0, 0))
        self.items = ItemTable()
        self.threads = CheckpointTable()

    # The hooks StoreBase calls for the kinds it does not store as rows.

    def _other_records(self, kind: int) -> dict[Any, Any]:
        if kind == ITEM:
            return self.items.records
        if kind == THREAD:
            return self.threads.threads
        return super()._other_records(kind)

    def _other_expires(self, kind: int, record: Any) -> float | None:
        if kind in (ITEM, THREAD):
            expires: float | None = record.expires_at
            return expires
        return super()._other_expires(kind, record)

    @staticmethod
    def _current(record: Any, now: float) -> bool:
        """Whether an item or a thread state (not a row) is live at ``now``."""
        expires = record.expires_at
        return expires is None or expires > now

    def _other_put(self, kind: int, key: Any, record: Any) -> None:
        if kind == ITEM:
            self.items.put(record)
        elif kind == THREAD:
            self.threads.threads[key] = record
        else:
            super()._other_put(kind, key, record)

    def _other_remove(self, kind: int, key: Any) -> Any:
        if kind == ITEM:
            return self.items.remove(key)
        if kind == THREAD:
            return self.threads.drop(key)
        return super()._other_remove(kind, key)


class ItemOps(RecordKinds):
    """Items keyed by ``(namespace, key)``; each with its own TTL (seconds) that reads
    may restart (``refresh``)."""

    def put_item(self, now: float, item: Item, ttl: TTL) -> Item:
        """Insert or replace an item; ``created_at`` kept from the stored one. O(log n)."""
        ident = (item.namespace, item.key)
        old: Item | None = self._live(ITEM, ident, now)
        created = old.created_at if old is not None else now
        expires = self._deadline(now, ttl)
        stored = replace(item, created_at=created, updated_at=now, expires_at=expires)
        self._write(ITEM, ident, stored, ttl, expires)
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
        self._write(
            ITEM, (item.namespace, item.key), item, None if expires is None else ttl, expires
        )
        return True

    def get_item(self, now: float, namespace: Namespace, key: str, refresh: bool) -> Item | None:
        """The live item or ``None``; ``refresh`` restarts its TTL. O(1)."""
        ident = (namespace, key)
        item: Item | None = self._live(ITEM, ident, now)
        if item is None or not refresh:
            return item
        return self._refresh_item(ident, item, now)

    def _refresh_item(self, ident: Hashable, item: Item, now: float) -> Item:
        ttl = self._ttls.get((ITEM, ident))
        if ttl is None:
            return item
        expires = now + ttl
        item = replace(item, expires_at=expires)
        self.expiry.set(ITEM, ident, expires)
        self.items.records[ident] = item  # type: ignore[index]  # order key unchanged
        self.touches += 1
        return item

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
        ordered indexes and stopping after ``k`` matches (O(log n + visited)). With
        ``vector``: ranked by cosine similarity (the best of an item's vectors),
        items without vectors after the scored ones (O(m·d) for the m matches).
        ``refresh`` restarts the TTLs of the items returned.
        """
        expired: list[Any] = []
        hits: list[Hit] = []
        if k == 0:
            return hits
        for item in self.items.newest_first(prefix):
            if not self._current(item, now):
                expired.append((item.namespace, item.key))
                continue
            if filter and not matches_filter(item.value, filter):
                continue
            hits.append(((-item.updated_at, item.namespace, item.key), item, None))  # type: ignore[operator]
            if vector is None and k is not None and len(hits) >= k:
                break
        for ident in expired:
            self._expire(ITEM, ident)
        if vector is not None:
            hits = rank_hits(hits, vector)[:k]
        if refresh:
            hits = [
                (order, self._refresh_item((item.namespace, item.key), item, now), score)
                for order, item, score in hits
            ]
        return hits

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
        for ns in self.items.under(fixed):
            if prefix and not namespace_matches(ns, prefix, suffix=False):
                continue
            if suffix and not namespace_matches(ns, suffix, suffix=True):
                continue
            order = self.items.by_namespace[ns]
            if not any(self._current(self.items.records[(ns, key)], now) for _, key in order):
                continue
            found.add(ns if max_depth is None else ns[:max_depth])
        return sorted(found)
