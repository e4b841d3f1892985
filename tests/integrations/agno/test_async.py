"""AsyncShardmemDb: Agno's AsyncBaseDb on the engine's asyncio facade. ``agent.arun()``
(streamed or not) sees the history InMemoryDb gives, with no worker thread involved."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("agno", reason="install the agno extra: pip install -e '.[agno]'")

from agno.agent import Agent
from agno.db.in_memory import InMemoryDb
from agno.session import AgentSession

from engine import start_blocking_engine
from engine.integrations.agno import AsyncShardmemDb, ShardmemDb
from tests.integrations.agno.scripted import ScriptedModel

SCRIPT = ["hello Ann", "you said you like tea", "noted: green tea"]
TURNS = ["Hi, I am Ann", "I like tea", "green tea in particular"]


class NoThreads(concurrent.futures.ThreadPoolExecutor):
    """A default executor that refuses work: ``asyncio.to_thread`` and
    ``run_in_executor(None, ...)`` fail the test."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the loop handed {fn!r} to a worker thread")


async def converse(db: Any, *, stream: bool) -> ScriptedModel:
    model = ScriptedModel(SCRIPT)
    agent = Agent(model=model, db=db, add_history_to_context=True, telemetry=False)
    for text in TURNS:
        if stream:
            chunks = [event async for event in agent.arun(text, session_id="s1", stream=True)]
            assert chunks
        else:
            await agent.arun(text, session_id="s1", user_id="ann")
    return model


def run_without_threads(main: Any) -> Any:
    async def guarded() -> Any:
        asyncio.get_running_loop().set_default_executor(NoThreads())
        return await main

    return asyncio.run(guarded())


@pytest.mark.parametrize("stream", [False, True], ids=["arun", "arun-stream"])
def test_arun_sees_what_in_memory_db_gives_without_worker_threads(stream: bool) -> None:
    reference = asyncio.run(converse(InMemoryDb(), stream=stream))
    db = AsyncShardmemDb()

    async def main() -> ScriptedModel:
        model = await converse(db, stream=stream)
        session = await db.get_session("s1")
        assert [run.content for run in session.runs] == SCRIPT
        stored = await db.engine.sessions.get("s1")  # shardmem's own records
        assert [[m.role for m in run.messages] for run in stored.runs] == [
            ["user", "assistant"]
        ] * 3
        return model

    try:
        assert run_without_threads(main()).seen == reference.seen
    finally:
        asyncio.run(db.close())


def test_an_async_and_a_sync_db_share_one_engine() -> None:
    engine = start_blocking_engine()
    sync_db = ShardmemDb(engine=engine)
    shared = AsyncShardmemDb(db=sync_db)
    on_handle = AsyncShardmemDb(engine=engine.asyncio())

    async def main() -> None:
        await shared.upsert_session(AgentSession(session_id="s1", user_id="ann"))
        listed = await on_handle.get_sessions(user_id="ann", deserialize=False)
        assert [row["session_id"] for row in listed[0]] == ["s1"] and listed[1] == 1
        assert await on_handle.delete_session("s1", user_id="bob") is False
        with pytest.raises(ValueError, match="Run must have a run_id"):
            await shared.upsert_run({"content": "x"}, session_id="s1")
        await shared.close()  # shared engines stay open
        await on_handle.close()
        assert await on_handle.get_session("s1", user_id="ann") is not None

    try:
        run_without_threads(main())
        assert sync_db.get_session("s1").user_id == "ann"
    finally:
        engine.close()
    with pytest.raises(ValueError, match="expected engine= or db=, got both"):
        AsyncShardmemDb(engine=engine, db=sync_db)


def test_async_export_and_import(tmp_path: Any) -> None:
    source, target = AsyncShardmemDb(), AsyncShardmemDb()

    async def main() -> None:
        await source.upsert_session(AgentSession(session_id="s1", user_id="ann"))
        await source.export_json(tmp_path / "export.json")
        assert await target.import_json(tmp_path / "export.json") == 1
        assert (await target.get_session("s1")).user_id == "ann"
        await source.close()
        await target.close()

    asyncio.run(main())


def test_both_dbs_define_every_planned_method_and_every_abstract_one() -> None:
    from agno.db.base import AsyncBaseDb, BaseDb

    from engine.integrations.agno._db import PLANNED

    for cls in (ShardmemDb, AsyncShardmemDb):
        assert [name for name in PLANNED if name not in vars(cls)] == []
        assert not cls.__abstractmethods__
    assert set(BaseDb.__abstractmethods__) <= set(PLANNED)
    assert set(AsyncBaseDb.__abstractmethods__) <= set(PLANNED)
    assert asyncio.iscoroutinefunction(AsyncShardmemDb.get_session)
    assert AsyncShardmemDb.get_session.__doc__ == ShardmemDb.get_session.__doc__


def test_arun_summaries_memories_and_teams_on_the_async_db() -> None:
    from agno.db.schemas.memory import UserMemory
    from agno.team import Team

    db = AsyncShardmemDb()

    async def team_turns(target: Any) -> ScriptedModel:
        model = ScriptedModel(["team reply"])
        member = Agent(name="helper", model=ScriptedModel(["member reply"]), telemetry=False)
        team = Team(
            members=[member], model=model, db=target, add_history_to_context=True, telemetry=False
        )
        for text in TURNS:
            await team.arun(text, session_id="t1", user_id="ann")
        return model

    async def main() -> ScriptedModel:
        summary = '{"summary": "Ann likes tea", "topics": ["tea"]}'
        agent = Agent(
            model=ScriptedModel(["reply", summary]),
            db=db,
            enable_session_summaries=True,
            update_memory_on_run=True,
            telemetry=False,
        )
        await db.upsert_user_memory(UserMemory(memory="Ann lives in Lisbon", user_id="ann"))
        await agent.arun("I like tea", session_id="s1", user_id="ann")
        stored = await db.engine.sessions.get("s1")
        assert stored.summary is not None and stored.summary.topics == ("tea",)
        memories = await agent.aget_user_memories(user_id="ann")
        assert [m.memory for m in memories] == ["Ann lives in Lisbon"]
        return await team_turns(db)

    try:
        seen = run_without_threads(main()).seen
    finally:
        asyncio.run(db.close())
    assert seen == asyncio.run(team_turns(InMemoryDb())).seen
