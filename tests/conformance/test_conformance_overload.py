"""``when_full="reject"`` on every backend: a call that finds no room is refused with
``Overloaded`` at once — single calls, lists (which ask every shard) and pipelines
alike — and nothing is lost: every call either ran or was refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from engine import EngineConfig, Overloaded, Session

ROOM = 2


@pytest.fixture
def engine_config() -> EngineConfig:
    return EngineConfig(shards=2, mailbox_size=ROOM, when_full="reject")


async def _burst(call: Callable[[], Awaitable[Any]], n: int = 40) -> tuple[int, int]:
    """``n`` calls started together; how many ran and how many were refused."""
    ran = refused = 0

    async def one() -> None:
        nonlocal ran, refused
        try:
            await call()
            ran += 1
        except Overloaded:
            refused += 1

    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(one)
    return ran, refused


@pytest.fixture
def native(backend: str) -> None:
    if backend.endswith(("-blocking", "-asyncio")):
        pytest.skip("a burst from threads or another loop does not arrive at once")


@pytest.mark.usefixtures("native")
async def test_single_calls_lists_and_pipelines_are_refused_when_full(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s", user_id="u"))

    async def pipeline() -> None:
        async with mem.pipeline() as pipe:
            pipe.sessions.get("s")
            pipe.working.retrieve("c")

    for call in (lambda: mem.sessions.get("s"), lambda: mem.sessions.list(), pipeline):
        ran, refused = await _burst(call)
        assert ran + refused == 40
        assert ran >= 1 and refused >= 1, (call, ran, refused)
    assert (await mem.sessions.get("s")).user_id == "u"  # served once the burst is over
