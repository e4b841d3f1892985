"""``mem.working``: store/retrieve/update/delete and its TTL rules."""

from __future__ import annotations

import pytest
import trio
from trio.testing import MockClock

from engine import EngineConfig, KindPolicy, MemoryEngine, NotFound, open_memory_engine

from .conftest import START


async def test_store_default_ttl_is_12_hours(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    stored = await mem.working.store("c1", "User prefers email")
    assert stored.expires_at == START + 12 * 3600
    assert (await mem.working.retrieve("c1")) == stored
    await trio.sleep(12 * 3600 - 1)
    assert await mem.working.retrieve("c1") is not None
    await trio.sleep(1)
    assert await mem.working.retrieve("c1") is None
    assert mem.statistics().expired == 1


async def test_ttl_none_never_expires(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await mem.working.store("c1", "forever", ttl=None)
    await trio.sleep(10 * 365 * 86400)
    got = await mem.working.retrieve("c1")
    assert got is not None and got.expires_at is None


async def test_update_refreshes_ttl(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await mem.working.store("c1", "v1", ttl=10)
    await trio.sleep(8)
    updated = await mem.working.update("c1", "v2")
    assert updated.data == "v2" and updated.expires_at == START + 18
    assert updated.created_at == START
    await trio.sleep(9)
    assert (await mem.working.retrieve("c1")).data == "v2"  # type: ignore[union-attr]
    explicit = await mem.working.update("c1", "v3", ttl=100, metadata={"k": "v"})
    assert explicit.expires_at == START + 117 and explicit.metadata == {"k": "v"}
    await trio.sleep(100)
    assert await mem.working.retrieve("c1") is None
    with pytest.raises(NotFound, match="c1"):
        await mem.working.update("c1", "v4")


async def test_memory_types_are_separate(mem: MemoryEngine) -> None:
    await mem.working.store("c1", "short", memory_type="short_term")
    await mem.working.store("c1", "long", memory_type="long_term")
    assert (await mem.working.retrieve("c1", memory_type="short_term")).data == "short"  # type: ignore[union-attr]
    assert await mem.working.retrieve("c1") is None
    assert await mem.working.delete("c1", memory_type="short_term") is True
    assert await mem.working.delete("c1", memory_type="short_term") is False
    assert (await mem.working.retrieve("c1", memory_type="long_term")).data == "long"  # type: ignore[union-attr]


async def test_refresh_on_read_policy(autojump_clock: MockClock) -> None:
    config = EngineConfig(working=KindPolicy(default_ttl=10, refresh_on_read=True))
    async with open_memory_engine(config=config, start_time=START) as mem:
        await mem.working.store("c1", "x")
        for _ in range(5):
            await trio.sleep(8)
            assert await mem.working.retrieve("c1") is not None  # each read restarts 10 s
        await trio.sleep(10)
        assert await mem.working.retrieve("c1") is None


async def test_no_refresh_on_update_policy_keeps_deadline(autojump_clock: MockClock) -> None:
    config = EngineConfig(working=KindPolicy(default_ttl=10, refresh_on_update=False))
    async with open_memory_engine(config=config, start_time=START) as mem:
        await mem.working.store("c1", "x")
        await trio.sleep(5)
        assert (await mem.working.update("c1", "y")).expires_at == START + 10
        await trio.sleep(5)
        assert await mem.working.retrieve("c1") is None
