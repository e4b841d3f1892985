"""100,000 records expire on the mock clock without a single read.

Half of them share one deadline (a mass expiry), the other half are spread over
earlier deadlines. The shards' active sweeps alone must remove them all — in bounded
batches, serving requests in the middle — and leave every index empty.
"""

from __future__ import annotations

import math

import trio
import trio.testing

from engine import (
    EngineConfig,
    MemoryEngine,
    Message,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
    shard_of,
)

START = 1_000_000.0
SESSIONS = 40_000
MEMORIES = 30_000
WORKING = 30_000
TOTAL = SESSIONS + MEMORIES + WORKING
USERS = 1_000
TIMER_BATCH = 256
MASS_TTL = 600.0  # every even-numbered record expires at START + MASS_TTL
WRITERS = 20


def ttl_of(i: int) -> float:
    """Even records: the mass deadline. Odd ones: spread over 1 .. 500 s."""
    return MASS_TTL if i % 2 == 0 else 1.0 + i % 500


async def write_slice(mem: MemoryEngine, writer: int) -> None:
    for i in range(writer, TOTAL, WRITERS):
        ttl = ttl_of(i)
        if i < SESSIONS:
            runs = (
                (Run(run_id="r0", messages=(Message(role="user", content=f"hello {i}"),)),)
                if i % 3 == 0
                else ()
            )
            stored = await mem.sessions.upsert(
                Session(
                    session_id=f"s{i}",
                    user_id=f"u{i % USERS}",
                    agent_id=f"agent{i % 50}",
                    name=f"chat {i}",
                    runs=runs,
                ),
                ttl=ttl,
            )
        elif i < SESSIONS + MEMORIES:
            stored = await mem.memories.upsert(
                UserMemory(
                    user_id=f"u{i % USERS}",
                    memory_id=f"m{i}",
                    memory=f"likes tea number {i % 97}",
                    topics=(f"topic{i % 20}",),
                ),
                ttl=ttl,
            )
        else:
            stored = await mem.working.store(f"c{i}", f"scratch {i}", ttl=ttl)
        assert stored.expires_at == START + ttl


def per_shard_totals(mem: MemoryEngine) -> list[int]:
    """How many of the records each shard holds (by the routing rule)."""
    totals = [0] * mem.shards
    for i in range(TOTAL):
        if i < SESSIONS:
            key = f"s{i}"
        elif i < SESSIONS + MEMORIES:
            key = f"u{i % USERS}"
        else:
            key = f"c{i}"
        totals[shard_of(key, mem.shards)] += 1
    return totals


async def test_100k_records_expire_by_the_sweep_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    config = EngineConfig(shards=4, timer_batch=TIMER_BATCH)
    async with open_memory_engine(config=config, start_time=START) as mem:
        async with trio.open_nursery() as nursery:
            for writer in range(WRITERS):
                nursery.start_soon(write_slice, mem, writer)
        assert mem.now() == START  # writing took no (mock) time
        stats = mem.statistics()
        assert (stats.sessions, stats.memories, stats.working) == (SESSIONS, MEMORIES, WORKING)
        assert stats.runs == len(range(0, SESSIONS, 3))
        assert sum(s.store.expiry_entries for s in stats.shards) == TOTAL
        assert stats.expired == 0
        for store in mem._stores:
            store._check()

        # The spread half: gone by START + 501, by the sweep alone.
        await trio.sleep(550)
        stats = mem.statistics()
        half = TOTAL // 2
        assert stats.records == half
        assert stats.expired == half
        assert sum(s.timers_fired for s in stats.shards) == half
        assert min(s.store.next_deadline or math.inf for s in stats.shards) == START + MASS_TTL

        # The mass expiry: wake exactly at the shared deadline, with the shards.
        await trio.sleep_until(mem._clock.to_trio(START + MASS_TTL))
        assert mem.now() == START + MASS_TTL
        # Requests issued now are served between the sweep's bounded batches: when the
        # replies arrive, every shard still holds records due for removal.
        assert await mem.sessions.get("no-such-session") is None
        assert await mem.knowledge.list() == []  # one request to every shard
        for store in mem._stores:
            counts = store.counts()
            assert counts.records > 0
            assert counts.next_deadline == START + MASS_TTL
        served_mid_sweep = mem.statistics().requests

        await trio.sleep(1)  # the clock jumps only once every shard is idle again
        stats = mem.statistics()
        assert stats.requests == served_mid_sweep  # statistics() is not a request
        assert stats.records == 0
        assert (stats.sessions, stats.runs, stats.memories, stats.working) == (0, 0, 0, 0)
        assert sum(s.store.expired_sessions for s in stats.shards) == SESSIONS
        assert sum(s.store.expired_memories for s in stats.shards) == MEMORIES
        assert sum(s.store.expired_working for s in stats.shards) == WORKING
        assert stats.expired == TOTAL
        # Every record was removed by a timer (none by a read), in bounded batches.
        assert sum(s.timers_fired for s in stats.shards) == TOTAL
        for shard, expected, ref in zip(
            stats.shards, per_shard_totals(mem), mem._router.refs, strict=True
        ):
            assert shard.timers_fired == shard.store.expired == expected
            assert shard.store.expiry_entries == 0
            assert shard.store.next_deadline is None
            assert shard.errors == 0
            assert ref.statistics().timer_batches >= math.ceil(expected / TIMER_BATCH)

        # Every index is empty, as seen from inside ...
        for store in mem._stores:
            store._check()
            assert len(store.expiry) == 0 and not store._ttls
            assert not store.sessions.records and store.sessions.runs == 0
            assert not store.sessions.by_updated._groups
            assert not store.sessions.by_created._groups
            assert not store.memories.records
            assert not store.memories.by_updated._groups
            assert not store.memories.by_created._groups
            assert not store.memories.by_topic
            assert not store.memories.keywords._postings
            assert not store.memories.keywords._lengths
            assert not store.working
        # ... and from the API.
        assert await mem.sessions.list() == []
        for user in ("u0", "u1", f"u{USERS - 1}"):
            assert await mem.sessions.list(user_id=user) == []
            assert await mem.sessions.recent(user_id=user) == []
            assert await mem.memories.list(user_id=user) == []
            assert await mem.memories.search(user, "tea") == []
            assert await mem.memories.topics(user_id=user) == []
        assert await mem.sessions.list(agent_id="agent0") == []
        assert await mem.memories.topics() == []
        assert await mem.memories.list() == []
        assert await mem.sessions.get("s0") is None
        assert await mem.working.retrieve(f"c{TOTAL - 1}") is None
        snapshot = await mem.snapshot()
        assert snapshot["sessions"] == snapshot["memories"] == snapshot["working"] == []
        # Those reads found nothing to expire: the counts did not move.
        assert mem.statistics().expired == TOTAL
