"""TTL expiry and refresh policies: the same on every backend.

The embedded engine runs under trio's autojump ``MockClock``; Redis expiry runs in
real time, so the TTLs are tiny (0.3 s) and only these few tests wait.
"""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import elapse, policy_config, stored_counts

from engine import EngineConfig, KnowledgeDoc, NotFound, Run, Session, UserMemory

TTL = 0.3
PAST = 0.5  # seconds waited to be past TTL


async def test_expired_records_vanish_from_reads_and_indexes(mem: Any, clock: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="u", agent_id="a"), ttl=TTL)
    await mem.sessions.upsert(Session(session_id="s2", user_id="u"))
    await mem.memories.upsert(
        UserMemory(user_id="u", memory_id="m1", memory="green tea", topics=("drink",)), ttl=TTL
    )
    await mem.memories.upsert(UserMemory(user_id="u", memory_id="m2", memory="black tea"))
    await mem.working.store("c1", "w", ttl=TTL)
    await mem.knowledge.upsert(KnowledgeDoc(doc_id="d1", name="n"), ttl=TTL)
    stored = await mem.sessions.get("s1")
    assert stored.expires_at == stored.updated_at + TTL
    await elapse(PAST)
    assert await mem.sessions.get("s1") is None
    with pytest.raises(NotFound):
        await mem.sessions.append_run("s1", Run(run_id="r"))
    assert [s.session_id for s in await mem.sessions.list(user_id="u")] == ["s2"]
    assert await mem.sessions.list(agent_id="a") == []
    assert await mem.memories.get("m1", user_id="u") is None
    assert [m.memory_id for m in await mem.memories.search("u", "tea")] == ["m2"]
    assert await mem.memories.topics(user_id="u") == []
    assert await mem.working.retrieve("c1") is None
    assert await mem.knowledge.list() == []
    stats = await stored_counts(mem)
    assert (stats.sessions, stats.memories, stats.working, stats.knowledge) == (1, 1, 0, 0)
    assert stats.expired == 4
    # an id whose record expired is free again, with a fresh created_at
    again = await mem.sessions.upsert(Session(session_id="s1", user_id="someone-else"))
    assert again.created_at > stored.created_at and again.expires_at is None
    await elapse(PAST)
    assert (await mem.sessions.get("s1")).user_id == "someone-else"


async def test_upsert_without_ttl_makes_a_record_permanent(mem: Any, clock: Any) -> None:
    await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="x"), ttl=TTL)
    await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="y"), ttl=None)
    await elapse(PAST)
    assert (await mem.memories.get("m", user_id="u")).memory == "y"
    stats = await stored_counts(mem)
    assert sum(shard.store.expiry_entries for shard in stats.shards) == 0


async def test_partial_updates_restart_the_ttl_by_default(mem: Any, clock: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1"), ttl=TTL)
    await mem.working.store("c1", "w", ttl=TTL)
    for _ in range(3):
        await elapse(TTL / 2)
        await mem.sessions.append_run("s1", Run(run_id="r"))
        await mem.working.update("c1", "again")
    assert await mem.sessions.get("s1") is not None
    assert await mem.working.retrieve("c1") is not None
    await elapse(PAST)
    assert await mem.sessions.get("s1") is None
    assert await mem.working.retrieve("c1") is None


async def test_reads_do_not_refresh_by_default(mem: Any, clock: Any) -> None:
    await mem.working.store("c1", "w", ttl=TTL)
    await elapse(TTL / 2)
    first = await mem.working.retrieve("c1")
    await elapse(TTL / 2 + 0.1)
    assert first is not None and await mem.working.retrieve("c1") is None


class TestRefreshOnRead:
    @pytest.fixture
    def engine_config(self) -> EngineConfig:
        return policy_config("working", default_ttl=TTL, refresh_on_read=True)

    async def test_reads_restart_the_ttl(self, mem: Any, clock: Any) -> None:
        stored = await mem.working.store("c1", "w")
        assert stored.expires_at == stored.updated_at + TTL
        for _ in range(3):
            await elapse(TTL / 2)
            assert await mem.working.retrieve("c1") is not None
        await elapse(PAST)
        assert await mem.working.retrieve("c1") is None


class TestNoRefreshOnUpdate:
    @pytest.fixture
    def engine_config(self) -> EngineConfig:
        return policy_config("sessions", refresh_on_update=False)

    async def test_updates_keep_the_deadline(self, mem: Any, clock: Any) -> None:
        stored = await mem.sessions.upsert(Session(session_id="s1"), ttl=TTL)
        await elapse(TTL / 2)
        renamed = await mem.sessions.rename("s1", "x")
        assert renamed.expires_at == stored.expires_at
        await elapse(TTL / 2 + 0.1)
        assert await mem.sessions.get("s1") is None
