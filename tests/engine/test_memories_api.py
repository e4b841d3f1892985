"""``mem.memories``: upsert, get, list, search, topics, delete, clear."""

from __future__ import annotations

import pytest
import trio
from trio.testing import MockClock

from engine import InvalidArgument, MemoryEngine, UserMemory

from .conftest import START

FACTS = [
    ("m0", "Name is Alice", ("name",)),
    ("m1", "Lives in Paris with two cats", ("home", "pets")),
    ("m2", "Prefers email over phone calls", ("contact",)),
    ("m3", "Allergic to cats", ("health", "pets")),
    ("m4", "Works as a nurse in a hospital", ("work",)),
]


async def _remember(mem: MemoryEngine, user: str = "alice") -> None:
    for mid, text, topics in FACTS:
        await mem.memories.upsert(
            UserMemory(user_id=user, memory_id=mid, memory=text, topics=topics)
        )
        await trio.sleep(1)


async def test_upsert_generates_an_id_and_keeps_created_at(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    stored = await mem.memories.upsert(UserMemory(user_id="alice", memory="likes tea"))
    assert stored.memory_id is not None and len(stored.memory_id) == 32
    assert stored.created_at == stored.updated_at == START
    await trio.sleep(4)
    again = await mem.memories.upsert(
        UserMemory(user_id="alice", memory_id=stored.memory_id, memory="likes green tea")
    )
    assert again.created_at == START and again.updated_at == START + 4
    assert await mem.memories.get(stored.memory_id, user_id="alice") == again
    assert await mem.memories.get(stored.memory_id, user_id="bob") is None


async def test_same_memory_id_for_two_users_is_two_memories(mem: MemoryEngine) -> None:
    await mem.memories.upsert(UserMemory(user_id="alice", memory_id="m", memory="a"))
    await mem.memories.upsert(UserMemory(user_id="bob", memory_id="m", memory="b"))
    got_a = await mem.memories.get("m", user_id="alice")
    got_b = await mem.memories.get("m", user_id="bob")
    assert got_a is not None and got_a.memory == "a"
    assert got_b is not None and got_b.memory == "b"


async def test_keyword_search_is_ranked(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _remember(mem)
    await _remember(mem, user="bob")
    found = await mem.memories.search("alice", query="Does she have cats?", limit=5)
    assert {m.memory_id for m in found} == {"m1", "m3"}
    assert all(m.user_id == "alice" for m in found)
    # "allergic" is rare and "cats" appears twice: the allergy memory ranks first.
    found = await mem.memories.search("alice", query="allergic cats", limit=5)
    assert [m.memory_id for m in found] == ["m3", "m1"]
    # A topic word matches too.
    assert [m.memory_id for m in await mem.memories.search("alice", query="health")] == ["m3"]
    assert await mem.memories.search("alice", query="quantum chromodynamics") == []
    assert len(await mem.memories.search("alice", query="cats", limit=1)) == 1


async def test_last_n_and_first_n(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _remember(mem)
    last = await mem.memories.search("alice", method="last_n", limit=2)
    assert [m.memory_id for m in last] == ["m3", "m4"]
    first = await mem.memories.search("alice", method="first_n", limit=2)
    assert [m.memory_id for m in first] == ["m0", "m1"]
    assert await mem.memories.search("nobody", method="last_n") == []


async def test_list_filters(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _remember(mem)
    await mem.memories.upsert(
        UserMemory(
            user_id="bob", memory_id="b1", memory="Has a dog", topics=("pets",), agent_id="x"
        )
    )
    assert [m.memory_id for m in await mem.memories.list(user_id="alice")] == [
        "m4",
        "m3",
        "m2",
        "m1",
        "m0",
    ]
    pets = await mem.memories.list(user_id="alice", topics=["pets", "work"])
    assert [m.memory_id for m in pets] == ["m4", "m3", "m1"]
    assert [m.memory_id for m in await mem.memories.list(topics=["pets"])] == ["b1", "m3", "m1"]
    assert [m.memory_id for m in await mem.memories.list(agent_id="x")] == ["b1"]
    assert [m.memory_id for m in await mem.memories.list(text="CATS")] == ["m3", "m1"]
    page = await mem.memories.list(
        user_id="alice", order_by="created_at", descending=False, limit=2, offset=1
    )
    assert [m.memory_id for m in page] == ["m1", "m2"]


async def test_topics_delete_and_clear(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _remember(mem)
    await mem.memories.upsert(UserMemory(user_id="bob", memory="x", topics=("sports",)))
    assert await mem.memories.topics(user_id="alice") == [
        "contact",
        "health",
        "home",
        "name",
        "pets",
        "work",
    ]
    assert "sports" in await mem.memories.topics()
    assert await mem.memories.delete("m3", user_id="alice") is True
    assert await mem.memories.delete("m3", user_id="alice") is False
    assert "health" not in await mem.memories.topics(user_id="alice")
    assert await mem.memories.search("alice", query="allergic") == []
    assert await mem.memories.clear("alice") == 4
    assert await mem.memories.list(user_id="alice") == []
    assert await mem.memories.topics() == ["sports"]
    assert mem.statistics().memories == 1


async def test_memory_ttl_hides_it_from_every_read(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.memories.upsert(
        UserMemory(user_id="alice", memory_id="t", memory="temporary cats", topics=("tmp",)),
        ttl=5,
    )
    assert len(await mem.memories.search("alice", query="cats")) == 1
    await trio.sleep(5)
    assert await mem.memories.get("t", user_id="alice") is None
    assert await mem.memories.search("alice", query="cats") == []
    assert await mem.memories.topics(user_id="alice") == []
    assert await mem.memories.list() == []
    assert mem.statistics().expired == 1


async def test_search_validation(mem: MemoryEngine) -> None:
    with pytest.raises(InvalidArgument, match="method"):
        await mem.memories.search("alice", "x", method="vector")
    with pytest.raises(TypeError, match="query"):
        await mem.memories.search("alice", None)
    with pytest.raises(InvalidArgument, match="limit"):
        await mem.memories.search("alice", "x", limit=-1)
