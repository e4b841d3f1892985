"""Keyword search and topics through the store and through the engine."""

from __future__ import annotations

import random

import attrs
import pytest
import trio

from engine import EngineConfig, ShardStore, UserMemory, open_memory_engine
from engine._core._queries import MemoryQuery
from engine._core._rows import memory_row
from engine._store._memory_table import MemoryTable, members

from ._keyword_support import START, layout, memory

# ------------------------------------------------------------------ through the store


def store_with(memories: list[UserMemory], ttl: float | None = None) -> ShardStore:
    store = ShardStore(EngineConfig())
    for stored in memories:
        store.upsert_memory(START, stored, ttl)
    return store


def test_store_search_skips_expired_memories_before_the_sweep() -> None:
    store = ShardStore(EngineConfig())
    store.upsert_memory(START, memory("rare", "paris tea"), 10.0)  # best match, expires
    store.upsert_memory(START, memory("a", "green tea"), None)
    store.upsert_memory(START, memory("b", "black tea"), None)
    found = store.search_memories(START + 5, "u", "paris tea", "keyword", 1)
    assert [m.memory_id for m in found] == ["rare"]
    # At the deadline, with no sweep yet: the expired best match is not returned, it is
    # removed (with its postings), and the next best fills the limit.
    found = store.search_memories(START + 10, "u", "paris tea", "keyword", 1)
    assert [m.memory_id for m in found] in (["a"], ["b"])
    assert ("u", "rare") not in store.memories.records
    assert "paris" not in store.memories.keywords._postings["u"]
    assert store.counts().expired_memories == 1
    store._check()


def _topic_counts(store: ShardStore, user: str) -> dict[str, int]:
    topics = store.memories.by_topic.get(user, {})
    return {topic: len(members(ids)) for topic, ids in topics.items()}


def test_a_repeated_topic_leaves_the_other_memories_of_that_topic() -> None:
    store = store_with([memory("1", "x", "food", "food"), memory("2", "y", "food")])
    assert set(members(store.memories.by_topic["u"]["food"])) == {"1", "2"}
    store.delete_memory(START, "u", "1")
    assert store.memories.by_topic["u"] == {"food": "2"}
    assert store.memory_topics(START, "u") == ["food"]
    store._check()


def test_store_topics_count_and_listing() -> None:
    store = store_with(
        [
            memory("1", "likes tea", "food", "drinks"),
            memory("2", "likes pasta", "food"),
            memory("3", "has a dog", "pets"),
            memory("4", "other user", "travel", user="v"),
        ]
    )
    assert _topic_counts(store, "u") == {"food": 2, "drinks": 1, "pets": 1}
    assert store.memory_topics(START, "u") == ["drinks", "food", "pets"]
    assert store.memory_topics(START, None) == ["drinks", "food", "pets", "travel"]
    assert store.memory_topics(START, "nobody") == []
    store.delete_memory(START, "u", "1")
    assert _topic_counts(store, "u") == {"food": 1, "pets": 1}
    # One memory left per topic: its id is kept inline, not in a set.
    assert store.memories.by_topic["u"] == {"food": "2", "pets": "3"}
    assert store.memory_topics(START, "u") == ["food", "pets"]
    store.delete_memory(START, "u", "2")
    store.delete_memory(START, "u", "3")
    assert "u" not in store.memories.by_topic
    assert "u" not in store.memories.keywords._postings
    store._check()


def test_store_topics_hide_expired_memories_before_the_sweep() -> None:
    store = ShardStore(EngineConfig())
    store.upsert_memory(START, memory("1", "likes tea", "food"), 5.0)
    store.upsert_memory(START, memory("2", "has a dog", "pets"), None)
    assert store.memory_topics(START + 4.5, "u") == ["food", "pets"]
    assert store.memory_topics(START + 5, "u") == ["pets"]
    assert store.memory_topics(START + 5, None) == ["pets"]
    assert store.expire_due(START + 5) == 1
    assert _topic_counts(store, "u") == {"pets": 1}
    store._check()


# ----------------------------------------------------------------- through the engine


