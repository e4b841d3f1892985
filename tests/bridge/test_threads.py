"""The blocking facade from many OS threads, and from inside running asyncio loops
(where Agno's ``arun`` and Upsonic call a synchronous store)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import (
    NotFound,
    Run,
    Session,
    UserMemory,
    open_blocking_engine,
)

THREADS = 8
PER_THREAD = 50


def test_many_threads_write_one_session_and_their_own() -> None:
    with open_blocking_engine(shards=4) as mem:
        mem.sessions.upsert(Session(session_id="shared", user_id="u"))
        barrier = threading.Barrier(THREADS)

        def worker(n: int) -> int:
            barrier.wait()  # all threads call at once
            for i in range(PER_THREAD):
                mem.sessions.append_run("shared", Run(run_id=f"t{n}-{i}"))
                mem.memories.upsert(UserMemory(user_id=f"user{n}", memory=f"fact {i}"))
            return len(mem.memories.list(user_id=f"user{n}"))

        with ThreadPoolExecutor(THREADS) as pool:
            counts = list(pool.map(worker, range(THREADS)))
        assert counts == [PER_THREAD] * THREADS
        runs = mem.sessions.runs("shared")
        assert len(runs) == THREADS * PER_THREAD
        assert len({run.run_id for run in runs}) == THREADS * PER_THREAD
        # each thread's runs stay in the order that thread appended them
        for n in range(THREADS):
            mine = [run.run_id for run in runs if run.run_id.startswith(f"t{n}-")]
            assert mine == [f"t{n}-{i}" for i in range(PER_THREAD)]
        stats = mem.statistics()
        assert stats.memories == THREADS * PER_THREAD and stats.runs == THREADS * PER_THREAD


def test_errors_reach_the_calling_thread_as_themselves() -> None:
    with open_blocking_engine(shards=2) as mem:
        with pytest.raises(NotFound):
            mem.sessions.append_run("missing", Run(run_id="r"))
        with pytest.raises(TypeError, match="session"):
            mem.sessions.upsert("not a session")
        with pytest.raises(TypeError):
            mem.sessions.get()  # a missing argument: the same TypeError as the trio API
        assert mem.sessions.get("missing") is None  # the engine goes on serving


def test_a_blocking_call_inline_on_a_running_asyncio_loop() -> None:
    """Agno ``arun()`` with a sync db: the store is called inline on the loop thread."""
    with open_blocking_engine(shards=2) as mem:

        async def agent_turn(n: int) -> str:
            session = mem.sessions.get("s1") or mem.sessions.upsert(
                Session(session_id="s1", user_id="u")
            )
            await asyncio.sleep(0)
            mem.sessions.append_run("s1", Run(run_id=f"r{n}"))
            return session.session_id

        async def main() -> list[str]:
            return await asyncio.gather(*(agent_turn(n) for n in range(10)))

        assert asyncio.run(main()) == ["s1"] * 10
        assert len(mem.sessions.runs("s1")) == 10


def test_blocking_calls_from_a_background_loop_thread() -> None:
    """Upsonic: a background thread runs an asyncio loop whose coroutines call a sync
    storage inline, while the main thread uses the same store."""
    with open_blocking_engine(shards=2) as mem:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="upsonic-bg-loop")
        thread.start()
        try:

            async def pipeline_step(n: int) -> int:
                mem.working.store(f"c{n}", f"data {n}")
                return len(mem.working.retrieve(f"c{n}").data)

            futures = [asyncio.run_coroutine_threadsafe(pipeline_step(n), loop) for n in range(20)]
            mem.sessions.upsert(Session(session_id="main", user_id="u"))
            assert [f.result() for f in futures] == [len(f"data {n}") for n in range(20)]
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
        assert mem.statistics().working == 20
