"""``ShardmemStore``: LangGraph's ``BaseStore`` contract on shardmem — reads, writes,
filters, order, namespaces, TTL in minutes swept by the engine, copies, threads,
semantic search, the async face, durability."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import trio.testing

pytest.importorskip(
    "langgraph", reason="install the langgraph extra: pip install -e '.[langgraph]'"
)

from langgraph.store.base import GetOp, PutOp, SearchOp

from engine import InvalidArgument, start_blocking_engine
from engine.integrations.langgraph import ShardmemStore
from tests.integrations.langgraph.embedder import DIMS, embed


@pytest.fixture
def store() -> Any:
    with ShardmemStore(shards=4) as made:
        yield made


def test_put_get_delete_and_timestamps(store: ShardmemStore) -> None:
    store.put(("users", "alice"), "prefs", {"theme": "dark", "size": 3})
    item = store.get(("users", "alice"), "prefs")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (
        ("users", "alice"),
        "prefs",
        {"theme": "dark", "size": 3},
    )
    assert item.created_at == item.updated_at and item.created_at.tzinfo is not None
    store.put(("users", "alice"), "prefs", {"theme": "light"})
    again = store.get(("users", "alice"), "prefs")
    assert again is not None and again.value == {"theme": "light"}
    assert again.created_at == item.created_at and again.updated_at >= item.updated_at
    store.delete(("users", "alice"), "prefs")
    assert store.get(("users", "alice"), "prefs") is None
    assert store.list_namespaces() == []  # a read never creates a namespace


def test_values_handed_out_are_copies(store: ShardmemStore) -> None:
    value = {"tags": ["a"], "nested": {"n": 1}}
    store.put(("ns",), "k", value)
    value["tags"].append("changed")
    got = store.get(("ns",), "k")
    assert got is not None and got.value == {"tags": ["a"], "nested": {"n": 1}}
    got.value["nested"]["n"] = 99
    assert store.get(("ns",), "k").value["nested"]["n"] == 1  # type: ignore[union-attr]


def test_search_filters_operators_nested_order_and_pages(store: ShardmemStore) -> None:
    for n in range(6):
        store.put(
            ("docs", f"u{n % 2}"),
            f"d{n}",
            {"n": n, "meta": {"kind": "even" if n % 2 == 0 else "odd"}},
        )
    newest_first = [i.key for i in store.search(("docs",), limit=10)]
    assert newest_first == ["d5", "d4", "d3", "d2", "d1", "d0"]
    assert [i.key for i in store.search(("docs",), filter={"n": {"$gte": 2, "$lt": 5}})] == [
        "d4",
        "d3",
        "d2",
    ]
    assert [
        i.key for i in store.search(("docs",), filter={"n": {"$ne": 5}, "meta": {"kind": "odd"}})
    ] == ["d3", "d1"]
    assert [i.key for i in store.search(("docs",), filter={"meta.kind": "even"})] == [
        "d4",
        "d2",
        "d0",
    ]
    assert [i.key for i in store.search(("docs", "u0"))] == ["d4", "d2", "d0"]
    assert [i.key for i in store.search(("docs",), limit=2, offset=1)] == ["d4", "d3"]
    assert store.search(("nothing",)) == []
    with pytest.raises(InvalidArgument, match=r"\$regex"):
        store.search(("docs",), filter={"n": {"$regex": "x"}})


def test_list_namespaces_prefix_suffix_wildcards_depth(store: ShardmemStore) -> None:
    for ns in [("a", "b", "c"), ("a", "b", "d"), ("a", "x", "c"), ("z", "c")]:
        store.put(ns, "k", {"v": 1})
    assert store.list_namespaces() == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "x", "c"),
        ("z", "c"),
    ]
    assert store.list_namespaces(prefix=("a", "b")) == [("a", "b", "c"), ("a", "b", "d")]
    assert store.list_namespaces(suffix=("c",)) == [("a", "b", "c"), ("a", "x", "c"), ("z", "c")]
    assert store.list_namespaces(prefix=("a", "*", "c")) == [("a", "b", "c"), ("a", "x", "c")]
    assert store.list_namespaces(max_depth=2) == [("a", "b"), ("a", "x"), ("z", "c")]
    assert store.list_namespaces(limit=2, offset=1) == [("a", "b", "d"), ("a", "x", "c")]


def test_batch_reads_see_the_store_before_its_puts(store: ShardmemStore) -> None:
    store.put(("ns",), "k", {"v": 1})
    results = store.batch(
        [
            PutOp(("ns",), "k", {"v": 2}),
            GetOp(("ns",), "k"),
            SearchOp(("ns",)),
            PutOp(("ns",), "k", {"v": 3}),
        ]
    )
    assert results[0] is None and results[1].value == {"v": 1}  # type: ignore[union-attr]
    assert store.get(("ns",), "k").value == {"v": 3}  # type: ignore[union-attr]


def test_ttl_in_minutes_expires_and_refreshes_on_read() -> None:
    clock = trio.testing.MockClock(rate=0)
    with ShardmemStore(ttl={"default_ttl": 1.0, "refresh_on_read": True}, clock=clock) as store:
        jump = store.engine.call_in_engine_thread
        store.put(("ns",), "read", {"v": 1})
        store.put(("ns",), "idle", {"v": 2})
        store.put(("ns",), "forever", {"v": 3}, ttl=None)
        jump(clock.jump, 50)
        assert store.get(("ns",), "read") is not None  # restarts its minute
        assert store.get(("ns",), "idle", refresh_ttl=False) is not None
        jump(clock.jump, 20)
        assert store.get(("ns",), "idle") is None
        assert {i.key for i in store.search(("ns",), refresh_ttl=False)} == {"read", "forever"}
        jump(clock.jump, 45)
        assert [i.key for i in store.search(("ns",))] == ["forever"]
        shards = store.engine.statistics().shards
        assert sum(shard.store.expiry_entries for shard in shards) == 0  # swept at deadline


def test_store_supports_ttl_and_rejects_bad_ttl(store: ShardmemStore) -> None:
    assert store.supports_ttl
    with pytest.raises(InvalidArgument):
        store.put(("ns",), "k", {"v": 1}, ttl=-1)


def test_semantic_search_ranks_by_cosine_and_index_false_is_unscored() -> None:
    index = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    with ShardmemStore(index=index) as store:  # type: ignore[arg-type]
        store.put(("m",), "tea", {"text": "green tea with jasmine"})
        store.put(("m",), "cars", {"text": "fast red cars on the road"})
        store.put(("m",), "plain", {"text": "green tea too"}, index=False)
        hits = store.search(("m",), query="jasmine tea")
        assert [h.key for h in hits] == ["tea", "cars", "plain"]
        assert hits[0].score is not None and hits[0].score > hits[1].score  # type: ignore[operator]
        assert hits[2].score is None
        filtered = store.search(
            ("m",), query="jasmine tea", filter={"text": "fast red cars on the road"}
        )
        assert [h.key for h in filtered] == ["cars"]


def test_many_threads_write_at_once(store: ShardmemStore) -> None:
    def worker(n: int) -> None:
        for i in range(50):
            store.put(("t", str(n)), str(i), {"i": i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.search(("t",), limit=1000)) == 400
    assert len(store.list_namespaces(prefix=("t",))) == 8


def test_async_face_and_a_sync_call_inside_the_loop(store: ShardmemStore) -> None:
    async def main() -> tuple[Any, ...]:
        await asyncio.gather(*(store.aput(("a", str(n)), "k", {"n": n}) for n in range(20)))
        found = await store.asearch(("a",), filter={"n": {"$lt": 5}}, limit=50)
        inline = store.get(("a", "3"), "k")  # a sync call on the loop's thread
        await store.adelete(("a", "3"), "k")
        return (
            found,
            inline,
            await store.aget(("a", "3"), "k"),
            await store.alist_namespaces(prefix=("a",)),
        )

    found, inline, gone, namespaces = asyncio.run(main())
    assert sorted(i.value["n"] for i in found) == [0, 1, 2, 3, 4]
    assert inline is not None and gone is None and len(namespaces) == 19


def test_durable_store_keeps_items_ttls_and_vectors(tmp_path: Path) -> None:
    index = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    with ShardmemStore(index=index, data_dir=str(tmp_path), shards=2) as store:  # type: ignore[arg-type]
        store.put(("m",), "tea", {"text": "green tea"}, ttl=10)
        store.put(("m",), "cars", {"text": "red cars"})
    with ShardmemStore(index=index, data_dir=str(tmp_path), shards=3) as store:  # type: ignore[arg-type]
        assert [h.key for h in store.search(("m",), query="tea")] == ["tea", "cars"]
        stored = store.engine.items.get(("m",), "tea")
        assert stored.expires_at == pytest.approx(stored.updated_at + 600)


def test_a_shared_engine_stays_open() -> None:
    engine = start_blocking_engine()
    try:
        with ShardmemStore(engine=engine) as store:
            store.put(("ns",), "k", {"v": 1})
        assert engine.items.get(("ns",), "k") is not None
        with pytest.raises(TypeError, match="not both"):
            ShardmemStore(engine=engine, shards=2)
    finally:
        engine.close()


@pytest.mark.redis
def test_the_same_store_on_redis() -> None:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to a Redis URL to run the Redis tests")
    index = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    prefix = f"lg{uuid.uuid4().hex[:10]}"
    with ShardmemStore(index=index, redis_url=url, prefix=prefix) as store:  # type: ignore[arg-type]
        try:
            store.put(("m", "a"), "tea", {"text": "green tea", "n": 1}, ttl=10)
            store.put(("m", "b"), "cars", {"text": "red cars", "n": 2})
            assert [h.key for h in store.search(("m",), query="tea")] == ["tea", "cars"]
            assert [h.key for h in store.search(("m",), filter={"n": {"$gt": 1}})] == ["cars"]
            assert store.list_namespaces(prefix=("m",)) == [("m", "a"), ("m", "b")]
            assert store.get(("m", "a"), "tea").value == {"text": "green tea", "n": 1}  # type: ignore[union-attr]
        finally:
            store.engine.drop(forget=True)
