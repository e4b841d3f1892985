"""Runs through ShardmemDb: history run objects built once and shared (as InMemoryDb's
run-object cache), run writes as engine run appends, and the session's updated_at."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import pytest

pytest.importorskip("agno", reason="install the agno extra: pip install -e '.[agno]'")

from agno.db.in_memory import InMemoryDb
from agno.models.message import Message
from agno.run.agent import RunOutput
from agno.session import AgentSession

from engine.integrations.agno import ShardmemDb
from engine.integrations.agno._cache import RunObjects


@pytest.fixture
def db() -> Any:
    shard = ShardmemDb()
    yield shard
    shard.close()


def _run(run_id: str, text: str) -> RunOutput:
    return RunOutput(
        run_id=run_id, agent_id="a", content=text, messages=[Message(role="user", content=text)]
    )


def _seed(target: Any) -> None:
    target.upsert_session(AgentSession(session_id="s1", user_id="ann", agent_id="a"))
    target.upsert_run(_run("r1", "one"), session_id="s1", run_index=0)
    target.upsert_run(_run("r2", "two"), session_id="s1", run_index=1)


def test_history_runs_are_built_once_and_shared_like_in_memory_db(db: Any) -> None:
    reference = InMemoryDb()
    for target in (reference, db):
        _seed(target)
        first, second = target.get_session("s1"), target.get_session("s1")
        assert first is not second and first.runs is not second.runs
        assert [a is b for a, b in zip(first.runs, second.runs, strict=True)] == [True, True]
        target.upsert_run(_run("r1", "edited"), session_id="s1", run_index=5)
        third = target.get_session("s1")
        assert third.runs[0] is not first.runs[0] and third.runs[1] is first.runs[1]
        assert [(r.run_id, r.content) for r in third.runs] == [("r1", "edited"), ("r2", "two")]
    mine, theirs = (
        db.get_session("s1", deserialize=False),
        reference.get_session("s1", deserialize=False),
    )
    assert [(r["run_id"], r["run_index"]) for r in mine["runs"]] == [
        (r["run_id"], r["run_index"]) for r in theirs["runs"]
    ]


def test_a_deleted_and_recreated_session_gets_fresh_runs(db: Any) -> None:
    _seed(db)
    old = db.get_session("s1").runs
    assert db.delete_session("s1") is True
    _seed(db)
    new = db.get_session("s1").runs
    assert [r.run_id for r in new] == ["r1", "r2"] and new[0] is not old[0]


def test_a_run_write_is_an_engine_run_append(db: Any) -> None:
    _seed(db)
    before = db.engine.sessions.get("s1")
    db.engine.sessions.rename("s1", "renamed under the adapter")
    db.upsert_run(_run("r3", "three"), session_id="s1", run_index=2)
    after = db.engine.sessions.get("s1")
    assert after.name == "renamed under the adapter"  # the session row was not rewritten
    assert after.runs[:2] == before.runs[:2]  # nor were the earlier runs
    assert [r.run_id for r in after.runs] == ["r1", "r2", "r3"]
    db.upsert_run(_run("rx", "lost"), session_id="missing", run_index=0)
    assert db.engine.sessions.get("missing") is None


def test_updated_at_follows_run_writes_as_in_memory_db(db: Any) -> None:
    reference = InMemoryDb()
    for target in (reference, db):
        target.upsert_session(AgentSession(session_id="s1", user_id="ann", created_at=1000))
        assert target.get_session("s1").updated_at == 1000
        target.upsert_run(_run("r1", "one"), session_id="s1", run_index=0)
        assert target.get_session("s1").updated_at >= int(time.time()) - 5
    # InMemoryDb ignores preserve_updated_at; ShardmemDb keeps it, as Agno's SQL dbs do
    old = AgentSession(session_id="s1", user_id="ann", created_at=1000, updated_at=1234)
    db.upsert_sessions([old], preserve_updated_at=True)
    assert db.get_session("s1").updated_at == 1234
    assert [s.updated_at for s in db.get_sessions(user_id="ann")] == [1234]


def test_64_bit_integers_come_back(db: Any) -> None:
    big = 2**64 - 1
    db.upsert_session(AgentSession(session_id="s1", session_data={"session_state": {"n": big}}))
    assert db.get_session("s1").session_data["session_state"]["n"] == big


def test_the_run_object_cache_is_bounded() -> None:
    with pytest.raises(ValueError, match="sessions: expected a positive int, got 0"):
        RunObjects(sessions=0)
    db = ShardmemDb()
    try:
        db._plans.run_objects = RunObjects(sessions=1)
        _seed(db)
        db.upsert_session(AgentSession(session_id="s2", user_id="ann", agent_id="a"))
        db.upsert_run(_run("q1", "q"), session_id="s2", run_index=0)
        first = db.get_session("s1").runs[0]
        assert db.get_session("s1").runs[0] is first
        db.get_session("s2")  # evicts s1's run objects
        assert db.get_session("s1").runs[0] is not first
    finally:
        db.close()


@pytest.mark.redis
def test_run_objects_are_shared_on_redis_too() -> None:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to run the Redis test")
    pytest.importorskip("coredis", reason="install the redis extra")
    db = ShardmemDb(redis_url=url, prefix=f"agno{uuid.uuid4().hex[:8]}")
    try:
        _seed(db)
        first, second = db.get_session("s1"), db.get_session("s1")
        assert first.runs[0] is second.runs[0]  # equal records decoded twice: one object
        db.upsert_run(_run("r1", "edited"), session_id="s1", run_index=0)
        assert db.get_session("s1").runs[0].content == "edited"
    finally:
        db.close()
