"""Recovery round-trip: whatever a durable engine held when it closed, it holds again.

Hypothesis draws a sequence of operations of every kind (writes, refreshing reads,
failing calls, clock jumps) and restarts in between, sometimes with another shard
count and sometimes after some downtime. At every restart the reopened engine's
snapshot must equal the closed engine's, minus exactly the records whose deadline
passed while it was down. Compaction is drawn on or off (``compact_min_bytes=1``
compacts after nearly every batch), so both recovery paths — snapshot + journal
tail, and journal alone — and the re-sharding path are exercised.

Each example runs its own ``trio.run`` with a ``MockClock`` that never moves by itself
(``rate=0``, no autojump): only the ``advance`` steps move time, so TTL arithmetic is
exact, and file IO in worker threads cannot make the clock jump.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    EngineConfig,
    KindPolicy,
    KnowledgeDoc,
    MemoryEngine,
    Message,
    NotFound,
    OwnershipError,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
    shard_of,
)
from engine._core._snapshot import routing_key

START = 1_000_000.0
KINDS = ("sessions", "memories", "working", "knowledge")

SID = st.sampled_from(["s0", "s1", "s2", "s3"])
USER = st.sampled_from(["u0", "u1", "u2"])
MID = st.sampled_from(["m0", "m1", "m2", "m3"])
CONV = st.sampled_from(["c0", "c1", "c2"])
DOC = st.sampled_from(["d0", "d1", "d2"])
TEXT = st.sampled_from(["alpha beta", "beta gamma", "vegan food", "trip to Rome", "ü ✓"])
TTL = st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.5, 10.0, 60.0]))
STATE = st.dictionaries(
    st.sampled_from(["a", "b", "nested"]),
    st.one_of(st.integers(-5, 5), st.text(max_size=3), st.lists(st.booleans(), max_size=2)),
    max_size=2,
)

OPS = st.one_of(
    st.tuples(st.just("upsert_session"), SID, USER, TTL, STATE),
    st.tuples(st.just("append_run"), SID, st.sampled_from(["r0", "r1", "r2"]), TEXT),
    st.tuples(st.just("set_summary"), SID, TEXT),
    st.tuples(st.just("rename"), SID, TEXT),
    st.tuples(st.just("delete_session"), SID),
    st.tuples(st.just("delete_many"), st.lists(SID, max_size=3), st.one_of(st.none(), USER)),
    st.tuples(st.just("upsert_memory"), USER, MID, TEXT, TTL),
    st.tuples(st.just("delete_memory"), USER, MID),
    st.tuples(st.just("clear_memories"), USER),
    st.tuples(st.just("store_working"), CONV, TEXT, TTL),
    st.tuples(st.just("update_working"), CONV, TEXT, st.one_of(st.just("default"), TTL)),
    st.tuples(st.just("delete_working"), CONV),
    st.tuples(st.just("upsert_doc"), DOC, TEXT, TTL),
    st.tuples(st.just("delete_doc"), DOC),
    st.tuples(st.just("read"), SID, USER, MID, CONV, TEXT),
    st.tuples(st.just("pipeline"), CONV, TEXT, SID, USER, MID),
    st.tuples(st.just("advance"), st.sampled_from([0.25, 0.5, 1.0, 3.0, 30.0])),
    st.tuples(st.just("drop")),
    st.tuples(
        st.just("restart"),
        st.integers(1, 4),
        st.sampled_from([0.0, 0.0, 0.75, 5.0, 100.0]),
    ),
)


async def apply(mem: MemoryEngine, op: tuple[Any, ...], clock: trio.testing.MockClock) -> None:
    """Run one operation; the engine's own refusals (not found, ownership) are fine."""
    name = op[0]
    try:
        if name == "upsert_session":
            _, sid, user, ttl, state = op
            await mem.sessions.upsert(Session(session_id=sid, user_id=user, state=state), ttl=ttl)
        elif name == "append_run":
            _, sid, run_id, text = op
            run = Run(run_id=run_id, messages=(Message(role="user", content=text),))
            await mem.sessions.append_run(sid, run)
        elif name == "set_summary":
            await mem.sessions.set_summary(op[1], op[2], topics=tuple(op[2].split()))
        elif name == "rename":
            await mem.sessions.rename(op[1], op[2])
        elif name == "delete_session":
            await mem.sessions.delete(op[1])
        elif name == "delete_many":
            await mem.sessions.delete_many(op[1], user_id=op[2])
        elif name == "upsert_memory":
            _, user, mid, text, ttl = op
            memory = UserMemory(user_id=user, memory_id=mid, memory=text, topics=(text[:4],))
            await mem.memories.upsert(memory, ttl=ttl)
        elif name == "delete_memory":
            await mem.memories.delete(op[2], user_id=op[1])
        elif name == "clear_memories":
            await mem.memories.clear(op[1])
        elif name == "store_working":
            await mem.working.store(op[1], op[2], metadata={"n": len(op[2])}, ttl=op[3])
        elif name == "update_working":
            _, conv, text, ttl = op
            if ttl == "default":
                await mem.working.update(conv, text)
            else:
                await mem.working.update(conv, text, ttl=ttl)
        elif name == "delete_working":
            await mem.working.delete(op[1])
        elif name == "upsert_doc":
            await mem.knowledge.upsert(KnowledgeDoc(doc_id=op[1], name=op[2]), ttl=op[3])
        elif name == "delete_doc":
            await mem.knowledge.delete(op[1])
        elif name == "read":  # with refresh_on_read these restart TTLs: journaled
            _, sid, user, mid, conv, text = op
            await mem.sessions.get(sid)
            await mem.memories.get(mid, user_id=user)
            await mem.memories.search(user, text, limit=2)
            await mem.working.retrieve(conv)
            await mem.knowledge.get("d0")
            await mem.sessions.messages(sid, last_n_runs=1)
        elif name == "pipeline":  # one request per shard, each operation journaled
            _, conv, text, sid, user, mid = op
            async with mem.pipeline(raise_on_error=False) as p:
                p.working.store(conv, text, ttl=2.5)
                p.sessions.append_run(sid, Run(run_id="piped"))
                p.memories.delete(mid, user_id=user)
                p.working.retrieve(conv)
                p.sessions.rename(sid, text)
        elif name == "advance":
            clock.jump(op[1])
            await trio.testing.wait_all_tasks_blocked()  # let the expiry sweeps run
        elif name == "drop":
            await mem.drop()
        else:  # pragma: no cover
            raise AssertionError(op)
    except (NotFound, OwnershipError):
        pass


