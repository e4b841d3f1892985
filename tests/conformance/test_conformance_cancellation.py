"""Cancellation is the same on every backend: a call made in an already-cancelled
scope is never applied (``docs/concepts.md``, "Cancellation")."""

from __future__ import annotations

from typing import Any

import trio

from engine import Session, UserMemory


async def test_a_call_in_an_already_cancelled_scope_is_never_applied(mem: Any) -> None:
    writes = [
        lambda: mem.working.store("c", "x"),
        lambda: mem.sessions.upsert(Session(session_id="s", user_id="u")),
        lambda: mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="x")),
    ]
    for write in writes:
        with trio.CancelScope() as scope:
            scope.cancel()
            await write()
        assert scope.cancelled_caught
    assert await mem.working.retrieve("c") is None
    assert await mem.sessions.get("s") is None
    assert await mem.memories.get("m", user_id="u") is None
    # and the engine serves the same calls normally afterwards
    for write in writes:
        await write()
    assert (await mem.working.retrieve("c")).data == "x"
