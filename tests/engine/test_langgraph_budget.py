"""LangGraph's records (items, checkpoint threads) in the memory budget: accounted
like every row, evicted by the engine's policies — an item is one unit, a checkpoint
thread is one unit (never half of one) — refused under ``noeviction``, journaled as
deletes, and through the trusted snapshot path of recovery."""

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
from engine._core._item_rows import item_row
from engine._core._records import replace
from engine._store._checkpoint_table import T_COST
from engine._store._eviction import RECORD_OVERHEAD
from engine._store._item_table import ITEM_RECORD_OVERHEAD, item_cost
from engine._store._items import ITEM
from engine._store._store import ShardStore
from tests.engine.test_checkpoints_api import blob, checkpoint, write

NOW = 1_000.0
VALUE = {"v": "y" * 100}
ITEM_COST = item_cost(item_row(Item(namespace=("ns",), key="k0", value=VALUE)))
BUDGET = 9 * ITEM_COST + 100  # one shard: room for 9 such items, not 10
POLICIES = ["volatile-ttl", "volatile-lru", "allkeys-lru", "allkeys-lfu"]


def _store(policy: str, budget: int = BUDGET) -> ShardStore:
    return ShardStore(EngineConfig(shards=1, max_memory=budget, eviction_policy=policy))


def _item(store: ShardStore, key: str, ttl: float | None, now: float = NOW) -> None:
    store.put_item(now, Item(namespace=("ns",), key=key, value=VALUE), ttl)


def _thread(store: ShardStore, thread: str, ttl: float | None, steps: int = 2) -> None:
    for step in range(1, steps + 1):
        cid = f"00{step}"
        store.put_checkpoint(NOW, checkpoint(cid, thread=thread), (blob(cid, thread=thread),), ttl)
        store.put_checkpoint_writes(NOW, (write(cid, 0, b"w" * 10, thread=thread),), ttl)


def _holds_nothing_of(store: ShardStore, thread: str) -> bool:
    table = store.threads
    keys = [*table.checkpoints, *table.blobs, *table.writes, *table.index]
    runs = [key for keys in table.runs.values() for key in keys]
    return thread not in table.threads and all(key[0] != thread for key in keys + runs)


def test_items_are_accounted_as_their_bytes_plus_the_record_overhead() -> None:
    store = _store("noeviction", budget=10**9)
    _item(store, "k0", None)
    assert store.used_memory == ITEM_COST == ITEM_RECORD_OVERHEAD + 2 + 2 + len(b'{"v":"') + 102
    store.put_item(NOW, Item(namespace=("ns",), key="k0", value={}, vectors=[[1.0, 2.0]]), None)
    assert store.used_memory == ITEM_RECORD_OVERHEAD + 2 + 2 + 16  # two float64s, no value
    assert store.delete_item(NOW, ("ns",), "k0")
    assert store.used_memory == 0
    store._check()


def test_a_thread_is_accounted_as_the_sum_of_its_rows() -> None:
    store = _store("noeviction", budget=10**9)
    _thread(store, "t", None)
    assert store.used_memory == store.threads.threads["t"][T_COST] > 6 * RECORD_OVERHEAD
    store.prune_checkpoints(NOW, ("t",), "keep_latest")
    store._check()  # used_memory follows every shrink (checks the sum again)
    assert store.delete_checkpoint_thread(NOW, "t")
    assert store.used_memory == 0 and _holds_nothing_of(store, "t")


@pytest.mark.parametrize("policy", POLICIES)
def test_the_budget_holds_with_items_and_threads(policy: str) -> None:
    store = _store(policy, budget=12 * ITEM_COST)
    for i in range(60):
        if i % 10 == 0:
            _thread(store, f"t{i}", 50.0 + i)
        _item(store, f"k{i}", 100.0 + i)
        assert store.used_memory <= 12 * ITEM_COST
        store._check()
    assert store.evicted > 0
    assert store.get_item(NOW, ("ns",), "k59", False) is not None  # the newest stays
    for thread in list(store.threads.threads):  # what is left of a thread is all of it
        assert store.get_checkpoint(NOW, thread, "", "001") is not None
        assert store.get_checkpoint(NOW, thread, "", "002") is not None


def test_an_old_thread_goes_whole_for_new_items() -> None:
    store = _store("allkeys-lru")
    _thread(store, "old", None, steps=1)
    assert 2 * ITEM_COST < store.used_memory < 3 * ITEM_COST
    for i in range(9):
        _item(store, f"k{i}", None)
    assert store.evicted == 1 and len(store.items) == 9  # the thread made room for 3
    assert _holds_nothing_of(store, "old")
    assert store.get_checkpoint(NOW, "old", "", None) is None
    store._check()


def test_a_read_thread_is_recently_used() -> None:
    store = _store("allkeys-lru")
    _thread(store, "t", None, steps=1)
    for i in range(20):
        assert store.get_checkpoint(NOW, "t", "", None) is not None  # a point read
        _item(store, f"k{i}", None)
    assert store.evicted > 0 and "t" in store.threads.threads
    store._check()


