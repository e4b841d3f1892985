"""Misuse gets a typed error that says what to use, never a wedged shard."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import trio

from engine import (
    EngineClosed,
    Session,
    WrongThread,
    open_blocking_engine,
    open_memory_engine,
)


async def test_a_trio_engine_called_from_a_foreign_thread_raises_and_keeps_serving() -> None:
    """It used to raise a bare AssertionError and wedge the shard (and the close)."""
    async with open_memory_engine(shards=2) as mem:
        await mem.sessions.upsert(Session(session_id="s1", user_id="u"))
        errors: list[BaseException] = []

        def foreign() -> None:
            for call in (
                lambda: trio.run(mem.sessions.upsert, Session(session_id="s2", user_id="u")),
                lambda: trio.run(mem.sessions.list),  # a scatter to every shard
                lambda: trio.run(mem.drop),
                lambda: asyncio.run(mem.sessions.get("s1")),  # another kind of loop
            ):
                try:
                    call()
                except BaseException as error:
                    errors.append(error)

        await trio.to_thread.run_sync(foreign)
        assert [type(e) for e in errors] == [WrongThread] * 4
        assert "open_blocking_engine" in str(errors[0])
        assert (await mem.sessions.get("s1")) is not None
        assert await mem.sessions.get("s2") is None  # nothing was half-applied
    # and the engine closed without hanging


async def test_a_trio_pipeline_run_from_a_foreign_thread_raises() -> None:
    async with open_memory_engine(shards=2) as mem:

        async def pipelined() -> None:
            async with mem.pipeline() as p:
                p.sessions.get("s1")

        with pytest.raises(WrongThread):
            await trio.to_thread.run_sync(trio.run, pipelined)
        assert await mem.sessions.get("s1") is None


async def test_a_blocking_call_from_the_engines_own_thread_raises_instead_of_deadlocking() -> None:
    async with open_memory_engine(shards=2) as mem:
        blocking = mem.blocking()
        with pytest.raises(WrongThread, match="deadlock"):
            blocking.sessions.get("s1")
        # from a worker thread it works
        await trio.to_thread.run_sync(
            blocking.sessions.upsert, Session(session_id="s1", user_id="u")
        )
        assert (await mem.sessions.get("s1")).user_id == "u"


def test_a_nested_blocking_call_inside_the_engine_thread_raises() -> None:
    with open_blocking_engine(shards=1) as mem:
        with pytest.raises(WrongThread, match="deadlock"):
            mem.call_in_engine_thread(lambda: mem.sessions.get("s1"))
        assert mem.sessions.get("s1") is None


async def test_a_trio_apps_blocking_handle_serves_worker_threads() -> None:
    async with open_memory_engine(shards=4) as mem:
        blocking = mem.blocking()

        def worker(n: int) -> None:
            for i in range(20):
                blocking.sessions.upsert(Session(session_id=f"s{n}-{i}", user_id=f"u{n}"))

        async with trio.open_nursery() as nursery:
            for n in range(6):
                nursery.start_soon(trio.to_thread.run_sync, worker, n)
        assert mem.statistics().sessions == 120
        blocking.close()  # detaches this handle only
        with pytest.raises(EngineClosed):
            await trio.to_thread.run_sync(blocking.sessions.get, "s0-0")
        assert await mem.sessions.get("s0-0") is not None
        survivor = mem.blocking()
    with pytest.raises(EngineClosed):  # the trio engine itself is closed now
        await trio.to_thread.run_sync(survivor.sessions.get, "s0-0")


def test_the_handle_of_a_finished_trio_run_raises_engine_closed() -> None:
    handles: list[Any] = []

    async def app() -> None:
        async with open_memory_engine(shards=1) as mem:
            handles.append(mem.blocking())

    trio.run(app)
    with pytest.raises(EngineClosed):
        handles[0].sessions.get("s1")


def test_open_options_are_checked_in_the_caller() -> None:
    with pytest.raises(TypeError, match="prefix"):
        open_blocking_engine(prefix="p").__enter__()
    with pytest.raises(TypeError, match="data_dir"):
        open_blocking_engine(redis_url="redis://localhost:1", data_dir="/tmp/x").__enter__()
    with pytest.raises(TypeError, match="config"):
        open_blocking_engine(config="nope").__enter__()  # type: ignore[arg-type]
    assert not [t for t in threading.enumerate() if t.name.startswith("shardmem-engine")]
