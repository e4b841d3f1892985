"""``mem.pipeline()``: the same results, order and errors on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from engine import (
    InvalidArgument,
    Message,
    NotFound,
    OwnershipError,
    PipelineResult,
    Run,
    Session,
    UserMemory,
)


def run(run_id: str, text: str) -> Run:
    return Run(run_id=run_id, messages=(Message(role="user", content=text),))


async def test_results_in_queued_order_within_a_key(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    async with mem.pipeline() as p:
        before = p.sessions.messages("s1", user_id="alice")
        appended = [p.sessions.append_run("s1", run(f"r{i}", f"m{i}")) for i in range(5)]
        after = p.sessions.messages("s1", last_n_runs=2)
        memory = p.memories.upsert(UserMemory(user_id="alice", memory="likes tea"))
        found = p.memories.search("alice", "tea")
        count = p.sessions.runs("s1")
        assert len(p) == 10 and not before.done
    assert before.result() == []  # queued before the appends, ran before them
    assert [r.result().run_id for r in appended] == [f"r{i}" for i in range(5)]
    assert [m.content for m in after.result()] == ["m3", "m4"]
    assert [m.memory_id for m in found.result()] == [memory.result().memory_id]
    assert len(count.result()) == 5
    assert [r.run_id for r in await mem.sessions.runs("s1")] == [f"r{i}" for i in range(5)]


async def test_a_search_sees_exactly_the_writes_queued_before_it(mem: Any) -> None:
    # search is several script calls on Redis: the writes after it must wait for it
    async with mem.pipeline() as p:
        p.memories.upsert(UserMemory(user_id="u", memory_id="m1", memory="green tea"))
        first = p.memories.search("u", "coffee")
        p.memories.upsert(UserMemory(user_id="u", memory_id="m1", memory="black coffee"))
        p.memories.upsert(UserMemory(user_id="u", memory_id="m2", memory="more coffee"))
        second = p.memories.search("u", "coffee")
        gone = p.memories.delete("m2", user_id="u")
        third = p.memories.search("u", "coffee")
    assert first.result() == []
    assert sorted(m.memory_id for m in second.result()) == ["m1", "m2"]
    assert gone.result() is True
    assert [m.memory for m in third.result()] == ["black coffee"]


async def test_many_keys_give_what_direct_calls_give(mem: Any) -> None:
    for i in range(12):
        await mem.sessions.upsert(Session(session_id=f"s{i}", user_id=f"u{i % 3}"))
    async with mem.pipeline() as p:
        appends = [
            p.sessions.append_run(f"s{i}", run(f"r{i}", f"hello {i}"), user_id=f"u{i % 3}")
            for i in range(12)
        ]
        stores = [p.working.store(f"c{i}", f"data {i}", metadata={"i": i}) for i in range(12)]
        gets = [p.sessions.get(f"s{i}") for i in range(12)]
    for i in range(12):
        session = gets[i].result()
        assert [r.run_id for r in session.runs] == [f"r{i}"]
        assert session == await mem.sessions.get(f"s{i}")
        assert appends[i].result().run_id == f"r{i}"
        assert stores[i].result() == await mem.working.retrieve(f"c{i}")


async def test_one_engine_time_per_key(mem: Any) -> None:
    async with mem.pipeline() as p:
        a = p.sessions.upsert(Session(session_id="a", user_id="x"))
        summary = p.sessions.set_summary("a", "short")
        appended = p.sessions.append_run("a", run("r1", "hi"))
        got = p.sessions.get("a")
    session = got.result()
    assert session.updated_at == a.result().updated_at == summary.result().updated_at
    assert session.runs[0].created_at == appended.result().created_at == session.updated_at


async def test_an_operation_error_does_not_stop_the_others(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="owned", user_id="alice"))
    with pytest.raises(NotFound, match="missing"):
        async with mem.pipeline() as p:
            first = p.working.store("c1", "kept")
            failing = p.sessions.rename("missing", "x")
            stolen = p.sessions.upsert(Session(session_id="owned", user_id="mallory"))
            last = p.working.store("c2", "also kept")
    assert first.result().data == "kept" and last.result().data == "also kept"
    with pytest.raises(NotFound):
        failing.result()
    with pytest.raises(OwnershipError):
        stolen.result()
    assert (await mem.working.retrieve("c2")).data == "also kept"
    assert (await mem.sessions.get("owned")).user_id == "alice"


async def test_the_first_error_in_queued_order_is_raised(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="owned", user_id="alice"))
    with pytest.raises(OwnershipError):
        async with mem.pipeline() as p:
            p.sessions.upsert(Session(session_id="owned", user_id="mallory"))
            p.working.update("nope", "x")


async def test_raise_on_error_false_keeps_errors_in_results(mem: Any) -> None:
    async with mem.pipeline(raise_on_error=False) as p:
        failing = p.sessions.append_run("missing", run("r", "x"))
        update = p.working.update("nope", "x")
        ok = p.sessions.get("missing")
    assert ok.result() is None
    with pytest.raises(NotFound):
        failing.result()
    with pytest.raises(NotFound):
        update.result()


async def test_bad_arguments_raise_at_once_and_queue_nothing(mem: Any) -> None:
    async with mem.pipeline() as p:
        with pytest.raises(InvalidArgument, match="ttl"):
            p.working.store("c", "x", ttl=-1)
        with pytest.raises(TypeError, match="session"):
            p.sessions.upsert({"session_id": "s"})
        assert len(p) == 0
    with pytest.raises(AttributeError, match="cannot be pipelined"):
        p.sessions.list()
    with pytest.raises(TypeError, match="raise_on_error"):
        mem.pipeline(raise_on_error="yes")


async def test_a_failing_block_sends_nothing_and_a_pipeline_runs_once(mem: Any) -> None:
    with pytest.raises(ZeroDivisionError):
        async with mem.pipeline() as p:
            queued = p.working.store("c", "never")
            1 / 0  # noqa: B018
    assert await mem.working.retrieve("c") is None
    assert isinstance(queued, PipelineResult)
    with pytest.raises(RuntimeError, match="has not run"):
        queued.result()
    pipeline = mem.pipeline()
    async with pipeline:
        pipeline.working.store("c", "x")
    with pytest.raises(RuntimeError, match="runs once"):
        async with pipeline:
            pass


async def test_an_empty_pipeline_does_nothing(mem: Any) -> None:
    async with mem.pipeline() as p:
        assert len(p) == 0
