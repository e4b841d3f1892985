"""The memory budget (``EngineConfig.max_memory``) and its eviction policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    EngineConfig,
    InvalidArgument,
    MemoryLimitExceeded,
    Message,
    Overloaded,
    Run,
    Session,
    UserMemory,
    WorkingMemory,
    open_memory_engine,
)
from engine._store._eviction import RECORD_OVERHEAD, row_cost
from engine._store._store import ShardStore

NOW = 1_000.0
COST = RECORD_OVERHEAD + 2 + len("working") + 50  # of _working(store, "cN", ...)
BUDGET = 9 * COST + 100  # one shard: room for 9 such records, not 10


def _store(policy: str, budget: int = BUDGET) -> ShardStore:
    return ShardStore(EngineConfig(shards=1, max_memory=budget, eviction_policy=policy))


def _working(store: ShardStore, name: str, ttl: float | None, now: float = NOW) -> None:
    store.store_working(now, WorkingMemory(conversation_id=name, data="x" * 50), ttl)


def _names(store: ShardStore) -> set[str]:
    return {conversation for conversation, _ in store.working}


def test_config_is_validated() -> None:
    with pytest.raises(InvalidArgument, match="eviction_policy"):
        EngineConfig(eviction_policy="random")
    with pytest.raises(InvalidArgument, match="at least 4096 bytes per shard"):
        EngineConfig(shards=4, max_memory=10_000)
    with pytest.raises(TypeError, match="max_memory"):
        EngineConfig(max_memory=1.5)  # type: ignore[arg-type]
    assert EngineConfig(shards=4, max_memory=1 << 20).shard_memory == 1 << 18


def test_noeviction_refuses_writes_but_serves_reads_and_deletes() -> None:
    store = _store("noeviction")
    written = 0
    with pytest.raises(MemoryLimitExceeded, match="noeviction") as caught:
        for written in range(100):
            _working(store, f"c{written}", None)
    assert isinstance(caught.value, Overloaded)
    assert store.used_memory <= BUDGET and store.evicted == 0
    assert f"c{written}" not in _names(store)  # the refused write changed nothing
    assert store.retrieve_working(NOW, "c0", "working") is not None
    assert store.delete_working(NOW, "c0", "working")
    _working(store, "again", None)  # the delete made room
    store._check()


@pytest.mark.parametrize("policy", ["volatile-ttl", "volatile-lru", "allkeys-lru", "allkeys-lfu"])
def test_the_budget_is_never_exceeded(policy: str) -> None:
    store = _store(policy)
    for i in range(200):
        _working(store, f"c{i}", 10.0 + i)
        assert store.used_memory <= BUDGET
    assert store.evicted > 150
    assert store.counts().evicted == store.evicted
    store._check()


def test_volatile_ttl_evicts_the_soonest_deadline_first() -> None:
    store = _store("volatile-ttl")
    deadlines = [50.0, 10.0, 40.0, 20.0, 30.0, 60.0, 70.0, 80.0, 90.0]
    for i, ttl in enumerate(deadlines):
        _working(store, f"c{i}", ttl)
    _working(store, "new", 100.0)  # the 10th record: one must go
    assert "c1" not in _names(store)  # ttl 10: the soonest
    _working(store, "new2", 100.0)
    assert "c3" not in _names(store)  # ttl 20 next
    store._check()


def test_volatile_policies_never_evict_records_without_ttl() -> None:
    for policy in ("volatile-ttl", "volatile-lru"):
        store = _store(policy)
        for i in range(9):
            _working(store, f"c{i}", None)
        with pytest.raises(MemoryLimitExceeded, match="no record left to evict"):
            _working(store, "v", 5.0)
        assert _names(store) == {f"c{i}" for i in range(9)}
        store._check()


def test_lru_evicts_the_least_recently_used_and_reads_count() -> None:
    store = _store("allkeys-lru")
    for i in range(9):
        _working(store, f"c{i}", None)
    store.retrieve_working(NOW, "c0", "working")  # c0 is now the most recent
    _working(store, "new", None)
    _working(store, "new2", None)
    assert {"c1", "c2"}.isdisjoint(_names(store)) and "c0" in _names(store)
    store._check()


def test_volatile_lru_only_considers_records_with_a_ttl() -> None:
    store = _store("volatile-lru")
    _working(store, "old-forever", None)
    for i in range(8):
        _working(store, f"v{i}", 100.0)
    _working(store, "new", 100.0)
    assert "old-forever" in _names(store) and "v0" not in _names(store)
    store._check()


def test_lfu_evicts_the_least_frequently_used() -> None:
    store = _store("allkeys-lfu")
    for i in range(9):
        _working(store, f"c{i}", None)
    for i in range(9):
        for _ in range(i != 4):
            store.retrieve_working(NOW, f"c{i}", "working")
    _working(store, "new", None)
    assert "c4" not in _names(store)  # read least
    store.retrieve_working(NOW, "new", "working")
    store.retrieve_working(NOW, "new", "working")
    _working(store, "new2", None)  # ties at two accesses: the least recent goes
    assert "c0" not in _names(store)
    store._check()


def test_a_whole_session_is_evicted_and_every_index_cleaned() -> None:
    store = _store("allkeys-lru", budget=4096)
    run = Run(run_id="r", messages=(Message(role="user", content="y" * 400),))
    store.upsert_session(NOW, Session(session_id="s0", user_id="u", agent_id="a"), None)
    for i in range(4):
        store.append_run(NOW, "s0", Run(run_id=f"r{i}", messages=run.messages), None)
    store.upsert_memory(NOW, UserMemory(user_id="u", memory_id="m", memory="tea"), None)
    store.upsert_session(NOW, Session(session_id="s1", user_id="u", runs=(run,) * 1), None)
    assert "s0" not in store.sessions.records  # it went with its four runs
    assert store.sessions.runs == 1
    assert [row[3] for _, row in store.list_sessions(NOW, _user_query(), None)] == ["s1"]
    store._check()


def _user_query() -> Any:
    from engine._core._queries import SessionQuery

    return SessionQuery(user_id="u")


def test_growing_a_session_evicts_others_never_itself() -> None:
    store = _store("allkeys-lru", budget=8192)
    store.upsert_session(NOW, Session(session_id="grow"), None)
    for i in range(4):
        _working(store, f"c{i}", None)
    for i in range(15):
        run = Run(run_id=f"r{i}", messages=(Message(role="user", content="z" * 300),))
        store.append_run(NOW, "grow", run, None)
    assert not _names(store) and len(store.sessions.records["grow"][13]) == 15
    with pytest.raises(MemoryLimitExceeded, match="cannot fit"):
        for i in range(15, 40):
            run = Run(run_id=f"r{i}", messages=(Message(role="user", content="z" * 300),))
            store.append_run(NOW, "grow", run, None)
    assert store.used_memory <= 8192
    store._check()


def test_a_record_larger_than_the_budget_is_refused_without_evicting() -> None:
    store = _store("allkeys-lru")
    _working(store, "small", None)
    with pytest.raises(MemoryLimitExceeded, match="cannot fit"):
        store.store_working(NOW, WorkingMemory(conversation_id="big", data="b" * BUDGET), None)
    assert _names(store) == {"small"} and store.evicted == 0


@settings(max_examples=60, deadline=None)
@given(
    policy=st.sampled_from(["volatile-ttl", "volatile-lru", "allkeys-lru", "allkeys-lfu"]),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["write", "read", "delete", "append"]),
            st.integers(0, 15),
            st.integers(0, 300),
            st.sampled_from([None, 5.0, 50.0]),
        ),
        max_size=60,
    ),
)
def test_random_operations_keep_the_budget_and_every_index(
    policy: str, steps: list[tuple[str, int, int, float | None]]
) -> None:
    store = _store(policy, budget=4096)
    for op, i, size, ttl in steps:
        try:
            if op == "write":
                _working(store, f"c{i}", ttl)
                store.upsert_session(NOW, Session(session_id=f"s{i}", user_id="u"), ttl)
            elif op == "read":
                store.retrieve_working(NOW, f"c{i}", "working")
                store.get_session(NOW, f"s{i}", None, None)
            elif op == "delete":
                store.delete_working(NOW, f"c{i}", "working")
            elif f"s{i}" in store.sessions.records:
                msg = Message(role="user", content="m" * size)
                store.append_run(NOW, f"s{i}", Run(run_id=f"r{size}", messages=(msg,)), None)
        except MemoryLimitExceeded:
            pass
        assert store.used_memory <= 4096
    store._check()
    assert store.used_memory == sum(
        row_cost(row) for kind in range(4) for row in store._records_of(kind).values()
    )


async def test_engine_statistics_count_evictions_and_memory() -> None:
    config = EngineConfig(shards=2, max_memory=2 * BUDGET, eviction_policy="allkeys-lru")
    async with open_memory_engine(config=config) as mem:
        for i in range(100):
            await mem.working.store(f"c{i}", "x" * 50, ttl=None)
        stats = mem.statistics()
        assert stats.evicted > 50 and 0 < stats.used_memory <= 2 * BUDGET
        assert stats.evicted + stats.working == 100
        assert all(shard.store.max_memory == BUDGET for shard in stats.shards)


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "volatile-ttl"])
async def test_evictions_are_journaled_and_recovery_equals_the_state_before_close(
    tmp_path: Path, policy: str
) -> None:
    config = EngineConfig(shards=2, max_memory=2 * BUDGET, eviction_policy=policy)
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        for i in range(60):
            await mem.working.store(f"c{i}", "x" * 50, ttl=1000.0 + i)
            if i % 3 == 0:
                await mem.working.retrieve(f"c{i // 2}")
        before = await mem.snapshot()
        evicted = mem.statistics().evicted
        assert evicted > 30
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        after = await mem.snapshot()
        assert mem.statistics().evicted == 0  # replay repeated the journaled deletes
        assert mem.statistics().used_memory <= 2 * BUDGET
    assert strip_time(after) == strip_time(before)


def strip_time(snapshot: dict[str, Any]) -> list[tuple[str, float | None]]:
    return sorted((r["conversation_id"], r["expires_at"]) for r in snapshot["working"])