async def populate(mem: MemoryEngine) -> None:
    """A record under every id the operations draw from, some with a TTL."""
    ttls = [None, 2.5, 60.0, None]
    for i in range(4):
        await mem.sessions.upsert(Session(session_id=f"s{i}", user_id=f"u{i % 3}"), ttl=ttls[i])
        await mem.memories.upsert(
            UserMemory(user_id=f"u{i % 3}", memory_id=f"m{i}", memory="alpha vegan"), ttl=ttls[i]
        )
        await mem.knowledge.upsert(KnowledgeDoc(doc_id=f"d{i}", name="doc"), ttl=ttls[i])
        await mem.working.store(f"c{i}", "start", ttl=ttls[i])


def live_after(snapshot: dict[str, Any], now: float) -> dict[str, Any]:
    """``snapshot`` without ``taken_at`` and without the records expired at ``now``
    (and their entries in the parallel ``ttls`` lists)."""
    result = {key: value for key, value in snapshot.items() if key not in ("taken_at", "ttls")}
    ttls = snapshot.get("ttls", {})
    for kind in KINDS:
        keep = [
            index
            for index, record in enumerate(snapshot[kind])
            if record["expires_at"] is None or record["expires_at"] > now
        ]
        result[kind] = [snapshot[kind][index] for index in keep]
        if kind in ttls:
            result.setdefault("ttls", {})[kind] = [ttls[kind][index] for index in keep]
    return result


