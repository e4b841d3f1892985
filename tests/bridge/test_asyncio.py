"""The asyncio facade: concurrency on one loop, cancellation, closing with work queued.

Each test runs its own ``asyncio.run`` (pytest runs tests under trio)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import trio

from engine import (
    EngineClosed,
    InvalidArgument,
    Run,
    Session,
    WorkingMemory,
    WrongThread,
    open_asyncio_engine,
    start_blocking_engine,
)

TASKS = 100


def test_concurrent_tasks_on_one_loop() -> None:
    async def main() -> None:
        async with open_asyncio_engine(shards=4) as mem:
            await mem.sessions.upsert(Session(session_id="s", user_id="u"))

            async def task(n: int) -> WorkingMemory:
                await mem.sessions.append_run("s", Run(run_id=f"r{n}"))
                return await mem.working.store(f"c{n}", f"w{n}")

            stored = await asyncio.gather(*(task(n) for n in range(TASKS)))
            assert [w.data for w in stored] == [f"w{n}" for n in range(TASKS)]
            assert len(await mem.sessions.runs("s")) == TASKS
            stats = await mem.statistics()
            assert stats.working == TASKS
            assert isinstance(await mem.now(), float)

    asyncio.run(main())


def test_two_loops_in_two_threads_share_one_engine() -> None:
    async def main() -> None:
        async with open_asyncio_engine(shards=2) as mem:

            async def other_loop() -> None:
                await mem.sessions.upsert(Session(session_id="other", user_id="u"))

            thread = threading.Thread(target=asyncio.run, args=(other_loop(),))
            thread.start()
            await mem.sessions.upsert(Session(session_id="mine", user_id="u"))
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            assert {s.session_id for s in await mem.sessions.list(user_id="u")} == {
                "mine",
                "other",
            }

    asyncio.run(main())


def test_cancelling_the_task_cancels_the_call_in_the_engine_thread() -> None:
    """A call parked in the engine is cancelled there when its asyncio task is."""
    entered = threading.Event()
    outcome: list[str] = []

    async def parked() -> None:  # runs as a trio task in the engine thread
        entered.set()
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            outcome.append("cancelled in the engine")
            raise

    async def main() -> None:
        async with open_asyncio_engine(shards=1) as mem:
            task = asyncio.ensure_future(mem._portal.acall(parked, (), {}))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, entered.wait)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the engine serves on, and the cancellation was applied before this call
            await mem.sessions.upsert(Session(session_id="s", user_id="u"))
            assert (await mem.call_in_engine_thread(list, outcome)) == ["cancelled in the engine"]

    asyncio.run(main())


def test_a_call_cancelled_right_after_submission_leaves_the_engine_consistent() -> None:
    async def main() -> None:
        async with open_asyncio_engine(shards=2) as mem:
            tasks = [
                asyncio.ensure_future(mem.sessions.upsert(Session(session_id=f"s{n}", user_id="u")))
                for n in range(20)
            ]
            await asyncio.sleep(0)  # every task has submitted its call
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
            # each upsert is applied whole or not at all (a cancelled call that reached
            # the engine may still land later, as with the trio API); nothing is wedged
            stored = await mem.sessions.list(user_id="u")
            assert all(s.user_id == "u" and s.session_id.startswith("s") for s in stored)
            after = await mem.sessions.upsert(Session(session_id="after", user_id="v"))
            assert await mem.sessions.get("after") == after

    asyncio.run(main())


def test_close_serves_what_was_queued_then_refuses() -> None:
    async def main() -> None:
        mem: Any
        async with open_asyncio_engine(shards=2) as mem:
            await mem.sessions.upsert(Session(session_id="s", user_id="u"))
            calls = [
                asyncio.ensure_future(mem.sessions.append_run("s", Run(run_id=f"r{n}")))
                for n in range(50)
            ]
            await asyncio.sleep(0)  # all 50 are in the mailbox
            blocking = mem.blocking()
        # the block exited: close() served the queued calls before stopping
        runs = await asyncio.gather(*calls)
        assert [r.run_id for r in runs] == [f"r{n}" for n in range(50)]
        assert mem.closed
        with pytest.raises(EngineClosed):
            await mem.sessions.get("s")
        with pytest.raises(EngineClosed):
            blocking.sessions.get("s")
        await mem.aclose()  # idempotent

    asyncio.run(main())


def test_an_error_opening_the_engine_is_raised_at_the_async_with() -> None:
    async def main() -> None:
        with pytest.raises(InvalidArgument, match="shards"):
            async with open_asyncio_engine(shards=0):
                raise AssertionError("not reached")

    asyncio.run(main())


async def test_awaiting_the_asyncio_facade_under_trio_says_what_to_use() -> None:
    mem = await trio.to_thread.run_sync(start_blocking_engine)
    try:
        with pytest.raises(WrongThread, match="asyncio loop"):
            await mem.asyncio().sessions.get("s")
    finally:
        await trio.to_thread.run_sync(mem.close)


def test_cancelling_some_calls_never_disturbs_the_others() -> None:
    """Workers are reused across calls: a cancellation must hit only its own call."""

    async def main() -> None:
        async with open_asyncio_engine(shards=2) as mem:
            await mem.working.store("c", "kept")
            for round_ in range(10):
                tasks = [asyncio.ensure_future(mem.working.retrieve("c")) for _ in range(40)]
                for _ in range(round_ % 3):
                    await asyncio.sleep(0)  # cancel at different stages of the calls
                for task in tasks[::2]:
                    task.cancel()
                results = await asyncio.gather(*tasks, return_exceptions=True)
                for index, result in enumerate(results):
                    if index % 2:
                        assert not isinstance(result, BaseException), result
                        assert result.data == "kept"

    asyncio.run(main())