async def test_engine_keyword_search_ranks_and_filters(autojump_clock: object) -> None:
    async with open_memory_engine(shards=3, start_time=START) as mem:
        for mid, text, topics in [
            ("m1", "Likes green tea", ()),
            ("m2", "Drinks tea every morning", ()),
            ("m3", "Went to Paris for tea", ()),
            ("m4", "Has a dog named Rex", ("pets",)),
            ("m5", "Tea, tea and more tea", ()),
        ]:
            await mem.memories.upsert(
                UserMemory(user_id="alice", memory_id=mid, memory=text, topics=topics)
            )
        await mem.memories.upsert(UserMemory(user_id="bob", memory_id="b1", memory="Paris"))
        found = await mem.memories.search("alice", "paris tea", limit=10)
        assert found[0].memory_id == "m3"  # the only one with the rare word
        assert {m.memory_id for m in found} == {"m1", "m2", "m3", "m5"}
        assert [m.memory_id for m in await mem.memories.search("alice", "pets")] == ["m4"]
        assert await mem.memories.search("alice", "zebra") == []
        assert await mem.memories.search("alice", "the and") == []
        assert [m.memory_id for m in await mem.memories.search("bob", "paris tea")] == ["b1"]
        assert len(await mem.memories.search("alice", "tea", limit=2)) == 2
        assert await mem.memories.topics(user_id="alice") == ["pets"]


async def test_engine_keyword_search_forgets_expired_and_deleted(autojump_clock: object) -> None:
    async with open_memory_engine(shards=2, start_time=START) as mem:
        await mem.memories.upsert(
            UserMemory(user_id="u", memory_id="short", memory="paris trip", topics=("travel",)),
            ttl=10,
        )
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="keep", memory="tea"))
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="gone", memory="paris"))
        assert await mem.memories.delete("gone", user_id="u")
        assert [m.memory_id for m in await mem.memories.search("u", "paris")] == ["short"]
        await trio.sleep(10)
        assert await mem.memories.search("u", "paris travel") == []
        assert await mem.memories.topics(user_id="u") == []
        for store in mem._stores:
            store._check()
            postings = store.memories.keywords._postings
            assert not any(term in ("paris", "travel") for p in postings.values() for term in p)


async def test_engine_keyword_search_without_a_limit_returns_every_match(
    autojump_clock: object,
) -> None:
    # Regression: limit=None passed validation, then crashed inside the shard.
    async with open_memory_engine(shards=2, start_time=START) as mem:
        for i in range(12):
            await mem.memories.upsert(UserMemory(user_id="u", memory_id=f"m{i}", memory="tea"))
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="other", memory="coffee"))
        assert len(await mem.memories.search("u", method="last_n", limit=None)) == 13
        found = await mem.memories.search("u", "tea", limit=None)
        assert sorted(m.memory_id for m in found) == sorted(f"m{i}" for i in range(12))


@pytest.mark.parametrize("seed", range(6))
def test_a_bulk_load_of_memories_gives_the_table_puts_give(seed: int) -> None:
    """``MemoryTable.load_many`` (recovery) into an empty table or one holding
    memories: the same rows, topics, keyword postings (forms and orders) and
    answers as putting them one at a time."""
    rng = random.Random(seed)
    words = ["tea", "green", "paris", "dog", "the", "Café", "walks"]
    rows = [
        memory_row(
            attrs.evolve(
                memory(
                    f"m{i}",
                    " ".join(rng.choices(words, k=rng.randint(0, 6))),
                    *rng.sample(["food", "pets", "tea"], rng.randint(0, 2)),
                    user=rng.choice(["u", "v", "w"]),
                ),
                created_at=START + rng.randint(0, 9),
                updated_at=START + rng.randint(10, 19),
            )
        )
        for i in range(rng.randint(20, 120))
    ]
    held = rng.randint(0, len(rows))
    one_by_one, bulk = MemoryTable(), MemoryTable()
    for row in rows[:held]:
        one_by_one.put(row)
        bulk.put(row)
    for row in rows[held:]:
        one_by_one.put(row)
    bulk.load_many(rows[held:])
    bulk._check()
    assert bulk.records == one_by_one.records
    assert bulk.by_topic == one_by_one.by_topic
    assert layout(bulk.keywords) == layout(one_by_one.keywords)
    for user in ("u", "v", "w", None):
        for query in ("tea", "green paris dog", "café walks"):
            if user is not None:
                found = bulk.keywords.search(user, query, 5)
                assert found == one_by_one.keywords.search(user, query, 5)
        for order in ("updated_at", "created_at"):
            asked = MemoryQuery(user_id=user, order_by=order, descending=rng.random() < 0.5)
            assert list(bulk.scan(asked)) == list(one_by_one.scan(asked))
    # the ordered indexes hold the very key tuples the records dict holds (no copy)
    keys = {id(key) for key in bulk.records}
    for index in (bulk.by_updated, bulk.by_created):
        assert all(id(key) in keys for _, key in index.scan(("all",), descending=False))
    with pytest.raises(ValueError, match="already stored"):
        bulk.load_many(rows[:1])
