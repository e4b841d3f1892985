"""The engine against a plain-dict reference model, driven by a hypothesis state machine.

Each example runs one ``trio.run`` on a worker thread with a ``MockClock`` that never
moves by itself (``rate=0``, no autojump): the test thread calls into it one operation
at a time (``trio.from_thread.run``), so every operation sees a quiescent engine and
time moves only when the ``advance`` rules jump the clock, after which
``wait_all_tasks_blocked`` lets the shards finish their expiry sweeps. The model
applies the same operations to dicts shaped like ``record.to_dict()`` and evicts by
deadline; after every step the invariants compare the whole engine (a snapshot, the
statistics, each shard's ``_check()`` and routing) with the model.

Times and TTLs are multiples of 1/4 second, so engine and model arithmetic agree
exactly at every deadline.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from engine import (
    EngineConfig,
    KindPolicy,
    MemoryEngine,
    Session,
    open_memory_engine,
    shard_of,
)

from ._machine_records import RecordRules
from ._machine_sessions import SessionRules
from ._machine_strategies import (
    AGENTS,
    ALL_CONVERSATIONS,
    ALL_DOC_IDS,
    ALL_MEMORY_IDS,
    ALL_MEMORY_TYPES,
    ALL_MEMORY_USERS,
    ALL_SESSION_IDS,
    CONVERSATIONS,
    DOC_IDS,
    MEMORY_IDS,
    MEMORY_TEXTS,
    MEMORY_TOPICS,
    MEMORY_TTLS,
    MEMORY_TYPES,
    MEMORY_USERS,
    OMIT,
    OPT_USERS,
    POLICIES,
    RUN_IDS,
    SEED_RUN_LISTS,
    SESSION_IDS,
    STATUSES,
    STEPS,
    TTLS,
)
from ._reference_model import (
    KINDS,
    START,
    WORKING_DEFAULT_TTL,
    ExpectedError,
    Model,
    T,
    TrioHost,
    _RunningEngine,
)

# --------------------------------------------------------------- the state machine


class EngineMachine(SessionRules, RecordRules, RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.host = TrioHost()
        self.running: _RunningEngine | None = None
        self.config = EngineConfig()
        self.model = Model({kind: self.config.policy(kind) for kind in KINDS})

    # plumbing -------------------------------------------------------------------

    @property
    def mem(self) -> MemoryEngine:
        assert self.running is not None
        return self.running.mem

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return self.host.call(fn, *args, **kwargs)

    def expect(
        self,
        predict: Callable[[], T],
        fn: Callable[..., Awaitable[Any]],
        *args: Any,
        **kwargs: Any,
    ) -> tuple[T, Any] | None:
        """Ask the model first; if it predicts an error the engine must raise exactly
        that (and then neither side changes). Otherwise return (prediction, result)."""
        try:
            predicted = predict()
        except ExpectedError as expected:
            with pytest.raises(expected.kind):
                self.call(fn, *args, **kwargs)
            return None
        return predicted, self.call(fn, *args, **kwargs)

    def teardown(self) -> None:
        try:
            if self.running is not None and self.host.alive:
                self.host.close_engine(self.running)
            self.running = None
        finally:
            self.host.close()

    @initialize(
        shards=st.integers(1, 5),
        sessions=POLICIES,
        memories=POLICIES,
        working=POLICIES,
        timer_batch=st.sampled_from([1, 3, 256]),
        default_config=st.integers(0, 3).map(lambda n: n == 3),
        seed_sessions=st.lists(
            st.tuples(SESSION_IDS, OPT_USERS, AGENTS, SEED_RUN_LISTS, TTLS), min_size=2, max_size=6
        ),
        seed_memories=st.lists(
            st.tuples(MEMORY_USERS, MEMORY_IDS, MEMORY_TEXTS, MEMORY_TOPICS, MEMORY_TTLS),
            min_size=2,
            max_size=12,
        ),
        seed_working=st.lists(st.tuples(CONVERSATIONS, MEMORY_TYPES, TTLS), max_size=5),
        seed_docs=st.lists(st.tuples(DOC_IDS, STATUSES, TTLS), max_size=3),
    )
    def open_engine(
        self,
        shards: int,
        sessions: KindPolicy,
        memories: KindPolicy,
        working: KindPolicy,
        timer_batch: int,
        default_config: bool,
        seed_sessions: list[tuple[Any, ...]],
        seed_memories: list[tuple[Any, ...]],
        seed_working: list[tuple[Any, ...]],
        seed_docs: list[tuple[Any, ...]],
    ) -> None:
        """Open the engine (default or drawn TTL policies) and write some records through
        the same rules, so that every example starts with a populated engine."""
        if default_config:
            config = EngineConfig(shards=shards)
        else:
            config = EngineConfig(
                shards=shards,
                timer_batch=timer_batch,
                sessions=sessions,
                memories=memories,
                working=KindPolicy(
                    default_ttl=WORKING_DEFAULT_TTL,
                    refresh_on_read=working.refresh_on_read,
                    refresh_on_update=working.refresh_on_update,
                ),
            )
        self.config = config
        self.model = Model({kind: config.policy(kind) for kind in KINDS})
        self.running = self.host.open_engine(config=config, start_time=START)
        for sid, user, agent, runs, ttl in seed_sessions:
            self.upsert_session(sid, user, agent, "agent", None, {}, runs, None, ttl)
        for user, mid, text, topics, ttl in seed_memories:
            self.upsert_memory(user, mid, text, topics, ttl)
        for conv, memory_type, ttl in seed_working:
            self.store_working(conv, memory_type, "seed", None, ttl)
        for doc_id, status, ttl in seed_docs:
            self.upsert_doc(doc_id, status, ttl)

    def resolve_ttl(self, kind: str, ttl: object) -> float | None:
        if ttl is OMIT:
            return self.config.policy(kind).default_ttl
        assert ttl is None or isinstance(ttl, int | float)
        return None if ttl is None else float(ttl)

    # time ---------------------------------------------------------------------

    @rule(seconds=STEPS)
    def advance(self, seconds: float) -> None:
        self.host.advance(seconds)
        self.model.advance(seconds)

    @precondition(lambda self: self.model.next_deadline() is not None)
    @rule(early=st.sampled_from([0.0, 0.25]))
    def advance_to_next_deadline(self, early: float) -> None:
        """Land exactly on the earliest deadline (or just before it)."""
        deadline = self.model.next_deadline()
        assert deadline is not None
        seconds = deadline - early - self.model.now
        if seconds > 0:
            self.host.advance(seconds)
            self.model.advance(seconds)

    # every key at once ------------------------------------------------------------

    @rule()
    def read_everything(self) -> None:
        """Read every possible key of every kind at one instant: visibility of absent,
        live and just-expired records, and (with refresh_on_read) many TTL restarts."""
        m = self.model
        for sid in ALL_SESSION_IDS:
            self.get_session(sid, None, None)
        for user in ALL_MEMORY_USERS:
            for mid in ALL_MEMORY_IDS:
                self.get_memory(user, mid)
        for conv in ALL_CONVERSATIONS:
            for memory_type in ALL_MEMORY_TYPES:
                self.retrieve_working(conv, memory_type)
        for doc_id in ALL_DOC_IDS:
            self.get_doc(doc_id)
        for sid in ALL_SESSION_IDS:
            self.runs(sid, 1, None)
            self.messages(sid, 2, None, None)
        for user in ALL_MEMORY_USERS:
            self.search_recent_memories(user, "last_n", 2)
        assert self.host.call_sync(self.mem.now) == m.now

    @rule(run_id=RUN_IDS)
    def update_everything(self, run_id: str) -> None:
        """Partially update every possible session and working memory at one instant
        (``NotFound`` where there is none): with refresh_on_update, TTL restarts."""
        for sid in ALL_SESSION_IDS:
            self.append_run(sid, run_id, [("user", "again")], None)
        for conv in ALL_CONVERSATIONS:
            for memory_type in ALL_MEMORY_TYPES:
                self.update_working(conv, memory_type, "touched", None, OMIT)

    # snapshot / restore -----------------------------------------------------------

    @rule(shards=st.integers(1, 6))
    def snapshot_and_restore(self, shards: int) -> None:
        """Snapshot, stop the engine, restore into a fresh engine with ``shards`` shards
        whose clock continues where the old one stopped."""
        snapshot = self.call(self.mem.snapshot)
        assert snapshot == self.model.snapshot()
        snapshot = json.loads(json.dumps(snapshot))
        assert self.running is not None
        self.host.close_engine(self.running)
        self.running = None
        if shards == self.config.shards:  # always a different shard count
            shards = shards % 6 + 1
        self.config = attrs.evolve(self.config, shards=shards)
        self.running = self.host.open_engine(
            config=self.config, snapshot=snapshot, start_time=self.model.now
        )
        self.model.restored()

    @precondition(lambda self: sum(map(len, self.model.tables.values())) >= 10)
    @rule()
    def drop(self) -> None:
        dropped = self.call(self.mem.drop)
        assert dropped == sum(len(table) for table in self.model.tables.values())
        for table in self.model.tables.values():
            table.clear()
        self.model.ttls.clear()

    # invariants -------------------------------------------------------------------

    @invariant()
    def engine_matches_model(self) -> None:
        if self.running is None:
            return
        m = self.model
        mem = self.mem
        assert self.host.call_sync(mem.now) == m.now
        # Statistics: live counts, expiries (all by the sweep here), the expiry index.
        stats = self.host.call_sync(mem.statistics)
        assert stats.sessions == len(m.sessions)
        assert stats.runs == sum(len(s["runs"]) for s in m.sessions.values())
        assert stats.memories == len(m.memories)
        assert stats.working == len(m.working)
        assert stats.knowledge == len(m.knowledge)
        assert [
            sum(getattr(shard.store, f"expired_{kind}") for shard in stats.shards)
            for kind in ("sessions", "memories", "working", "knowledge")
        ] == [m.expired[kind] for kind in KINDS]
        assert sum(shard.timers_fired for shard in stats.shards) == stats.expired
        with_deadline = sum(
            record["expires_at"] is not None
            for table in m.tables.values()
            for record in table.values()
        )
        assert sum(shard.store.expiry_entries for shard in stats.shards) == with_deadline
        next_deadlines = [s.store.next_deadline for s in stats.shards if s.store.next_deadline]
        assert min(next_deadlines, default=None) == m.next_deadline()
        # Every store's invariants, and every record in the shard its key routes to.
        self.host.call_sync(self._check_stores)
        # Every record, field by field (the snapshot reads without refreshing TTLs).
        assert self.call(mem.snapshot) == m.snapshot()

    def _check_stores(self) -> None:
        stores = self.mem._stores
        assert len(stores) == self.config.shards
        for index, store in enumerate(stores):
            store._check()
            routed = [
                *store.sessions.records,
                *(user for user, _ in store.memories.records),
                *(conv for conv, _ in store.working),
                *store.knowledge.records,
            ]
            assert all(shard_of(key, len(stores)) == index for key in routed)


def test_engine_agrees_with_reference_model() -> None:
    run_state_machine_as_test(
        EngineMachine,
        settings=settings(
            max_examples=100,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# ------------------------------------ regressions (bugs this file found, since fixed)


def test_restore_keeps_the_ttl_a_sliding_record_was_written_with() -> None:
    config = EngineConfig(sessions=KindPolicy(refresh_on_read=True))

    async def scenario() -> float | None:
        async with open_memory_engine(config=config, start_time=START) as mem:
            await mem.sessions.upsert(Session(session_id="s"), ttl=10)
            await trio.sleep(5)
            read = await mem.sessions.get("s")  # slides the deadline to START + 15
            snapshot = await mem.snapshot()
        async with open_memory_engine(
            config=config, snapshot=snapshot, start_time=START + 5
        ) as mem:
            await trio.sleep(1)
            again = await mem.sessions.get("s")  # slides it again, by the TTL: 10 s
        assert read is not None and read.expires_at == START + 15
        return None if again is None else again.expires_at

    expires = trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))
    # Before snapshots carried TTLs: START + 21 (the TTL re-derived as 15 s).
    assert expires == START + 16


def test_an_error_in_the_engine_block_reaches_the_caller_as_itself() -> None:
    # Before the fix: ExceptionGroup(ExceptionGroup(KeyError)) from _serve's two
    # nested nurseries. A plain trio.run, so nothing else wraps it on the way.
    async def scenario() -> None:
        with pytest.raises(KeyError, match="boom"):
            async with open_memory_engine(shards=2, start_time=START):
                raise KeyError("boom")

    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))
