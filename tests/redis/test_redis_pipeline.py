"""``RedisMemoryEngine.pipeline()``: round trips, outages, and the deferred calls.

Semantics (order, errors, ``raise_on_error``) are in the conformance suite; this
checks what is Redis-specific: the queued scripts go out in one coredis pipeline per
round, not one request per operation.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine import Message, Run, Session, UserMemory

pytestmark = pytest.mark.redis


def run(run_id: str, text: str) -> Run:
    return Run(run_id=run_id, messages=(Message(role="user", content=text),))


async def test_single_call_operations_take_one_round_trip(redis_mem: Any) -> None:
    for i in range(20):
        await redis_mem.sessions.upsert(Session(session_id=f"s{i}", user_id=f"u{i}"))
    before = redis_mem.statistics()
    async with redis_mem.pipeline() as p:
        for i in range(20):
            p.sessions.append_run(f"s{i}", run("r", "hi"), user_id=f"u{i}")
            p.working.store(f"s{i}", "data", ttl=60)
            p.memories.upsert(UserMemory(user_id=f"u{i}", memory="likes tea"))
            p.sessions.messages(f"s{i}", last_n_runs=3)
    after = redis_mem.statistics()
    assert after.round_trips - before.round_trips == 1
    assert after.requests - before.requests == 80


async def test_a_search_adds_one_round_per_call(redis_mem: Any) -> None:
    await redis_mem.memories.upsert(UserMemory(user_id="u", memory="green tea"))
    before = redis_mem.statistics().round_trips
    async with redis_mem.pipeline() as p:
        p.sessions.get("nothing")
        found = p.memories.search("u", "tea")
    assert len(found.result()) == 1
    # rank (with the get alongside), then fetch the ranked memories
    assert redis_mem.statistics().round_trips - before == 2


async def test_a_closed_engine_refuses_the_pipeline(redis_mem: Any) -> None:
    from engine import EngineClosed

    pipeline = redis_mem.pipeline()
    redis_mem._router.closed = True
    try:
        with pytest.raises(EngineClosed):
            async with pipeline as p:
                p.working.store("c", "x")
    finally:
        redis_mem._router.closed = False
