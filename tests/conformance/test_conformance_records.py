"""User memories, working memory, knowledge and drop: the same on every backend."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import stored_counts

from engine import InvalidArgument, KnowledgeDoc, NotFound, Session, UserMemory

# ---------------------------------------------------------------------- memories


async def _facts(mem: Any) -> None:
    facts = [
        ("m1", "Name is Alice", ("name",)),
        ("m2", "Alice likes green tea", ("food", "drinks")),
        ("m3", "Works as a nurse in Lyon", ("work",)),
        ("m4", "Has a cat called Tea", ("pets",)),
    ]
    for mid, text, topics in facts:
        await mem.memories.upsert(
            UserMemory(user_id="alice", memory_id=mid, memory=text, topics=topics, agent_id="ag")
        )
    await mem.memories.upsert(UserMemory(user_id="bob", memory_id="m1", memory="Name is Bob"))


async def test_memory_upsert_get_and_identity(mem: Any) -> None:
    stored = await mem.memories.upsert(UserMemory(user_id="alice", memory="likes tea"))
    assert stored.memory_id is not None and len(stored.memory_id) == 32
    assert stored.created_at == stored.updated_at
    assert await mem.memories.get(stored.memory_id, user_id="alice") == stored
    assert await mem.memories.get(stored.memory_id, user_id="bob") is None
    again = await mem.memories.upsert(
        UserMemory(user_id="alice", memory_id=stored.memory_id, memory="likes coffee")
    )
    assert again.created_at == stored.created_at
    assert (await mem.memories.get(stored.memory_id, user_id="alice")).memory == "likes coffee"
    # the same memory_id under two users is two memories
    await mem.memories.upsert(UserMemory(user_id="bob", memory_id=stored.memory_id, memory="b"))
    assert (await mem.memories.get(stored.memory_id, user_id="alice")).memory == "likes coffee"


async def test_memory_list_filters_order_pagination(mem: Any) -> None:
    await _facts(mem)

    async def ids(**kwargs: Any) -> list[tuple[str, str]]:
        return [(m.user_id, m.memory_id) for m in await mem.memories.list(**kwargs)]

    assert await ids(user_id="alice") == [("alice", f"m{i}") for i in (4, 3, 2, 1)]
    assert await ids(user_id="alice", descending=False, limit=2, offset=1) == [
        ("alice", "m2"),
        ("alice", "m3"),
    ]
    assert await ids() == [("bob", "m1")] + [("alice", f"m{i}") for i in (4, 3, 2, 1)]
    assert await ids(user_id="alice", topics=["food", "pets"]) == [("alice", "m4"), ("alice", "m2")]
    assert await ids(topics=["name"]) == [("alice", "m1")]
    assert await ids(user_id="alice", topics=[]) == []
    assert await ids(text="TEA") == [("alice", "m4"), ("alice", "m2")]
    assert await ids(agent_id="ag", limit=1) == [("alice", "m4")]
    assert await ids(team_id="nope") == []
    assert await ids(order_by="created_at", limit=1) == [("bob", "m1")]


async def test_memory_search_methods(mem: Any) -> None:
    await _facts(mem)
    found = await mem.memories.search("alice", "tea", limit=5)
    assert {m.memory_id for m in found} == {"m2", "m4"}
    # topics count double: "Tea" the cat is only in the text; "drinks" only a topic
    assert [m.memory_id for m in await mem.memories.search("alice", "drinks")] == ["m2"]
    assert [m.memory_id for m in await mem.memories.search("alice", "name", limit=1)] == ["m1"]
    assert await mem.memories.search("alice", "zebra") == []
    assert await mem.memories.search("carol", "tea") == []
    assert [m.memory_id for m in await mem.memories.search("bob", "name")] == ["m1"]
    last = await mem.memories.search("alice", method="last_n", limit=2)
    assert [m.memory_id for m in last] == ["m3", "m4"]
    first = await mem.memories.search("alice", method="first_n", limit=2)
    assert [m.memory_id for m in first] == ["m1", "m2"]
    with pytest.raises(InvalidArgument):
        await mem.memories.search("alice", "x", method="vector")
    with pytest.raises(TypeError):
        await mem.memories.search("alice", None)


async def test_memory_search_ranking_matches_bm25(mem: Any) -> None:
    texts = {
        "a": "apple apple apple banana",
        "b": "apple banana cherry date elderberry fig grape",
        "c": "banana cherry",
        "d": "apple",
    }
    for mid, text in texts.items():
        await mem.memories.upsert(UserMemory(user_id="u", memory_id=mid, memory=text))
    ranked = [m.memory_id for m in await mem.memories.search("u", "apple cherry", limit=10)]
    # BM25 (k1=1.2, b=0.75): "c" is short and has the rarer term; "d" only "apple"
    assert ranked == ["c", "b", "a", "d"]
    # a memory updated away from the term leaves the postings
    await mem.memories.upsert(UserMemory(user_id="u", memory_id="d", memory="kiwi"))
    assert "d" not in [m.memory_id for m in await mem.memories.search("u", "apple")]


async def test_memory_topics_delete_clear(mem: Any) -> None:
    await _facts(mem)
    assert await mem.memories.topics(user_id="alice") == ["drinks", "food", "name", "pets", "work"]
    assert await mem.memories.topics(user_id="bob") == []
    assert await mem.memories.delete("m2", user_id="alice") is True
    assert await mem.memories.delete("m2", user_id="alice") is False
    assert await mem.memories.topics() == ["name", "pets", "work"]
    assert await mem.memories.search("alice", "green") == []
    assert await mem.memories.clear("alice") == 3
    assert await mem.memories.clear("alice") == 0
    assert await mem.memories.list(user_id="alice") == []
    assert await mem.memories.topics() == []
    assert [m.user_id for m in await mem.memories.list()] == ["bob"]
    assert (await stored_counts(mem)).memories == 1


# ---------------------------------------------------------------- working memory


async def test_working_store_retrieve_update_delete(mem: Any) -> None:
    stored = await mem.working.store("c1", "prefers email", metadata={"k": [1, 2.5]}, ttl=None)
    assert stored.expires_at is None and stored.created_at == stored.updated_at
    got = await mem.working.retrieve("c1")
    assert got == stored
    assert got.metadata == {"k": (1, 2.5)}
    assert await mem.working.retrieve("c1", memory_type="other") is None
    await mem.working.store("c1", "other slot", memory_type="other")
    updated = await mem.working.update("c1", "prefers phone")
    assert updated.data == "prefers phone" and updated.metadata == {"k": (1, 2.5)}
    assert updated.created_at == stored.created_at
    updated = await mem.working.update("c1", "x", metadata={"n": None})
    assert updated.metadata == {"n": None}
    assert await mem.working.retrieve("c1") == updated
    replaced = await mem.working.store("c1", "fresh")
    assert replaced.created_at == stored.created_at
    assert await mem.working.delete("c1") is True
    assert await mem.working.delete("c1") is False
    assert (await mem.working.retrieve("c1", memory_type="other")).data == "other slot"
    with pytest.raises(NotFound):
        await mem.working.update("c1", "gone")
    with pytest.raises(TypeError):
        await mem.working.store("c1", "x", metadata={"bad": {1, 2}})


async def test_working_default_ttl_is_twelve_hours(mem: Any) -> None:
    stored = await mem.working.store("c1", "data")
    assert stored.expires_at == stored.updated_at + 12 * 3600
    updated = await mem.working.update("c1", "d2")
    assert updated.expires_at == updated.updated_at + 12 * 3600
    explicit = await mem.working.update("c1", "d3", ttl=60)
    assert explicit.expires_at == explicit.updated_at + 60
    forever = await mem.working.update("c1", "d4", ttl=None)
    assert forever.expires_at is None
    assert (await stored_counts(mem)).working == 1


# --------------------------------------------------------------------- knowledge


async def test_knowledge_crud_and_list(mem: Any) -> None:
    first = await mem.knowledge.upsert(KnowledgeDoc(doc_id="d1", name="Handbook"))
    await mem.knowledge.upsert(KnowledgeDoc(doc_id="d2", name="FAQ", status="indexing"))
    await mem.knowledge.upsert(
        KnowledgeDoc(doc_id="d3", name="Policy", content_hash="abc", metadata={"pages": 3})
    )
    assert await mem.knowledge.get("d1") == first
    assert await mem.knowledge.get("nope") is None
    assert [d.doc_id for d in await mem.knowledge.list()] == ["d3", "d2", "d1"]
    assert [d.doc_id for d in await mem.knowledge.list(status="ready")] == ["d3", "d1"]
    assert [d.doc_id for d in await mem.knowledge.list(descending=False, limit=2, offset=1)] == [
        "d2",
        "d3",
    ]
    again = await mem.knowledge.upsert(KnowledgeDoc(doc_id="d1", name="Handbook v2"))
    assert again.created_at == first.created_at
    assert [d.doc_id for d in await mem.knowledge.list(limit=1)] == ["d1"]
    assert [d.doc_id for d in await mem.knowledge.list(order_by="created_at", limit=1)] == ["d3"]
    assert await mem.knowledge.delete("d2") is True
    assert await mem.knowledge.delete("d2") is False
    assert [d.doc_id for d in await mem.knowledge.list()] == ["d1", "d3"]


# -------------------------------------------------------------------------- drop


async def test_drop_removes_everything_and_counts_live_records(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="u"))
    await mem.sessions.upsert(Session(session_id="s2"))
    await _facts(mem)
    await mem.working.store("c1", "w")
    await mem.knowledge.upsert(KnowledgeDoc(doc_id="d1", name="n"))
    assert await mem.drop() == 2 + 5 + 1 + 1
    assert await mem.sessions.list() == []
    assert await mem.memories.list() == []
    assert await mem.memories.topics() == []
    assert await mem.memories.search("alice", "tea") == []
    assert await mem.working.retrieve("c1") is None
    assert await mem.knowledge.list() == []
    stats = await stored_counts(mem)
    assert (stats.records, stats.runs) == (0, 0)
    assert await mem.drop() == 0
    # the engine is still usable
    await mem.sessions.upsert(Session(session_id="s1", user_id="other"))
    assert (await mem.sessions.get("s1")).user_id == "other"


async def test_snapshot_has_every_live_record(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="u"))
    await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="x"))
    await mem.working.store("c1", "w")
    await mem.knowledge.upsert(KnowledgeDoc(doc_id="d1", name="n"))
    snapshot = await mem.snapshot()
    assert [r["session_id"] for r in snapshot["sessions"]] == ["s1"]
    assert [r["memory_id"] for r in snapshot["memories"]] == ["m"]
    assert [r["conversation_id"] for r in snapshot["working"]] == ["c1"]
    assert [r["doc_id"] for r in snapshot["knowledge"]] == ["d1"]


async def test_keyword_search_without_a_limit_returns_every_match(mem: Any) -> None:
    """``limit=None`` is "every match" on every backend (Redis raised ``TypeError``;
    found by the random-program fuzz)."""
    await _facts(mem)
    found = await mem.memories.search("alice", "tea", limit=None)
    assert sorted(m.memory_id for m in found) == ["m2", "m4"]
    assert await mem.memories.search("alice", "tea", limit=0) == []
