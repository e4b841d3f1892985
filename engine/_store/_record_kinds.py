"""LangGraph's record kinds — namespaced items and checkpoint threads — in the shard
store's TTL plumbing and memory budget.

Both are stored as rows the cyclic GC untracks (``engine._store._item_table``,
``engine._store._checkpoint_table``), accounted in the shard's budget and evicted by
its policy like the other kinds: an item is one unit, a checkpoint thread (its
checkpoints, channel blobs and pending writes) is one unit, never half of one.
"""

from __future__ import annotations

from typing import Any, Final

from engine._core._config import EngineConfig
from engine._core._rows import EXPIRES
from engine._store._base import ACCOUNTED, TTL, StoreBase
from engine._store._checkpoint_table import T_COST, CheckpointTable
from engine._store._eviction import Eviction
from engine._store._item_table import ItemTable, item_cost

__all__ = ["ITEM", "LANGGRAPH_KINDS", "THREAD", "RecordKinds"]

ITEM: Final = 4
THREAD: Final = 5
#: The kinds of this module: accounted and evictable, next to ``ACCOUNTED``'s.
LANGGRAPH_KINDS: Final = frozenset((ITEM, THREAD))


class RecordKinds(StoreBase):
    """The item and checkpoint-thread kinds in the expiry index, the TTL plumbing and
    the memory budget (rows of both start with ``expires_at``, as every row does)."""

    def __init__(self, config: EngineConfig) -> None:
        self.items = ItemTable()
        self.threads = CheckpointTable()
        super().__init__(config)
        self._expired.extend((0, 0))

    def reconfigure(self, config: EngineConfig) -> None:
        """As :meth:`StoreBase.reconfigure`; the eviction policy also evicts items and
        threads."""
        previous = getattr(self, "_eviction", None)
        super().reconfigure(config)
        if self._eviction is previous:
            return
        self._eviction = Eviction(config.eviction_policy, ACCOUNTED | LANGGRAPH_KINDS)
        if previous is not None:  # a new policy starts from the records as they are
            for kind in (*sorted(ACCOUNTED), ITEM, THREAD):
                for key, row in self._records_of(kind).items():
                    self._eviction.written((kind, key), row[EXPIRES] is not None)

    # The hooks StoreBase calls for the kinds outside its own row tables.

    def _other_records(self, kind: int) -> dict[Any, Any]:
        if kind == ITEM:
            return self.items.records
        if kind == THREAD:
            return self.threads.threads
        return super()._other_records(kind)

    def _other_expires(self, kind: int, record: Any) -> float | None:
        if kind in LANGGRAPH_KINDS:
            expires: float | None = record[EXPIRES]
            return expires
        return super()._other_expires(kind, record)

    def _langgraph_used(self) -> int:
        """The bytes items and threads account for, summed again (for ``_check``)."""
        items = sum(map(item_cost, self.items.records.values()))
        threads: int = sum(row[T_COST] for row in self.threads.threads.values())
        return items + threads

    # -- the budget ---------------------------------------------------------------

    def _make_room(self, kind: int, key: Any, row: Any, grow: int | None = None) -> None:
        if kind != ITEM:
            super()._make_room(kind, key, row, grow)
            return
        old = self.items.records.get(key)
        size = item_cost(row)
        self._fit(ITEM, key, size, size - (0 if old is None else item_cost(old)), "an item")

    def _fit_thread(self, thread_id: str, grow: int) -> None:
        row = self.threads.threads.get(thread_id)
        self._fit(
            THREAD,
            thread_id,
            grow + (0 if row is None else row[T_COST]),
            grow,
            "a checkpoint thread",
        )

    def _thread_changed(self, thread_id: str, delta: int) -> None:
        """Account a thread's change of ``delta`` bytes; count it as written."""
        self.used_memory += delta
        row = self.threads.threads[thread_id]
        self._eviction.written((THREAD, thread_id), row[EXPIRES] is not None)

    # -- tables ---------------------------------------------------------------------

    def _other_put(self, kind: int, key: Any, row: Any) -> None:
        if kind != ITEM:  # a thread is written through the checkpoint table
            super()._other_put(kind, key, row)
            return
        old = self.items.records.get(key)
        self.items.put(row)
        self.used_memory += item_cost(row) - (0 if old is None else item_cost(old))
        self._eviction.written((ITEM, key), row[EXPIRES] is not None)

    def _other_remove(self, kind: int, key: Any) -> Any:
        if kind != ITEM:
            return super()._other_remove(kind, key)
        row = self.items.remove(key)
        if row is not None:
            self.used_memory -= item_cost(row)
            self._eviction.removed((ITEM, key))
        return row

    def _remove(self, kind: int, key: Any) -> Any:
        """As :meth:`StoreBase._remove`; a thread goes whole (its deadline first:
        dropping its rows cannot be undone)."""
        if kind != THREAD:
            return super()._remove(kind, key)
        self._forget_deadline(THREAD, key)
        row = self.threads.drop(key)
        if row is not None:
            self.used_memory -= row[T_COST]
            self._eviction.removed((THREAD, key))
        return row

    def _set_thread_deadline(self, thread_id: str, ttl: TTL, expires: float | None) -> None:
        self._set_deadline(THREAD, thread_id, ttl, expires)
        self.threads.set_deadline(thread_id, expires)
