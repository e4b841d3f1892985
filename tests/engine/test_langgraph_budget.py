"""LangGraph's records (items, checkpoint threads) next to the row kinds: outside the
memory budget, and through the trusted snapshot path of recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import (
    EngineConfig,
    Item,
    MemoryLimitExceeded,
    WorkingMemory,
    open_memory_engine,
)
from engine._core._records import replace
from engine._store._eviction import RECORD_OVERHEAD
from engine._store._items import ITEM
from engine._store._store import ShardStore
from tests.engine.test_checkpoints_api import blob, checkpoint

NOW = 1_000.0
COST = RECORD_OVERHEAD + 2 + len("working") + 50  # of _working(store, "cN", ...)
BUDGET = 9 * COST + 100  # one shard: room for 9 such records, not 10


def _store(policy: str) -> ShardStore:
    return ShardStore(EngineConfig(shards=1, max_memory=BUDGET, eviction_policy=policy))


def _working(store: ShardStore, name: str, ttl: float | None) -> None:
    store.store_working(NOW, WorkingMemory(conversation_id=name, data="x" * 50), ttl)


def _fill_with_langgraph_records(store: ShardStore, ttl: float | None) -> None:
    for i in range(50):  # far more than the budget, if they counted
        store.put_item(NOW, Item(namespace=("ns",), key=f"k{i}", value={"v": "y" * 100}), ttl)
    store.put_checkpoint(NOW, checkpoint("001"), (blob("001"),), ttl)


@pytest.mark.parametrize("policy", ["volatile-ttl", "volatile-lru", "allkeys-lru", "allkeys-lfu"])
def test_items_and_threads_are_neither_accounted_nor_evicted(policy: str) -> None:
    store = _store(policy)
    _fill_with_langgraph_records(store, ttl=1.0)  # deadlines sooner than any below
    assert store.used_memory == 0
    for i in range(30):  # evicts working memories only, never an item or the thread
        _working(store, f"c{i}", 100.0 + i)
    assert len(store.items) == 50 and store.get_checkpoint(NOW, "t", "", None) is not None
    assert store.evicted == 30 - 9 and len(store.working) == 9
    store._check()


def test_volatile_ttl_with_only_item_deadlines_left_refuses() -> None:
    store = _store("volatile-ttl")
    _fill_with_langgraph_records(store, ttl=1.0)
    for i in range(9):
        _working(store, f"c{i}", None)
    with pytest.raises(MemoryLimitExceeded, match="no record left to evict"):
        _working(store, "v", 5.0)
    assert len(store.items) == 50
    store._check()


def test_a_budget_full_of_rows_still_takes_items() -> None:
    store = _store("noeviction")
    for i in range(9):
        _working(store, f"c{i}", None)
    with pytest.raises(MemoryLimitExceeded):
        _working(store, "c9", None)
    _fill_with_langgraph_records(store, ttl=None)
    assert len(store.items) == 50
    store._check()


async def test_a_compacted_snapshot_with_langgraph_records_recovers(tmp_path: Path) -> None:
    config = EngineConfig(shards=2, max_memory=2 * BUDGET, eviction_policy="allkeys-lru")
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        await mem.items.put(("a",), "k1", {"v": 1}, ttl=3600)
        await mem.items.put(("b",), "k2", {"v": 2}, vectors=[[1.0, 0.0]])
        await mem.checkpoints.put(checkpoint("001"), [blob("001")], ttl=600)
        for i in range(40):
            await mem.working.store(f"c{i}", "x" * 50, ttl=None)
        await mem.compact()  # the same shard count: the snapshot's trusted bulk path
        before = await mem.snapshot()
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        after = await mem.snapshot()
        saved = await mem.checkpoints.get("t")
        assert saved is not None and saved.blobs[0].data == b"\x00001"
        assert mem.statistics().evicted == 0
    after.pop("taken_at"), before.pop("taken_at")
    assert after == before
    assert [item["key"] for item in after["items"]] == ["k1", "k2"]


def test_the_row_loaders_refuse_items() -> None:
    store = _store("noeviction")
    item = Item(namespace=("ns",), key="k", value={})
    with pytest.raises(ValueError, match="not stored as rows"):
        store.load_row(NOW, ITEM, (("ns",), "k"), item, None)
    with pytest.raises(ValueError, match="not stored as rows"):
        store.load_rows(NOW, [(ITEM, (("ns",), "k"), item, None)])
    assert store.load(NOW, replace(item, created_at=NOW, updated_at=NOW), None)
    assert len(store.items) == 1
    store._check()
