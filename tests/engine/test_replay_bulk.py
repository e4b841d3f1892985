"""Bulk replay (``engine._durable._replay.Replay``) gives exactly the state that
replaying the same journal one entry at a time gives, and the state that was written.

Hypothesis draws a randomized journal: writes of every kind on a few keys (fresh and
repeated, with and without TTLs, some failing for ownership), deletes, clock jumps
past deadlines, under a memory budget with an eviction policy. The journal is made
the way a durable shard makes it (``DurableShard._apply``): whole-record writes as
the row they stored, other writes as logical entries, evictions as deletes before
the write. It is then replayed into fresh stores entry by entry and with
:class:`Replay`, and the stores are compared field by field: rows, deadlines, TTLs,
accounting, expiry counters, the eviction order.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import EngineConfig, KnowledgeDoc, Message, Run, Session, UserMemory, WorkingMemory
from engine._core._errors import EngineError
from engine._core._ops import (
    APPEND_RUN,
    DELETE_DOC,
    DELETE_MEMORY,
    DELETE_SESSION,
    DELETE_WORKING,
    RENAME_SESSION,
    STORE_WORKING,
    UPDATE_WORKING,
    UPSERT_DOC,
    UPSERT_MEMORY,
    UPSERT_SESSION,
    Op,
)
from engine._durable._format import decode_entry, encode_entry
from engine._durable._replay import Replay
from engine._durable._row_entries import ROW_WRITES, RowWrite, encode_row_entry
from engine._embedded._durable_shard import _EVICTION_ENTRIES
from engine._store._base import ACCOUNTED
from engine._store._dispatch import STORE_METHODS
from engine._store._store import ROW_KEYS, ShardStore

START = 1_000_000.0
TTL = st.one_of(st.none(), st.sampled_from([1.0, 5.0, 50.0]))
SID = st.sampled_from(["s0", "s1", "s2", "s3", "s4"])
USER = st.sampled_from(["u0", "u1"])
WORDS = st.sampled_from(["tea", "green tea", "rome trip", "vegan"])


def _session(sid: str, user: str, runs: int) -> Session:
    return Session(
        session_id=sid,
        user_id=user,
        agent_id="a" if runs % 2 else None,
        state={"n": runs},
        runs=tuple(
            Run(run_id=f"r{i}", messages=(Message(role="user", content=f"m{i}"),))
            for i in range(runs)
        ),
    )


STEPS = st.one_of(
    st.tuples(st.just(UPSERT_SESSION), SID, USER, st.integers(0, 2), TTL).map(
        lambda t: (t[0], (_session(t[1], t[2], t[3]), t[4]))
    ),
    st.tuples(st.just(APPEND_RUN), SID, st.sampled_from(["r0", "r9"]), st.none() | USER).map(
        lambda t: (t[0], (t[1], Run(run_id=t[2], messages=()), t[3]))
    ),
    st.tuples(st.just(RENAME_SESSION), SID, st.none() | USER).map(
        lambda t: (t[0], (t[1], "renamed", t[2]))
    ),
    st.tuples(st.just(DELETE_SESSION), SID, st.none() | USER).map(lambda t: (t[0], t[1:])),
    st.tuples(st.just(UPSERT_MEMORY), USER, st.sampled_from(["m0", "m1", "m2"]), WORDS, TTL).map(
        lambda t: (
            t[0],
            (UserMemory(user_id=t[1], memory_id=t[2], memory=t[3], topics=(t[3][:3],)), t[4]),
        )
    ),
    st.tuples(st.just(DELETE_MEMORY), USER, st.sampled_from(["m0", "m1"])).map(
        lambda t: (t[0], t[1:])
    ),
    st.tuples(st.just(STORE_WORKING), st.sampled_from(["c0", "c1", "c2"]), WORDS, TTL).map(
        lambda t: (t[0], (WorkingMemory(conversation_id=t[1], data=t[2], metadata={"k": 1}), t[3]))
    ),
    st.tuples(st.just(UPDATE_WORKING), st.sampled_from(["c0", "c1"]), WORDS).map(
        lambda t: (t[0], (t[1], "working", t[2], None, 5.0))
    ),
    st.tuples(st.just(DELETE_WORKING), st.sampled_from(["c0", "c1"])).map(
        lambda t: (t[0], (t[1], "working"))
    ),
    st.tuples(st.just(UPSERT_DOC), st.sampled_from(["d0", "d1", "d2"]), WORDS, TTL).map(
        lambda t: (t[0], (KnowledgeDoc(doc_id=t[1], name=t[2], metadata={"w": t[2]}), t[3]))
    ),
    st.tuples(st.just(DELETE_DOC), st.sampled_from(["d0", "d1"])).map(lambda t: (t[0], t[1:])),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 2.0, 10.0])),
)


def _journal(config: EngineConfig, steps: list[Any]) -> tuple[ShardStore, list[bytes], float]:
    """Serve ``steps`` on a store and journal them as a durable shard does."""
    store = ShardStore(config)
    store.eviction_log = []
    entries: list[bytes] = []
    now = START

    def log(op: Op, args: tuple[Any, ...]) -> None:
        entries.append(encode_entry(len(entries) + 1, now, op.name, args))

    for step in steps:
        if step[0] == "advance":
            now += step[1]
            continue
        op, args = step
        try:
            STORE_METHODS[op](store, now, *args)
            failed = False
        except EngineError:  # ownership, not found, over budget: not journaled
            failed = True
        for kind, key in store.eviction_log:
            delete, delete_args = _EVICTION_ENTRIES[kind](key)
            log(delete, delete_args)
        store.eviction_log.clear()
        if failed:
            continue
        writes = ROW_WRITES.get(op)
        if writes is None:
            log(op, args)
        else:
            kind, key_of = writes
            row, ttl = store.stored_row(kind, key_of(args))
            entries.append(encode_row_entry(len(entries) + 1, now, op.name, kind, row, ttl))
    return store, entries, now


def _replayed(
    config: EngineConfig, entries: list[bytes], bulk: bool, snapshot: Any = None
) -> ShardStore:
    """Replay ``entries`` into a new store, after loading ``snapshot`` (``(taken_at,
    StoreRows)``) if given: one entry at a time (and the snapshot with ``load_kinds``),
    or with :class:`Replay` (the snapshot seeded into it)."""
    store = ShardStore(config)
    store.enforce_budget = False
    replay = Replay(store)
    if snapshot is not None:
        taken_at, rows = snapshot
        if bulk:
            replay.seed(taken_at, rows.rows, rows.ttls)
        else:
            store.load_kinds(taken_at, rows.rows, rows.ttls)
    for payload in entries:
        _, now, name, args = decode_entry(payload)
        op = next(op for op in STORE_METHODS if op.name == name)
        if bulk:
            replay.apply(now, op, args)
        elif args and type(args[0]) is RowWrite:
            write = args[0]
            store.put_row(now, write.kind, ROW_KEYS[write.kind](write.row), write.row, write.ttl)
        else:
            STORE_METHODS[op](store, now, *args)
    replay.flush()
    store.enforce_budget = True
    return store


def _state(store: ShardStore) -> dict[str, Any]:
    eviction = store._eviction
    return {
        "rows": {kind: dict(store._records_of(kind)) for kind in ACCOUNTED},
        "order": {kind: list(store._records_of(kind)) for kind in ACCOUNTED},
        "deadlines": dict(store.expiry._deadlines),
        "ttls": dict(store._ttls),
        "counts": store.counts(),
        "lru": list(eviction._lru),
        "lfu": dict(eviction._counts),
        "runs": store.sessions.runs,
    }


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    steps=st.lists(STEPS, min_size=10, max_size=60),
    policy=st.sampled_from(["allkeys-lru", "volatile-ttl", "allkeys-lfu", "volatile-lru"]),
    budget=st.sampled_from([None, 4096 * 2]),
)
def test_bulk_replay_equals_sequential_replay(
    steps: list[Any], policy: str, budget: int | None
) -> None:
    config = EngineConfig(shards=2, max_memory=budget, eviction_policy=policy)
    written, entries, now = _journal(config, steps)
    sequential = _replayed(config, entries, bulk=False)
    bulk = _replayed(config, entries, bulk=True)
    sequential._check()
    bulk._check()
    assert _state(bulk) == _state(sequential)
    # ... and the journal holds what was written (eviction order aside: a live read
    # is not journaled, so only the rows, deadlines, TTLs and accounting)
    for store in (written, bulk):
        store.expire_due(now)
    assert bulk.export_rows(now) == written.export_rows(now)
    assert bulk.used_memory == written.used_memory
    assert dict(bulk._ttls) == dict(written._ttls)
    assert dict(bulk.expiry._deadlines) == dict(written.expiry._deadlines)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    steps=st.lists(STEPS, min_size=10, max_size=60),
    cut=st.integers(0, 60),
    policy=st.sampled_from(["allkeys-lru", "allkeys-lfu", "volatile-ttl"]),
)
def test_a_seeded_snapshot_and_the_journal_after_it_load_as_sequentially(
    steps: list[Any], cut: int, policy: str
) -> None:
    """A snapshot taken after ``cut`` entries, then the rest of the journal: seeding
    :class:`Replay` with the snapshot's rows gives the store that loading the snapshot
    (``load_kinds``) and replaying the rest one entry at a time gives."""
    config = EngineConfig(shards=2, max_memory=4096 * 2, eviction_policy=policy)
    _, entries, _ = _journal(config, steps)
    cut = min(cut, len(entries))
    taken_at = decode_entry(entries[cut - 1])[1] if cut else START
    rows = _replayed(config, entries[:cut], bulk=False).export_rows(taken_at)
    sequential = _replayed(config, entries[cut:], bulk=False, snapshot=(taken_at, rows))
    bulk = _replayed(config, entries[cut:], bulk=True, snapshot=(taken_at, rows))
    bulk._check()
    assert _state(bulk) == _state(sequential)


def test_a_run_of_fresh_rows_is_loaded_in_one_bulk_load(monkeypatch: Any) -> None:
    """Consecutive row entries of new keys reach the store as one ``load_rows``; a
    logical entry, or a row for a key already held, flushes the run first."""
    config = EngineConfig()
    steps: list[Any] = [
        (UPSERT_DOC, (KnowledgeDoc(doc_id=f"d{i}", name="x"), None)) for i in range(5)
    ]
    steps += [(UPSERT_DOC, (KnowledgeDoc(doc_id="d0", name="again"), None))]
    steps += [(UPSERT_DOC, (KnowledgeDoc(doc_id=f"e{i}", name="x"), 5.0)) for i in range(3)]
    steps += [(DELETE_DOC, ("e0",))]
    _, entries, _ = _journal(config, steps)
    loads: list[int] = []
    original = ShardStore.load_rows

    def counting(self: ShardStore, now: float, items: list[Any]) -> int:
        assert now == -math.inf  # nothing skipped: a sequential replay skips nothing
        loads.append(len(items))
        return original(self, now, items)

    monkeypatch.setattr(ShardStore, "load_rows", counting)
    store = _replayed(config, entries, bulk=True)
    assert loads == [5, 3]
    assert sorted(store.knowledge.records) == ["d0", "d1", "d2", "d3", "d4", "e1", "e2"]
    assert store.knowledge.records["d0"][4] == "again"


def test_seed_drops_rows_expired_at_the_snapshot_and_refuses_a_record_twice() -> None:
    config = EngineConfig()
    steps: list[Any] = [
        (UPSERT_DOC, (KnowledgeDoc(doc_id=f"d{i}", name="x"), 5.0 if i % 2 else None))
        for i in range(4)
    ]
    steps += [(UPSERT_MEMORY, (UserMemory(user_id="u", memory_id="m", memory="tea"), 5.0))]
    written, _, _ = _journal(config, steps)
    rows = written.export_rows(START)
    store = ShardStore(config)
    replay = Replay(store)
    replay.seed(START + 5.0, rows.rows, rows.ttls)  # the TTL'd ones expired then
    replay.flush()
    assert sorted(store.knowledge.records) == ["d0", "d2"] and not store.memories.records
    store._check()
    doubled = [list(kind_rows) for kind_rows in rows.rows]
    doubled[3].append(doubled[3][0])
    with pytest.raises(ValueError, match=r"record \(3, 'd0'\) is already stored"):
        Replay(ShardStore(config)).seed(START, doubled, [[None] * len(k) for k in doubled])
    with pytest.raises(ValueError, match="1 TTLs for 4 rows of kind 3"):
        Replay(ShardStore(config)).seed(START, rows.rows, [[], [None], [], [None]])