def check_shards(mem: MemoryEngine) -> None:
    for index, store in enumerate(mem._stores):
        store._check()
        for kind in store.dump(mem.now()).values():
            for record in kind:
                assert shard_of(routing_key(record), mem.shards) == index


CONFIG = st.builds(
    lambda shards, fsync, compact, refresh: EngineConfig(
        shards=shards,
        fsync=fsync,
        compact_factor=1.5,
        compact_min_bytes=1 if compact else 1 << 20,
        sessions=KindPolicy(refresh_on_read=refresh),
        memories=KindPolicy(refresh_on_read=refresh),
        working=KindPolicy(default_ttl=5.0, refresh_on_read=refresh),
        knowledge=KindPolicy(refresh_on_read=refresh),
    ),
    st.integers(1, 4),
    st.sampled_from(["no", "everysec", "always"]),
    st.booleans(),
    st.booleans(),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=CONFIG, ops=st.lists(OPS, min_size=3, max_size=40))
def test_recovery_round_trip(tmp_path: Path, config: EngineConfig, ops: list[Any]) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    clock = trio.testing.MockClock()  # rate 0: time moves only when jumped

    async def main() -> None:
        restarts = [op for op in ops if op[0] == "restart"] + [("restart", config.shards, 0.0)]
        segments: list[list[Any]] = [[]]  # the operations between restarts
        for op in ops:
            if op[0] == "restart":
                segments.append([])
            else:
                segments[-1].append(op)
        now = START
        shards = config.shards
        for index, (segment, (_, next_shards, downtime)) in enumerate(
            zip(segments, restarts, strict=True)
        ):
            run_config = attrs.evolve(config, shards=shards)
            async with open_memory_engine(config=run_config, data_dir=root, start_time=now) as mem:
                if index == 0:
                    await populate(mem)
                for op in segment:
                    await apply(mem, op, clock)
                before = await mem.snapshot()
                now = mem.now()
            now += downtime
            shards = next_shards
            run_config = attrs.evolve(config, shards=shards)
            async with open_memory_engine(config=run_config, data_dir=root, start_time=now) as mem:
                after = await mem.snapshot()
                check_shards(mem)
            assert live_after(after, now) == live_after(after, -1.0)  # nothing stale loaded
            assert live_after(after, now) == live_after(before, now)

    trio.run(main, clock=clock)


@pytest.mark.parametrize("shards", [(1, 4), (4, 1), (3, 5, 2)])
def test_round_trip_across_shard_counts(tmp_path: Path, shards: tuple[int, ...]) -> None:
    """A fixed, larger population through a chain of re-shardings."""
    clock = trio.testing.MockClock()

    async def main() -> None:
        async with open_memory_engine(shards=shards[0], data_dir=tmp_path, start_time=START) as mem:
            for i in range(60):
                await mem.sessions.upsert(Session(session_id=f"s{i}", user_id=f"u{i % 7}"))
                await mem.sessions.append_run(f"s{i}", Run(run_id="r"))
                await mem.memories.upsert(
                    UserMemory(user_id=f"u{i % 7}", memory_id=f"m{i}", memory="x"), ttl=1000.0
                )
                await mem.working.store(f"c{i}", "w", ttl=10.0 + i)
                await mem.knowledge.upsert(KnowledgeDoc(doc_id=f"d{i}", name="n"))
            expected = await mem.snapshot()
        now = START
        for count in shards[1:]:
            now += 20.0  # ten working memories expire while down
            async with open_memory_engine(shards=count, data_dir=tmp_path, start_time=now) as mem:
                got = await mem.snapshot()
                check_shards(mem)
            assert live_after(got, now) == live_after(expected, now)
            assert len(got["working"]) == sum(START + 10.0 + i > now for i in range(60))

    trio.run(main, clock=clock)
