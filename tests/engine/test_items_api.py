"""``mem.items``: namespaced JSON items — writes, filters, order, namespaces, vectors,
TTLs in the expiry index, bad input, journal replay and store invariants."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from trio.testing import MockClock

from engine import EngineConfig, InvalidArgument, Item, MemoryEngine, ShardStore, open_memory_engine

from .conftest import START


async def test_put_keeps_created_at_and_freezes_the_value(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    value = {"a": [1, 2]}
    first = await mem.items.put(("u", "alice"), "k", value)
    value["a"].append(3)
    await trio.sleep(5)
    second = await mem.items.put(("u", "alice"), "k", {"a": [9]})
    assert first.value == {"a": (1, 2)} and first.created_at == START
    assert second.created_at == START and second.updated_at == START + 5
    with pytest.raises(TypeError, match="immutable"):
        second.value["b"] = 1  # type: ignore[index]
    assert await mem.items.delete(("u", "alice"), "k") is True
    assert await mem.items.delete(("u", "alice"), "k") is False


async def test_search_walks_newest_first_and_stops_at_k(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    for n in range(30):
        await mem.items.put(("ns", str(n % 3)), f"k{n:02}", {"n": n, "deep": {"even": n % 2 == 0}})
        await trio.sleep(1)
    hits = await mem.items.search(("ns",), limit=4, offset=2)
    assert [h.item.key for h in hits] == ["k27", "k26", "k25", "k24"]
    assert all(h.score is None for h in hits)
    evens = await mem.items.search(
        (), filter={"deep": {"even": True}, "n": {"$gt": 20}}, limit=None
    )
    assert [h.item.value["n"] for h in evens] == [28, 26, 24, 22]
    strings = await mem.items.search(("ns",), filter={"n": {"$gt": "a"}})
    assert strings == []  # numbers and strings never order against each other


async def test_list_namespaces_and_expired_namespaces_vanish(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.items.put(("a", "b"), "k", {}, ttl=10)
    await mem.items.put(("a", "c", "d"), "k", {})
    assert await mem.items.list_namespaces(prefix=("a",)) == [("a", "b"), ("a", "c", "d")]
    assert await mem.items.list_namespaces(suffix=("d",)) == [("a", "c", "d")]
    assert await mem.items.list_namespaces(max_depth=1) == [("a",)]
    await trio.sleep(10)
    assert await mem.items.list_namespaces() == [("a", "c", "d")]
    with pytest.raises(InvalidArgument, match="max_depth"):
        await mem.items.list_namespaces(max_depth=0)


async def test_vectors_rank_by_best_cosine(mem: MemoryEngine) -> None:
    await mem.items.put(("v",), "x", {}, vectors=[[1, 0], [0, 1]])
    await mem.items.put(("v",), "y", {}, vectors=[[0.6, 0.8]])
    await mem.items.put(("v",), "none", {})
    hits = await mem.items.search(("v",), vector=[0, 1])
    assert [h.item.key for h in hits] == ["x", "y", "none"]
    assert hits[0].score == pytest.approx(1.0) and hits[1].score == pytest.approx(0.8)
    with pytest.raises(InvalidArgument, match="dimensions"):
        await mem.items.search(("v",), vector=[1, 0, 0])


async def test_ttl_refresh_on_read_is_per_call(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.items.put(("t",), "k", {"v": 1}, ttl=10)
    await trio.sleep(8)
    assert (await mem.items.get(("t",), "k", refresh_ttl=True)).expires_at == START + 18  # type: ignore[union-attr]
    await trio.sleep(8)
    hits = await mem.items.search(("t",), refresh_ttl=True)
    assert hits[0].item.expires_at == START + 26
    await trio.sleep(10)
    assert await mem.items.get(("t",), "k") is None
    assert sum(s.store.expiry_entries for s in mem.statistics().shards) == 0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.items.put((), "k", {}), InvalidArgument, "at least one label"),
        (lambda m: m.items.put("ns", "k", {}), TypeError, "tuple of str"),
        (lambda m: m.items.put(("ns", ""), "k", {}), InvalidArgument, "non-empty"),
        (lambda m: m.items.put(("ns",), "k", [1]), TypeError, "dict"),
        (lambda m: m.items.put(("ns",), "k", {"x": {1}}), TypeError, "JSON"),
        (lambda m: m.items.put(("ns",), "k", {}, ttl=0), InvalidArgument, "ttl"),
        (lambda m: m.items.search(("ns",), filter={"x": {"$in": [1]}}), InvalidArgument, r"\$in"),
        (lambda m: m.items.search(("ns",), limit=-1), InvalidArgument, "limit"),
        (lambda m: m.items.get(("ns",), ""), InvalidArgument, "key"),
    ],
)
async def test_bad_input_is_refused_by_name(mem: MemoryEngine, call, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        await call(mem)


def test_store_invariants_through_writes_and_expiry() -> None:
    store = ShardStore(EngineConfig())
    now = 100.0
    for n in range(20):
        store.put_item(
            now + n,
            Item(namespace=("a", str(n % 4)), key=str(n), value={"n": n}),
            5.0 if n % 2 else None,
        )
    store._check()
    unscored = store.search_items(now + 20, ("a",), None, 3, (1.0,), False)
    assert [(item.key, score) for _, item, score in unscored] == [
        ("19", None),
        ("18", None),
        ("17", None),
    ]
    assert len(store.items) == 12  # the search removed the 8 expired items it walked past
    assert store.expire_due(now + 30) == 2
    store._check()
    assert len(store.items) == 10


async def test_items_replay_from_the_journal(tmp_path: Path) -> None:
    async with open_memory_engine(shards=2, data_dir=str(tmp_path)) as mem:
        await mem.items.put(("a",), "k1", {"v": 1}, ttl=3600)
        await mem.items.put(("a",), "k2", {"v": 2}, vectors=[[1.0, 0.0]])
        await mem.items.delete(("a",), "k1")
        await mem.items.put(("b",), "k3", {"v": 3})
    async with open_memory_engine(shards=3, data_dir=str(tmp_path)) as mem:
        hits = await mem.items.search((), limit=None)
        assert sorted(h.item.key for h in hits) == ["k2", "k3"]
        assert (await mem.items.get(("a",), "k2")).vectors == ((1.0, 0.0),)  # type: ignore[union-attr]
