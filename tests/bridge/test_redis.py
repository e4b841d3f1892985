"""The bridge on the Redis backend: ``redis_url=`` and ``RedisMemoryEngine.blocking()``.

Needs ``$SHARDMEM_REDIS_URL`` (skipped, saying why, without it). The whole
conformance suite also runs through ``open_blocking_engine(redis_url=...)``
(the ``redis-blocking`` backend of ``tests/conformance``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from functools import partial

import pytest
import trio

from engine import EngineClosed, Session, WrongThread, open_asyncio_engine

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to a Redis URL to run the Redis bridge tests")
    pytest.importorskip("coredis", reason="install the redis extra: pip install -e '.[redis]'")
    return url


def test_the_asyncio_handle_on_redis(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:12]}"

    async def main() -> None:
        async with open_asyncio_engine(redis_url=redis_url, prefix=prefix, timeout=5.0) as mem:
            await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
            got = await asyncio.gather(*(mem.sessions.get("s1") for _ in range(50)))
            assert {s.user_id for s in got} == {"alice"}
            assert (await mem.server_statistics()).sessions == 1
            assert (await mem.statistics()).partitions == 4
            blocking = mem.blocking()
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, partial(blocking.drop, forget=True)) == 1

    asyncio.run(main())


async def test_a_trio_apps_redis_engine_hands_out_a_blocking_handle(redis_url: str) -> None:
    from engine import open_redis_memory

    prefix = f"t{uuid.uuid4().hex[:12]}"
    async with open_redis_memory(redis_url, prefix=prefix, sweep_interval=None) as mem:
        try:
            blocking = mem.blocking()
            with pytest.raises(WrongThread):
                blocking.sessions.get("s1")  # from the trio thread itself
            await trio.to_thread.run_sync(
                blocking.sessions.upsert, Session(session_id="s1", user_id="u")
            )
            assert (await mem.sessions.get("s1")).user_id == "u"

            def foreign() -> None:
                trio.run(mem.sessions.get, "s1")

            with pytest.raises(WrongThread):
                await trio.to_thread.run_sync(foreign)
        finally:
            await mem.drop(forget=True)
    with pytest.raises(EngineClosed):
        await trio.to_thread.run_sync(blocking.sessions.get, "s1")
