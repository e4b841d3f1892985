"""Snapshots move between backends: embedded -> Redis -> embedded, same records."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import START

from engine import (
    InvalidArgument,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
)


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key != "taken_at"}


async def _source_snapshot() -> dict[str, Any]:
    """An embedded engine's snapshot with every kind, TTLs and a refreshed record."""
    async with open_memory_engine(shards=3, start_time=START) as src:
        for i in range(6):
            await src.sessions.upsert(
                Session(
                    session_id=f"s{i}",
                    user_id=f"u{i % 2}",
                    agent_id="agent",
                    name=f"chat {i}",
                    metadata={"i": i, "tags": ["a", "b"]},
                ),
                ttl=None if i % 2 else 3600.0,
            )
            await src.sessions.append_run(
                f"s{i}", Run(run_id="r1", messages=(Message(role="user", content=f"hi {i}"),))
            )
        await src.sessions.set_summary("s1", "a summary", topics=("x",))
        for i in range(5):
            await src.memories.upsert(
                UserMemory(user_id=f"u{i % 2}", memory_id=f"m{i}", memory=f"likes tea {i}",
                           topics=("food",)),
                ttl=7200.0 if i == 0 else None,
            )  # fmt: skip
        await src.working.store("c1", "scratch", metadata={"k": [1, 2]}, ttl=900.0)
        await src.working.store("c2", "forever", ttl=None)
        await src.knowledge.upsert(KnowledgeDoc(doc_id="d1", name="Guide", description="how to"))
        return await src.snapshot()


async def test_snapshot_round_trip_through_the_backend(open_backend: Any) -> None:
    original = await _source_snapshot()
    assert any(ttl is not None for ttl in original["ttls"]["sessions"])
    async with open_backend(snapshot=original) as mem:
        assert (await mem.sessions.get("s1")).summary.summary == "a summary"
        found = await mem.memories.search("u0", "tea", limit=10)
        assert sorted(m.memory_id for m in found) == ["m0", "m2", "m4"]
        restored = await mem.snapshot()
    assert _comparable(restored) == _comparable(original)
    async with open_memory_engine(shards=5, start_time=START, snapshot=restored) as back:
        again = await back.snapshot()
    assert _comparable(again) == _comparable(original)


async def test_restored_records_keep_their_indexes_and_ttls(open_backend: Any) -> None:
    original = await _source_snapshot()
    async with open_backend(snapshot=original) as mem:
        listed = await mem.sessions.list(user_id="u0")
        assert sorted(s.session_id for s in listed) == ["s0", "s2", "s4"]
        assert [s.session_id for s in await mem.sessions.list(limit=2)] == ["s1", "s5"]
        assert await mem.memories.topics(user_id="u1") == ["food"]
        working = await mem.working.retrieve("c1")
        assert working is not None and working.expires_at == working.updated_at + 900.0
        doc = await mem.knowledge.get("d1")
        assert doc is not None and doc.description == "how to"
        assert doc.created_at is not None and doc.created_at >= START


async def test_expired_records_are_dropped_at_restore(open_backend: Any) -> None:
    snapshot = await _source_snapshot()
    snapshot["working"][0] = {**snapshot["working"][0], "expires_at": START - 1.0,
                              "updated_at": START - 2.0, "created_at": START - 2.0}  # fmt: skip
    snapshot["ttls"]["working"][0] = 1.0
    async with open_backend(snapshot=snapshot) as mem:
        restored = await mem.snapshot()
    assert [w["conversation_id"] for w in restored["working"]] == ["c2"]


async def test_a_bad_snapshot_is_refused_before_serving(open_backend: Any) -> None:
    with pytest.raises(InvalidArgument, match="format"):
        async with open_backend(snapshot={"format": "nope"}):
            pass
    with pytest.raises(TypeError, match="snapshot"):
        async with open_backend(snapshot=["not", "a", "dict"]):
            pass
