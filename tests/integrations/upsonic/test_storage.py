"""``engine.integrations.upsonic``: Upsonic's ``Storage`` contract on shardmem — sessions,
profiles, cultural knowledge, knowledge rows, the usage ledger, models, counts, the
records behind them, threads, asyncio tasks, durability and Redis."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("upsonic", reason="install the upsonic extra: pip install -e '.[upsonic]'")

from pydantic import BaseModel
from upsonic.culture.cultural_knowledge import CulturalKnowledge
from upsonic.session.agent import AgentSession
from upsonic.session.base import SessionType
from upsonic.storage.schemas import KnowledgeRow, UserMemory

from engine import Session
from engine import UserMemory as EngineMemory
from engine.integrations.upsonic import AsyncShardmemStorage, ShardmemStorage


def session(sid: str, **fields: Any) -> AgentSession:
    return AgentSession(session_id=sid, **fields)


def test_sessions_round_trip_and_live_in_shardmem_sessions(storage: Any, mem: Any) -> None:
    made = storage.upsert_session(
        session("s1", user_id="u1", agent_id="a1", metadata={"k": [1, 2]}, summary="sum")
    )
    assert isinstance(made, AgentSession) and made.created_at and made.updated_at
    got = storage.get_session("s1")
    assert (got.user_id, got.agent_id, got.metadata, got.summary) == (
        "u1",
        "a1",
        {"k": [1, 2]},
        "sum",
    )
    record = mem.sessions.get("s1")
    assert isinstance(record, Session)
    assert (record.user_id, record.agent_id, record.session_type) == ("u1", "a1", "agent")
    raw = storage.get_session("s1", deserialize=False)
    assert raw["session_id"] == "s1" and raw["session_type"] == "agent"


def test_replacing_a_session_keeps_created_at_and_may_change_its_owner(storage: Any) -> None:
    first = storage.upsert_session(session("s1", user_id="u1"))
    second = storage.upsert_session(session("s1", user_id="u2", summary="moved"))
    assert second.created_at == first.created_at
    assert storage.get_session("s1", user_id="u1") is None
    assert storage.get_session("s1", user_id="u2").summary == "moved"
    assert storage.get_session_count() == 1


def test_get_session_filters_and_without_an_id_returns_the_latest(storage: Any) -> None:
    assert storage.get_session() is None
    storage.upsert_sessions(
        [session("s1", user_id="u1", agent_id="a"), session("s2", user_id="u2")]
    )
    assert storage.get_session("s1", agent_id="other") is None
    assert storage.get_session("s1", session_type=SessionType.AGENT).session_id == "s1"
    assert storage.get_session(user_id="u2").session_id == "s2"
    assert storage.get_session(agent_id="a").session_id == "s1"


def test_get_sessions_filters_sorts_and_paginates(storage: Any) -> None:
    for i in range(5):
        storage.upsert_session(session(f"s{i}", user_id="u1" if i % 2 else "u2", agent_id="a"))
    assert [s.session_id for s in storage.get_sessions(user_id="u1")] == ["s1", "s3"]
    assert [s.session_id for s in storage.get_sessions(session_ids=["s4", "s0", "nope"])] == [
        "s0",
        "s4",
    ]
    page = storage.get_sessions(sort_by="session_id", sort_order="desc", limit=2, offset=1)
    assert [s.session_id for s in page] == ["s3", "s2"]
    rows, total = storage.get_sessions(agent_id="a", limit=2, deserialize=False)
    assert total == 5 and [r["session_id"] for r in rows] == ["s0", "s1"]


def test_ids_shardmem_cannot_index_are_still_stored_and_matched(storage: Any, mem: Any) -> None:
    storage.upsert_session(session("s1", user_id=""))
    storage.upsert_session(session("s2", user_id="u"))
    assert mem.sessions.get("s1").user_id is None  # the row keeps the exact ""
    assert [s.session_id for s in storage.get_sessions(user_id="")] == ["s1"]
    assert storage.get_session("s1").user_id == ""


def test_deleting_sessions(storage: Any) -> None:
    storage.upsert_sessions([session(f"s{i}") for i in range(3)])
    assert storage.delete_session("s0") is True
    assert storage.delete_session("s0") is False
    assert storage.delete_sessions(["s1", "s2", "s9"]) == 2
    assert storage.get_session_count() == 0
    with pytest.raises(ValueError, match="session_id is required"):
        storage.delete_session("")
    with pytest.raises(ValueError, match="cannot be empty"):
        storage.delete_sessions([])
    with pytest.raises(ValueError, match="session_id is required"):
        storage.upsert_session(session(""))


def test_a_profile_per_user_agent_and_team(storage: Any, mem: Any) -> None:
    storage.upsert_user_memory(UserMemory(user_memory={"name": "Ada"}, user_id="u1", agent_id="a"))
    storage.upsert_user_memory(UserMemory(user_memory={"name": "Bo"}, user_id="u1", agent_id="b"))
    first = storage.get_user_memory("u1", agent_id="a")
    again = storage.upsert_user_memory(
        UserMemory(user_memory={"name": "Ada L."}, user_id="u1", agent_id="a")
    )
    assert again.created_at == first.created_at
    assert storage.get_user_memory("u1", agent_id="a").user_memory == {"name": "Ada L."}
    assert storage.get_user_memory("u1", agent_id="b").user_memory == {"name": "Bo"}
    assert storage.get_user_memory_count() == 2 and len(mem.memories.list(user_id="u1")) == 2
    assert storage.get_user_memory("u2") is None
    assert storage.get_user_memory(agent_id="b").user_id == "u1"


def test_listing_and_deleting_profiles(storage: Any) -> None:
    storage.upsert_user_memories(
        [UserMemory(user_memory={"i": i}, user_id=f"u{i}", team_id="t") for i in range(4)]
    )
    assert {m.user_id for m in storage.get_user_memories(user_ids=["u1", "u3"])} == {"u1", "u3"}
    rows, total = storage.get_user_memories(team_id="t", limit=2, offset=1, deserialize=False)
    assert total == 4 and len(rows) == 2 and isinstance(rows[0], dict)
    assert storage.delete_user_memory("u0") is True and storage.delete_user_memory("u0") is False
    assert storage.delete_user_memories(["u1", "u2", "u9"]) == 2
    assert storage.get_user_memory_count() == 1
    with pytest.raises(ValueError, match="user_id"):
        storage.upsert_user_memory(UserMemory(user_memory={}, user_id=None))


def test_cultural_knowledge(storage: Any) -> None:
    made = storage.upsert_cultural_knowledge(CulturalKnowledge(name="tone", content="be brief"))
    assert made.id
    storage.upsert_cultural_knowledge(CulturalKnowledge(name="lang", content="en", agent_id="a"))
    assert storage.get_cultural_knowledge(made.id).content == "be brief"
    assert [c.name for c in storage.get_all_cultural_knowledge(agent_id="a")] == ["lang"]
    rows, total = storage.get_all_cultural_knowledge(
        sort_by="name", sort_order="asc", limit=1, page=2, deserialize=False
    )
    assert total == 2 and [r["name"] for r in rows] == ["tone"]
    assert storage.delete_cultural_knowledges([made.id]) == 1
    assert storage.get_cultural_knowledge(made.id) is None


def test_knowledge_rows_live_in_the_knowledge_registry(storage: Any, mem: Any) -> None:
    for i in range(3):
        storage.upsert_knowledge_content(
            KnowledgeRow(id=f"k{i}", name=f"doc {i}", knowledge_base_id="kb" if i else "other")
        )
    assert storage.get_knowledge_content("k1").name == "doc 1"
    assert mem.knowledge.get("upsonic/knowledge/k1").status == "upsonic/knowledge"
    rows, total = storage.get_knowledge_contents(
        knowledge_base_id="kb", sort_by="name", sort_order="asc"
    )
    assert total == 2 and [r.id for r in rows] == ["k1", "k2"]
    assert storage.delete_knowledge_content("k0") is True
    assert storage.delete_knowledge_contents(["k1", "k2", "k9"]) == 2
    assert storage.get_knowledge_contents() == ([], 0)


def test_the_usage_ledger(storage: Any) -> None:
    for i in range(4):
        storage.upsert_usage_entry(
            {"entry_id": f"e{i}", "run_id": "r1" if i < 3 else "r2", "kind": "model", "tokens": i}
        )
    storage.upsert_usage_entry({"entry_id": "e0", "run_id": "r1", "kind": "tool", "tokens": 9})
    assert [e["tokens"] for e in storage.query_usage_entries(run_id="r1")] == [9, 1, 2]
    assert len(storage.query_usage_entries(run_id="r1", kind="model", limit=1)) == 1
    assert storage.delete_usage_entries(run_id="r1") == 3
    assert [e["entry_id"] for e in storage.query_usage_entries()] == ["e3"]
    with pytest.raises(ValueError, match="entry_id"):
        storage.upsert_usage_entry({"run_id": "r"})
    with pytest.raises(TypeError, match="unknown filters"):
        storage.query_usage_entries(colour="red")


class Prefs(BaseModel):
    theme: str
    size: int = 12


def test_generic_models_per_collection(storage: Any) -> None:
    storage.upsert_model("p1", Prefs(theme="dark"))
    storage.upsert_model("p1", Prefs(theme="light"), collection="other")
    assert storage.get_model("p1", Prefs) == Prefs(theme="dark")
    assert storage.list_models(Prefs, collection="other") == [Prefs(theme="light")]
    assert storage.delete_model("p1") is True and storage.delete_model("p1") is False
    assert storage.get_model("p1", Prefs) is None


def test_clear_all_and_table_exists(storage: Any) -> None:
    storage.upsert_session(session("s1"))
    storage.upsert_user_memory(UserMemory(user_memory={}, user_id="u1"))
    storage.upsert_knowledge_content(KnowledgeRow(id="k1", name="n"))
    storage.upsert_usage_entry({"entry_id": "e1"})
    assert storage.table_exists("anything") is True
    storage.clear_all()
    assert (storage.get_session_count(), storage.get_user_memory_count()) == (0, 0)
    assert storage.get_knowledge_contents() == ([], 0)
    assert len(storage.query_usage_entries()) == 1  # as Upsonic: the ledger stays


def test_close_keeps_the_data() -> None:
    storage = ShardmemStorage()
    try:
        storage.upsert_session(session("s1", summary="kept"))
        storage.close()
        assert storage.get_session("s1").summary == "kept"
    finally:
        storage.engine.close()


def test_close_of_a_durable_storage_stops_its_engine_and_reopens(tmp_path: Path) -> None:
    storage = ShardmemStorage(data_dir=str(tmp_path))
    storage.upsert_session(session("s1", summary="on disk"))
    engine = storage.engine
    storage.close()
    assert engine.closed
    assert storage.get_session("s1").summary == "on disk"
    storage.close()
    other = ShardmemStorage(data_dir=str(tmp_path))
    assert other.get_session("s1").summary == "on disk"
    other.close()


def test_a_shared_engine_outlives_its_storages(mem: Any) -> None:
    first = ShardmemStorage(engine=mem)
    first.upsert_session(session("s1"))
    first.close()
    assert not mem.closed
    assert ShardmemStorage(engine=mem).get_session("s1") is not None


def test_a_shared_engine_keeps_other_records_apart(storage: Any, mem: Any) -> None:
    mem.sessions.upsert(Session(session_id="theirs", user_id="u1"))
    mem.memories.upsert(EngineMemory(user_id="u1", memory="not a profile"))
    storage.upsert_session(session("mine", user_id="u1"))
    storage.upsert_user_memory(UserMemory(user_memory={"a": 1}, user_id="u1"))
    assert [s.session_id for s in storage.get_sessions()] == ["mine"]
    assert (storage.get_session_count(), storage.get_user_memory_count()) == (1, 1)
    assert storage.delete_user_memory("u1") is True
    storage.clear_all()
    assert mem.sessions.get("theirs") is not None
    assert [m.memory for m in mem.memories.list(user_id="u1")] == ["not a profile"]


def test_many_threads_at_once(storage: Any) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                storage.upsert_session(session(f"t{t}-{i}", user_id=f"u{t}"))
                storage.upsert_user_memory(UserMemory(user_memory={"i": i}, user_id=f"u{t}"))
                storage.upsert_usage_entry({"entry_id": f"t{t}-{i}", "run_id": f"u{t}"})
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert storage.get_session_count() == 200
    assert storage.get_user_memory_count() == 8  # one profile per user, updated 25 times
    assert len(storage.query_usage_entries(run_id="u3")) == 25


def test_the_async_face_from_many_tasks(mem: Any) -> None:
    face = AsyncShardmemStorage(storage=ShardmemStorage(engine=mem))

    async def main() -> None:
        await asyncio.gather(
            *(face.aupsert_session(session(f"s{i}", user_id="u")) for i in range(50))
        )
        assert len(await face.aget_sessions(user_id="u")) == 50
        assert (await face.aget_session("s7")).session_id == "s7"
        assert await face.adelete_sessions(["s1", "s2"]) == 2
        assert await face.table_exists("x") is True
        await face.close()

    asyncio.run(main())
    assert not mem.closed  # a given storage stays open
    assert ShardmemStorage(engine=mem).get_session_count() == 48


def test_the_async_face_implements_every_async_method_as_the_sync_one(mem: Any) -> None:
    from upsonic.storage.base import AsyncStorage, Storage

    assert not AsyncShardmemStorage.__abstractmethods__
    for name in (n for n in dir(Storage) if not n.startswith("_")):
        if name not in ("close", "table_exists") and callable(getattr(Storage, name)):
            assert hasattr(AsyncShardmemStorage, f"a{name}"), name
    assert set(AsyncStorage.__abstractmethods__) <= set(dir(AsyncShardmemStorage))
    face = AsyncShardmemStorage(storage=ShardmemStorage(engine=mem))

    async def main() -> None:
        await face.aupsert_user_memory(UserMemory(user_memory={"a": 1}, user_id="u1"))
        assert (await face.aget_user_memory("u1")).user_memory == {"a": 1}
        await face.aupsert_usage_entry({"entry_id": "e1", "run_id": "r"})
        assert await face.aquery_usage_entries(run_id="r") == [{"entry_id": "e1", "run_id": "r"}]
        await face.aupsert_knowledge_content(KnowledgeRow(id="k1", name="n"))
        assert (await face.aget_knowledge_contents())[1] == 1
        with pytest.raises(ValueError, match="session_id is required"):
            await face.adelete_session("")
        await face.aclear_all()
        assert await face.aget_user_memory_count() == 0

    asyncio.run(main())


@pytest.mark.redis
def test_the_same_class_on_redis() -> None:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to run the Redis test")
    pytest.importorskip("coredis", reason="install the redis extra")
    prefix = f"upsonic{uuid.uuid4().hex[:8]}"
    writer = ShardmemStorage(redis_url=url, prefix=prefix)
    writer.upsert_session(session("s1", user_id="u1", summary="on redis"))
    writer.upsert_user_memory(UserMemory(user_memory={"a": 1}, user_id="u1"))
    writer.close()
    reader = ShardmemStorage(redis_url=url, prefix=prefix)
    assert reader.get_session("s1").summary == "on redis"
    assert reader.get_user_memory("u1").user_memory == {"a": 1}
    reader.engine.drop(forget=True)
    reader.close()
