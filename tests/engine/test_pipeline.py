"""``mem.pipeline()``: ordering, per-operation errors, validation, cancellation."""

from __future__ import annotations

import gc

import pytest
import trio
import trio.testing

from engine import (
    InvalidArgument,
    MemoryEngine,
    Message,
    NotFound,
    PipelineResult,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
)


def run(run_id: str, text: str) -> Run:
    return Run(run_id=run_id, messages=(Message(role="user", content=text),))


async def test_one_request_per_shard_not_per_operation(mem: MemoryEngine) -> None:
    # Results, their order and per-operation errors on every backend:
    # tests/conformance/test_conformance_pipeline.py. Here, what the embedded engine sends.
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    async with mem.pipeline() as p:
        appended = [p.sessions.append_run("s1", run(f"r{i}", f"m{i}")) for i in range(5)]
        memory = p.memories.upsert(UserMemory(user_id="alice", memory="likes tea"))
        found = p.memories.search("alice", "tea")
        assert len(p) == 7
    assert [r.result().run_id for r in appended] == [f"r{i}" for i in range(5)]
    assert [m.memory_id for m in found.result()] == [memory.result().memory_id]
    assert mem.statistics().requests <= 1 + 2  # the upsert, then at most one per shard


async def test_an_operation_error_does_not_stop_the_others(mem: MemoryEngine) -> None:
    with pytest.raises(NotFound, match="missing"):
        async with mem.pipeline() as p:
            first = p.working.store("c1", "kept")
            failing = p.sessions.rename("missing", "x")
            last = p.working.store("c2", "also kept")
    assert first.result().data == "kept" and last.result().data == "also kept"
    with pytest.raises(NotFound):
        failing.result()
    assert (await mem.working.retrieve("c2")) is not None


async def test_raise_on_error_false_keeps_errors_in_results(mem: MemoryEngine) -> None:
    async with mem.pipeline(raise_on_error=False) as p:
        failing = p.sessions.append_run("missing", run("r", "x"))
        ok = p.sessions.get("missing")
    assert ok.result() is None
    with pytest.raises(NotFound):
        failing.result()


async def test_bad_arguments_raise_at_once_and_queue_nothing(mem: MemoryEngine) -> None:
    async with mem.pipeline() as p:
        with pytest.raises(InvalidArgument, match="ttl"):
            p.working.store("c", "x", ttl=-1)
        with pytest.raises(TypeError, match="session"):
            p.sessions.upsert({"session_id": "s"})
        assert len(p) == 0
    with pytest.raises(AttributeError, match="cannot be pipelined"):
        p.sessions.list()


async def test_a_failing_block_sends_nothing(mem: MemoryEngine) -> None:
    with pytest.raises(ZeroDivisionError):
        async with mem.pipeline() as p:
            queued = p.working.store("c", "never")
            1 / 0  # noqa: B018
    assert await mem.working.retrieve("c") is None
    with pytest.raises(RuntimeError, match="has not run"):
        queued.result()
    assert isinstance(queued, PipelineResult)


async def test_cancelled_before_sending_applies_nothing(mem: MemoryEngine) -> None:
    with trio.CancelScope() as scope:
        async with mem.pipeline() as p:
            queued = p.working.store("c", "never")
            scope.cancel()
    assert scope.cancelled_caught
    assert await mem.working.retrieve("c") is None
    assert not queued.done


async def test_a_pipeline_runs_once(mem: MemoryEngine) -> None:
    pipeline = mem.pipeline()
    async with pipeline:
        pipeline.working.store("c", "x")
    with pytest.raises(RuntimeError, match="runs once"):
        async with pipeline:
            pass


async def test_pipelined_writes_are_journaled(tmp_path: object) -> None:
    async with (
        open_memory_engine(shards=2, data_dir=str(tmp_path), fsync="always") as mem,
        mem.pipeline() as p,
    ):
        p.sessions.upsert(Session(session_id="s", user_id="u"))
        p.sessions.append_run("s", run("r1", "hello"))
        p.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="tea"))
    async with open_memory_engine(shards=2, data_dir=str(tmp_path)) as mem:
        assert [r.run_id for r in await mem.sessions.runs("s")] == ["r1"]
        assert await mem.memories.get("m", user_id="u") is not None


async def test_pipeline_on_a_closed_engine() -> None:
    from engine import EngineClosed

    async with open_memory_engine() as mem:
        pass
    with pytest.raises(EngineClosed):
        async with mem.pipeline() as p:
            p.working.retrieve("c")


async def test_a_finished_pipeline_leaves_no_cyclic_garbage(mem: MemoryEngine) -> None:
    # The facades (p.sessions, ...) point back at their pipeline; the exit drops them,
    # so each turn's pipeline is freed by reference counting, not by the collector
    # (which the host's own objects would otherwise pay for; docs/benchmarks.md).
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    gc.collect()
    gc.disable()
    try:
        for i in range(20):
            async with mem.pipeline() as p:
                p.sessions.append_run("s1", run(f"r{i}", "hi"), user_id="alice")
                p.working.store("s1", "scratch", ttl=60)
                p.memories.search("alice", "tea")
                p.knowledge.get("doc")
        assert gc.collect() == 0
    finally:
        gc.enable()
