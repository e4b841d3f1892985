"""A seeded random stress test of the pure ``ShardStore``.

Thousands of mixed operations at an advancing ``now`` (which the test passes in), with
TTLs, sliding and fixed TTL policies, expiry in small batches, restores into a fresh
store, and ``_check()`` of every index along the way. A small tracker of every
record's deadline (and owner, and topics) is the reference: a record is visible iff it
exists and its deadline is after ``now`` — whether or not a sweep has removed it yet.
"""

from __future__ import annotations

import pytest

from engine import EngineConfig, InvalidArgument, KindPolicy, Session, ShardStore, UserMemory

from ._store_stress_machine import CONFIGS, OPERATIONS, START, Stress


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_operations_keep_every_invariant(seed: int, config: str) -> None:
    stress = Stress(seed, CONFIGS[config])
    stress.run(OPERATIONS)
    # The run did exercise expiry, at both ends.
    assert sum(stress.model.expired.values()) > 0 or stress.store.counts().expired > 0


def test_expire_due_in_batches_removes_earliest_first_and_cleans_indexes() -> None:
    store = ShardStore(EngineConfig())
    for i in range(100):
        store.upsert_session(START, Session(session_id=f"s{i:03}", user_id="u"), float(100 - i))
        store.upsert_memory(
            START, UserMemory(user_id="u", memory_id=f"m{i:03}", memory="tea", topics=("t",)), 50.0
        )
    store._check()
    assert store.expire_due(START + 10, 3) == 3  # s099, s098, s097 (deadlines 1, 2, 3)
    assert {f"s{i:03}" for i in (97, 98, 99)}.isdisjoint(store.sessions.records)
    assert store.expire_due(START + 10, 100) == 7
    assert store.expire_due(START + 10, 100) == 0
    store._check()
    removed = 0
    while batch := store.expire_due(START + 50, 16):
        assert batch <= 16
        removed += batch
        store._check()
    assert removed == 40 + 100
    assert not store.memories.records and not store.memories.by_topic
    assert not store.memories.keywords._postings
    assert len(store.sessions.records) == 50
    assert store.next_deadline() == START + 51
    counts = store.counts()
    assert (counts.expired_sessions, counts.expired_memories) == (50, 100)


def test_load_clamps_a_zero_ttl_and_config_rejects_one() -> None:
    # The store trusts the facades; bad TTLs never reach it (see the facade tests), but
    # a zero-length TTL from a restored record is clamped, not lost.
    store = ShardStore(EngineConfig(sessions=KindPolicy(refresh_on_read=True)))
    record = Session(
        session_id="s", created_at=START, updated_at=START + 5, expires_at=START + 5
    )  # a deadline equal to updated_at
    assert store.load(START + 4, record)
    assert store.ttl_of(record) == pytest.approx(1e-9)
    store._check()
    with pytest.raises(InvalidArgument):
        EngineConfig(sessions=KindPolicy(default_ttl=0))
