"""ShardmemDb's BaseDb contract: the same calls on ShardmemDb and Agno's InMemoryDb give
the same rows, shapes and counts; plus threads, durability, export/import and Redis."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("agno", reason="install the agno extra: pip install -e '.[agno]'")

from agno.db.base import SessionType
from agno.db.in_memory import InMemoryDb
from agno.db.schemas.evals import EvalRunRecord, EvalType
from agno.db.schemas.knowledge import KnowledgeRow
from agno.db.schemas.memory import UserMemory
from agno.models.message import Message
from agno.run.agent import RunOutput
from agno.session import AgentSession, TeamSession

from engine.integrations.agno import ShardmemDb

VOLATILE = {"created_at", "updated_at", "id"}  # times, and the uuids Agno gives messages


@pytest.fixture
def db() -> Any:
    shard = ShardmemDb()
    yield shard
    shard.close()


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [_strip(v) for v in value]
    return value


def populate(db: Any) -> None:
    for index, (sid, user, agent) in enumerate(
        [("s1", "ann", "a1"), ("s2", "ann", "a2"), ("s3", "bob", "a1")]
    ):
        db.upsert_session(
            AgentSession(
                session_id=sid,
                user_id=user,
                agent_id=agent,
                session_data={"session_name": f"chat {sid}", "session_state": {"n": index}},
                created_at=1000 + index,
            )
        )
    db.upsert_session(TeamSession(session_id="t1", user_id="ann", team_id="team", created_at=900))
    run = RunOutput(
        run_id="r1",
        agent_id="a1",
        content="hi",
        messages=[Message(role="user", content="hello"), Message(role="assistant", content="hi")],
    )
    db.upsert_run(run, session_id="s1", user_id="ann", run_index=0)
    db.upsert_run(
        {"run_id": "r2", "agent_id": "a1", "status": "ERROR"}, session_id="s1", run_index=1
    )
    for mid, user, topics in [
        ("m1", "ann", ["food"]),
        ("m2", "ann", ["home"]),
        ("m3", "bob", ["food"]),
    ]:
        db.upsert_user_memory(
            UserMemory(memory_id=mid, memory=f"fact {mid}", user_id=user, topics=topics)
        )


def outputs(db: Any) -> dict[str, Any]:
    rows, total = db.get_sessions(deserialize=False)
    return {
        "get": db.get_session("s1", deserialize=False),
        "get_other_user": db.get_session("s1", user_id="bob"),
        "get_limited": db.get_session("s1", runs_limit=1, deserialize=False)["runs"],
        "list": (rows, total),
        "list_user": [s.session_id for s in db.get_sessions(user_id="ann")],
        "list_type": [s.session_id for s in db.get_sessions(session_type=SessionType.TEAM)],
        "list_component": [s.session_id for s in db.get_sessions(component_id="a1")],
        "list_name": [s.session_id for s in db.get_sessions(session_name="CHAT S2")],
        "list_time": [s.session_id for s in db.get_sessions(start_timestamp=1001)],
        "list_page": db.get_sessions(
            limit=2, page=2, sort_by="created_at", sort_order="asc", deserialize=False
        ),
        "list_no_runs": [
            s["runs"] for s in db.get_sessions(include_runs=False, deserialize=False)[0]
        ],
        "runs": db.get_runs(session_id="s1", deserialize=False),
        "runs_status": [r.run_id for r in db.get_runs(status="ERROR")],
        "run": db.get_run("r1", deserialize=False),
        "memories": db.get_user_memories(user_id="ann", deserialize=False),
        "memories_topic": [m.memory_id for m in db.get_user_memories(topics=["food"])],
        "memories_search": [m.memory_id for m in db.get_user_memories(search_content="M2")],
        "memory": db.get_user_memory("m3", deserialize=False),
        "memory_other_user": db.get_user_memory("m3", user_id="ann"),
        "topics": sorted(db.get_all_memory_topics(user_id="ann")),
        "stats": [(s["user_id"], s["total_memories"]) for s in db.get_user_memory_stats()[0]],
    }


def test_same_rows_shapes_and_counts_as_in_memory_db(db: Any) -> None:
    reference = InMemoryDb()
    populate(reference)
    populate(db)
    assert _strip(outputs(db)) == _strip(outputs(reference))


def test_writes_and_deletes_agree_with_in_memory_db(db: Any) -> None:
    reference = InMemoryDb()
    for target in (reference, db):
        populate(target)
        assert (
            target.rename_session("s2", SessionType.AGENT, "renamed").session_data["session_name"]
            == "renamed"
        )
        assert target.rename_session("s2", SessionType.TEAM, "x") is None
        assert (
            target.upsert_session(AgentSession(session_id="s1", user_id="eve")) is None
        )  # owner guard
        assert target.delete_session("s3", user_id="ann") is False
        target.delete_sessions(["s3", "t1"], user_id="bob")
        assert target.delete_run("r2") is True
        target.delete_user_memory("m1", user_id="bob")
        target.delete_user_memories(["m2"])
    assert _strip(outputs(db)) == _strip(outputs(reference))
    db.clear_memories()
    assert db.get_user_memories() == []


def test_run_upsert_replaces_in_place_and_keeps_run_index(db: Any) -> None:
    populate(db)
    db.upsert_run(
        {"run_id": "r1", "agent_id": "a1", "content": "edited"}, session_id="s1", run_index=7
    )
    runs = db.get_session("s1", deserialize=False)["runs"]
    assert [(r["run_id"], r["run_index"]) for r in runs] == [("r1", 0), ("r2", 1)]
    assert runs[0]["content"] == "edited"
    db.upsert_run({"run_id": "rx"}, session_id="missing")  # skipped, as InMemoryDb
    assert db.get_session("missing") is None


def test_runs_are_shardmem_runs_with_messages(db: Any) -> None:
    populate(db)
    stored = db.engine.sessions.get("s1")
    assert stored.name == "chat s1" and dict(stored.state) == {"n": 0}
    assert [r.run_id for r in stored.runs] == ["r1", "r2"]
    assert [(m.role, m.content) for m in stored.runs[0].messages] == [
        ("user", "hello"),
        ("assistant", "hi"),
    ]
    assert stored.runs[1].status == "ERROR"


def test_knowledge_evals_schema_and_metrics(db: Any) -> None:
    reference = InMemoryDb()
    for target in (reference, db):
        for index in range(3):
            target.upsert_knowledge_content(
                KnowledgeRow(
                    id=f"k{index}",
                    name=f"doc {index}",
                    description="d",
                    linked_to="kb",
                    user_id=None,
                )
            )
        target.delete_knowledge_content("k1")
        target.create_eval_run(
            EvalRunRecord(
                run_id="e1", eval_type=EvalType.ACCURACY, eval_data={"score": 1}, agent_id="a1"
            )
        )
        target.rename_eval_run("e1", "renamed")
        target.upsert_schema_version("sessions", "2.5.0")
    rows, total = db.get_knowledge_contents(linked_to="kb", sort_by="name", sort_order="asc")
    reference_rows, reference_total = reference.get_knowledge_contents(
        linked_to="kb", sort_by="name", sort_order="asc"
    )
    assert (
        ([r.id for r in rows], total)
        == ([r.id for r in reference_rows], reference_total)
        == (["k0", "k2"], 2)
    )
    assert db.get_knowledge_content("k2").name == "doc 2"
    assert db.get_eval_run("e1").name == "renamed"
    assert [e.run_id for e in db.get_eval_runs(agent_id="a1")] == ["e1"]
    assert db.get_latest_schema_version("sessions") == "2.5.0"
    db.delete_eval_runs(["e1"])
    assert db.get_eval_runs() == []
    populate(db)
    assert db.get_metrics() == ([], None)
    calculated = db.calculate_metrics()
    assert calculated and {row["user_id"] for row in calculated} >= {"ann", "bob"}
    assert len(db.get_metrics()[0]) == len(calculated)


def test_concurrent_threads(db: Any) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for index in range(30):
                sid = f"w{worker}-{index}"
                db.upsert_session(
                    AgentSession(session_id=sid, user_id=f"u{worker % 2}", agent_id="a")
                )
                db.upsert_run({"run_id": f"r{index}"}, session_id=sid)
                db.upsert_user_memory(UserMemory(memory=f"m{index}", user_id=f"u{worker % 2}"))
                db.get_sessions(user_id=f"u{worker % 2}")
                db.get_user_memories(user_id=f"u{worker % 2}")
        except BaseException as error:  # pragma: no cover - the failure being tested
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.get_sessions(deserialize=False)[1] == 180
    assert len(db.get_user_memories()) == 180
    assert all(len(s["runs"]) == 1 for s in db.get_sessions(deserialize=False)[0])


def test_durable_with_a_data_dir(tmp_path: Path) -> None:
    first = ShardmemDb(data_dir=str(tmp_path), fsync="always")
    populate(first)
    before = outputs(first)
    first.close()
    second = ShardmemDb(data_dir=str(tmp_path))
    try:
        assert outputs(second) == before
    finally:
        second.close()


def test_export_and_import_a_json_file(db: Any, tmp_path: Path) -> None:
    populate(db)
    db.upsert_knowledge_content(KnowledgeRow(id="k1", name="doc", description="d"))
    path = tmp_path / "agno.json"
    db.export_json(path)
    restored = ShardmemDb()
    try:
        assert restored.import_json(path) == 4 + 3 + 1
        assert outputs(restored) == outputs(db)
        assert restored.get_knowledge_content("k1").name == "doc"
    finally:
        restored.close()
    with pytest.raises(ValueError, match="format"):
        db.import_dict({"sessions": []})


def test_a_shared_engine_serves_several_dbs(db: Any) -> None:
    other = ShardmemDb(engine=db.engine)
    populate(db)
    assert other.get_session("s1", deserialize=False) == db.get_session("s1", deserialize=False)
    other.close()  # a shared engine stays open
    assert db.get_session("s1") is not None


@pytest.mark.redis
def test_one_class_on_redis() -> None:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to run the Redis test")
    pytest.importorskip("coredis", reason="install the redis extra")
    prefix = f"agno{uuid.uuid4().hex[:8]}"
    writer = ShardmemDb(redis_url=url, prefix=prefix)
    try:
        populate(writer)
        reader = ShardmemDb(redis_url=url, prefix=prefix)
        try:
            assert _strip(outputs(reader)) == _strip(outputs(writer))
        finally:
            reader.close()
    finally:
        writer.close()