def test_volatile_ttl_evicts_the_soonest_deadline_of_any_kind() -> None:
    store = _store("volatile-ttl")
    _item(store, "later", 500.0)
    _thread(store, "soon", 5.0, steps=1)
    store.store_working(NOW, WorkingMemory(conversation_id="c", data="x"), 50.0)
    while "soon" in store.threads.threads:
        _item(store, f"k{store.evicted}-{len(store.items)}", None)
    assert store.get_item(NOW, ("ns",), "later", False) is not None
    assert len(store.working) == 1
    store._check()


def test_noeviction_refuses_item_and_checkpoint_writes_and_keeps_everything() -> None:
    store = _store("noeviction")
    for i in range(9):
        _item(store, f"k{i}", None)
    used = store.used_memory
    with pytest.raises(MemoryLimitExceeded, match="an item"):
        _item(store, "k9", None)
    with pytest.raises(MemoryLimitExceeded, match="checkpoint thread"):
        store.put_checkpoint(NOW, checkpoint("001"), (blob("001"),), None)
    assert store.used_memory == used and len(store.items) == 9 and not store.threads.threads
    assert store.get_item(NOW, ("ns",), "k9", False) is None
    assert store.delete_item(NOW, ("ns",), "k0")  # deletes work, and free room
    _item(store, "k9", None)
    store._check()


def test_noeviction_refuses_pending_writes_and_an_imported_thread() -> None:
    store = _store("noeviction")
    _thread(store, "t", None, steps=1)
    while True:
        try:
            _item(store, f"k{len(store.items)}", None)
        except MemoryLimitExceeded:
            break
    records = store.export_checkpoint_thread(NOW, "t")
    with pytest.raises(MemoryLimitExceeded):
        store.put_checkpoint_writes(NOW, (write("001", 1, b"w" * 400),), None)
    renamed = tuple(replace(r, thread_id="copy") for r in records)
    with pytest.raises(MemoryLimitExceeded):
        store.import_checkpoint_thread(NOW, renamed, None)
    assert store.export_checkpoint_thread(NOW, "t") == records
    assert "copy" not in store.threads.threads
    store._check()


def test_a_unit_larger_than_the_budget_is_refused() -> None:
    store = _store("allkeys-lru")
    big = Item(namespace=("ns",), key="big", value={"v": "z" * BUDGET})
    with pytest.raises(MemoryLimitExceeded, match="cannot fit"):
        store.put_item(NOW, big, None)
    huge = replace(checkpoint("001"), data=b"z" * BUDGET)
    with pytest.raises(MemoryLimitExceeded, match="cannot fit"):
        store.put_checkpoint(NOW, huge, (), None)
    assert store.used_memory == 0 and store.evicted == 0
    store._check()


async def test_evictions_are_journaled_and_a_reopened_engine_holds_the_same(
    tmp_path: Path,
) -> None:
    config = EngineConfig(shards=1, max_memory=BUDGET, eviction_policy="allkeys-lru")
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        await mem.checkpoints.put(checkpoint("001"), [blob("001")], ttl=600)
        for i in range(20):
            await mem.items.put(("ns",), f"k{i}", VALUE, ttl=3600)
        assert mem.statistics().evicted > 0
        assert await mem.checkpoints.get("t") is None  # the oldest unit went
        before = await mem.snapshot()
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        after = await mem.snapshot()
        assert mem.statistics().evicted == 0  # replay repeats the journaled deletes
        assert mem.statistics().used_memory <= BUDGET
    after.pop("taken_at"), before.pop("taken_at")
    assert after == before
    assert "checkpoints" not in before and len(before["items"]) < 20


async def test_a_compacted_snapshot_with_langgraph_records_recovers(tmp_path: Path) -> None:
    config = EngineConfig(shards=2, max_memory=100 * BUDGET, eviction_policy="allkeys-lru")
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        await mem.items.put(("a",), "k1", {"v": 1}, ttl=3600)
        await mem.items.put(("b",), "k2", {"v": 2}, vectors=[[1.0, 0.0]])
        await mem.checkpoints.put(checkpoint("001"), [blob("001")], ttl=600)
        await mem.checkpoints.put_writes([write("001", 0, b"w")])
        for i in range(40):
            await mem.working.store(f"c{i}", "x" * 50, ttl=None)
        await mem.compact()  # the same shard count: the snapshot's trusted bulk path
        before = await mem.snapshot()
        used = mem.statistics().used_memory
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        after = await mem.snapshot()
        saved = await mem.checkpoints.get("t")
        assert saved is not None and saved.blobs[0].data == b"\x00001"
        assert [w.data for w in saved.writes] == [b"w"]
        assert mem.statistics().evicted == 0 and mem.statistics().used_memory == used
        for store in mem._stores:
            store._check()
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


def test_a_new_policy_takes_the_stored_items_and_threads() -> None:
    store = _store("noeviction")
    _thread(store, "t", 10.0, steps=1)
    for i in range(5):
        _item(store, f"k{i}", None)
    store.reconfigure(EngineConfig(shards=1, max_memory=BUDGET, eviction_policy="volatile-lru"))
    for i in range(5, 12):  # only the thread has a TTL: it goes, then writes are refused
        try:
            _item(store, f"k{i}", None)
        except MemoryLimitExceeded:
            break
    assert _holds_nothing_of(store, "t") and store.evicted == 1
    assert len(store.items) == 9
    store._check()
