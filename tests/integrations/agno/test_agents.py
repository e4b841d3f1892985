"""Agno agents, teams and workflows on ShardmemDb with an offline scripted model: the
history each turn sees equals what the same script sees with Agno's InMemoryDb."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("agno", reason="install the agno extra: pip install -e '.[agno]'")

from agno.agent import Agent
from agno.db.in_memory import InMemoryDb
from agno.db.schemas.memory import UserMemory
from agno.team import Team
from agno.workflow import Step, Workflow

from engine.integrations.agno import AsyncShardmemDb, ShardmemDb
from tests.integrations.agno.scripted import ScriptedModel

SCRIPT = ["hello Ann", "you said you like tea", "noted: green tea"]
TURNS = ["Hi, I am Ann", "I like tea", "green tea in particular"]


def conversation(db: Any, **agent_options: Any) -> tuple[ScriptedModel, Any]:
    model = ScriptedModel(SCRIPT)
    agent = Agent(model=model, db=db, add_history_to_context=True, telemetry=False, **agent_options)
    for text in TURNS:
        agent.run(text, session_id="s1", user_id="ann")
    return model, agent


def test_multi_turn_history_matches_in_memory_db() -> None:
    reference, _ = conversation(InMemoryDb())
    db = ShardmemDb()
    try:
        model, agent = conversation(db)
        assert model.seen == reference.seen
        assert ("user", "Hi, I am Ann") in model.seen[2]
        assert ("assistant", "you said you like tea") in model.seen[2]
        history = agent.get_chat_history(session_id="s1")
        assert [m.content for m in history if m.role == "user"] == TURNS
        stored = db.engine.sessions.get("s1")
        assert stored is not None and len(stored.runs) == 3
        assert [m.role for m in stored.runs[0].messages] == ["user", "assistant"]
    finally:
        db.close()


def test_arun_with_sync_and_async_db_matches_in_memory_db() -> None:
    async def run(db: Any) -> ScriptedModel:
        model = ScriptedModel(SCRIPT)
        agent = Agent(model=model, db=db, add_history_to_context=True, telemetry=False)
        for text in TURNS:
            await agent.arun(text, session_id="s1", user_id="ann")
        return model

    reference = asyncio.run(run(InMemoryDb()))
    sync_db, async_db = ShardmemDb(), AsyncShardmemDb()
    try:
        assert asyncio.run(run(sync_db)).seen == reference.seen
        assert asyncio.run(run(async_db)).seen == reference.seen
    finally:
        sync_db.close()
        asyncio.run(async_db.close())


def test_sessions_listed_per_user_and_deleted() -> None:
    db = ShardmemDb()
    try:
        conversation(db)
        sessions = db.get_sessions(user_id="ann")
        assert [s.session_id for s in sessions] == ["s1"]
        assert db.get_sessions(user_id="bob") == []
        assert db.delete_session("s1") is True
        assert db.get_session("s1") is None
    finally:
        db.close()


class ThreadRecordingDb(ShardmemDb):
    """Records the thread of every ``get_user_memories`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def get_user_memories(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        return super().get_user_memories(*args, **kwargs)


def test_user_memories_read_from_agnos_memory_thread() -> None:
    db = ThreadRecordingDb()
    try:
        db.upsert_user_memory(
            UserMemory(memory="Ann lives in Lisbon", user_id="ann", topics=["home"])
        )
        agent = Agent(
            model=ScriptedModel(["hi"]), db=db, update_memory_on_run=True, telemetry=False
        )
        agent.run("I live in Lisbon", session_id="s1", user_id="ann")
        assert any(name != threading.main_thread().name for name in db.threads), db.threads
        memories = agent.get_user_memories(user_id="ann")
        assert [m.memory for m in memories or ()] == ["Ann lives in Lisbon"]
    finally:
        db.close()


def test_session_summaries_are_stored_as_shardmem_summaries() -> None:
    db = ShardmemDb()
    try:
        model = ScriptedModel(["reply", '{"summary": "Ann likes tea", "topics": ["tea"]}'])
        agent = Agent(model=model, db=db, enable_session_summaries=True, telemetry=False)
        agent.run("I like tea", session_id="s1", user_id="ann")
        summary = agent.get_session_summary(session_id="s1")
        assert summary is not None and summary.summary == "Ann likes tea"
        stored = db.engine.sessions.get("s1")
        assert stored is not None and stored.summary is not None
        assert (stored.summary.summary, stored.summary.topics) == ("Ann likes tea", ("tea",))
    finally:
        db.close()


def test_search_past_sessions_sees_earlier_sessions() -> None:
    def build(db: Any) -> ScriptedModel:
        model = ScriptedModel(["ok"])
        agent = Agent(model=model, db=db, search_past_sessions=True, telemetry=False)
        agent.run("first", session_id="s1", user_id="ann")
        agent.run("second", session_id="s2", user_id="ann")
        return model

    reference = build(InMemoryDb())
    db = ShardmemDb()
    try:
        assert build(db).seen == reference.seen
        assert {s.session_id for s in db.get_sessions(user_id="ann")} == {"s1", "s2"}
    finally:
        db.close()


def _team(db: Any) -> tuple[ScriptedModel, Team]:
    model = ScriptedModel(["team reply"])
    member = Agent(name="helper", model=ScriptedModel(["member reply"]), telemetry=False)
    team = Team(members=[member], model=model, db=db, add_history_to_context=True, telemetry=False)
    return model, team


def _workflow(db: Any) -> tuple[ScriptedModel, Workflow]:
    model = ScriptedModel(["step reply"])
    step = Step(name="answer", agent=Agent(model=model, telemetry=False))
    return model, Workflow(name="flow", steps=[step], db=db, telemetry=False)


@pytest.mark.parametrize("build", [_team, _workflow], ids=["team", "workflow"])
def test_team_and_workflow_sessions(build: Callable[[Any], tuple[ScriptedModel, Any]]) -> None:
    reference_model, reference = build(InMemoryDb())
    reference.run("one", session_id="s1", user_id="ann")
    reference.run("two", session_id="s1", user_id="ann")
    db = ShardmemDb()
    try:
        model, component = build(db)
        component.run("one", session_id="s1", user_id="ann")
        component.run("two", session_id="s1", user_id="ann")
        assert model.seen == reference_model.seen
        stored = db.engine.sessions.get("s1")
        expected = reference.db.get_session("s1", deserialize=False)
        assert stored is not None and stored.session_type == expected["session_type"]
        assert len(stored.runs) == len(expected["runs"])
    finally:
        db.close()
