"""The bridge's entry points, end to end (blocking, asyncio, and back)."""

from __future__ import annotations

import asyncio

from trio.testing import MockClock

from engine import (
    AsyncioEngine,
    BlockingEngine,
    Session,
    open_asyncio_engine,
    open_blocking_engine,
)


def test_blocking_round_trip_and_asyncio_handle() -> None:
    with open_blocking_engine(shards=2, start_time=1000.0, clock=MockClock()) as mem:
        assert isinstance(mem, BlockingEngine)
        stored = mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
        assert stored.created_at == 1000.0
        assert mem.sessions.get("s1") == stored

        async def from_asyncio() -> Session | None:
            aio = mem.asyncio()
            assert isinstance(aio, AsyncioEngine)
            return await aio.sessions.get("s1")

        assert asyncio.run(from_asyncio()) == stored
    assert mem.closed


def test_asyncio_round_trip_and_blocking_handle() -> None:
    async def main() -> None:
        async with open_asyncio_engine(shards=2) as mem:
            stored = await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
            blocking = mem.blocking()
            got = await asyncio.get_running_loop().run_in_executor(
                None, blocking.sessions.get, "s1"
            )
            assert got == stored

    asyncio.run(main())
