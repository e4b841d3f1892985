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

import itertools
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
    KnowledgeDoc,
    MemoryEngine,
    Message,
    NotFound,
    OwnershipError,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    open_memory_engine,
    shard_of,
)

from ._reference_model import (
    KINDS,
    START,
    WORKING_DEFAULT_TTL,
    ExpectedError,
    Model,
    Record,
    T,
    TrioHost,
    _RunningEngine,
    bm25_scores,
    doc_terms,
    words,
)

# ------------------------------------------------------------------ strategies

ALL_SESSION_IDS = ["s0", "s1", "s2", "s3", "s4", "s5"]
SESSION_IDS = st.sampled_from(ALL_SESSION_IDS)
USERS = st.sampled_from(["alice", "bob", "carol"])
ALL_MEMORY_USERS = ["alice", "bob"]  # fewer, so each has a corpus to search
MEMORY_USERS = st.sampled_from(ALL_MEMORY_USERS)
OPT_USERS = st.one_of(st.none(), USERS)
AGENTS = st.sampled_from([None, "helper", "planner"])
NAMES = st.sampled_from([None, "alpha", "Beta chat", ""])
ROLES = ("system", "user", "assistant", "tool")
MESSAGES = st.lists(
    st.tuples(st.sampled_from(ROLES), st.sampled_from(["hi", "hello there", "ok", "bye"])),
    max_size=3,
)
RUN_IDS = st.sampled_from(["r0", "r1", "r2", "r3"])
RUN_LISTS = st.lists(st.tuples(RUN_IDS, MESSAGES), max_size=3, unique_by=lambda r: r[0])
SEED_RUN_LISTS = st.lists(
    st.tuples(RUN_IDS, MESSAGES), min_size=1, max_size=3, unique_by=lambda r: r[0]
)
LIMITS = st.one_of(st.none(), st.integers(0, 4))


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()  # "don't pass ttl=": the kind's configured default
TTLS = st.sampled_from([OMIT, None, 0.25, 1, 2.5, 5, 10, 30])
STEPS = st.sampled_from([0.25, 0.5, 1, 1, 2, 2.5, 5, 10, 30, 43_200])
STATES = st.sampled_from([{}, {"step": 1}, {"step": 2, "tags": ["a", "b"], "nested": {"x": None}}])
VOCABULARY = ["alice", "likes", "green", "tea", "lives", "in", "paris", "dog", "coffee", "name"]
TOPICS = ["food", "name", "travel", "pets", "work tasks"]
MEMORY_TTLS = st.sampled_from([OMIT, None, OMIT, None, 1, 5, 30])
ALL_MEMORY_IDS = ["m0", "m1", "m2", "m3", "m4"]
MEMORY_IDS = st.sampled_from(ALL_MEMORY_IDS)
MEMORY_TEXTS = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5).map(" ".join)
MEMORY_TOPICS = st.lists(st.sampled_from(TOPICS), max_size=3)
QUERY_EXTRAS = [*VOCABULARY, "food", "work", "zebra", "the", "IN"]
ALL_CONVERSATIONS = ["c0", "c1", "c2", "c3"]
CONVERSATIONS = st.sampled_from(ALL_CONVERSATIONS)
ALL_MEMORY_TYPES = ["working", "scratch"]
MEMORY_TYPES = st.sampled_from(ALL_MEMORY_TYPES)
ALL_DOC_IDS = ["d0", "d1", "d2"]
DOC_IDS = st.sampled_from(ALL_DOC_IDS)
STATUSES = st.sampled_from(["ready", "pending"])
ORDER = st.sampled_from(["updated_at", "created_at"])
POLICIES = st.builds(KindPolicy, refresh_on_read=st.booleans(), refresh_on_update=st.booleans())


def ttl_kwargs(ttl: object) -> dict[str, Any]:
    return {} if ttl is OMIT else {"ttl": ttl}


def paginate(items: list[Any], limit: int | None, offset: int) -> list[Any]:
    return items[offset:] if limit is None else items[offset : offset + limit]


# --------------------------------------------------------------- the state machine


class EngineMachine(RuleBasedStateMachine):
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

    # sessions -----------------------------------------------------------------

    @rule(
        sid=SESSION_IDS,
        user=OPT_USERS,
        agent=AGENTS,
        session_type=st.sampled_from(["agent", "team"]),
        name=NAMES,
        state=STATES,
        runs=RUN_LISTS,
        summary=st.one_of(st.none(), st.tuples(st.sampled_from(["sum a", "sum b"]), MEMORY_TOPICS)),
        ttl=TTLS,
    )
    def upsert_session(
        self,
        sid: str,
        user: str | None,
        agent: str | None,
        session_type: str,
        name: str | None,
        state: dict[str, Any],
        runs: list[tuple[str, list[tuple[str, str]]]],
        summary: tuple[str, list[str]] | None,
        ttl: object,
    ) -> None:
        m = self.model
        session = Session(
            session_id=sid,
            user_id=user,
            agent_id=agent,
            session_type=session_type,
            name=name,
            state=state,
            runs=tuple(
                Run(run_id=rid, messages=tuple(Message(role=r, content=c) for r, c in msgs))
                for rid, msgs in runs
            ),
            summary=None
            if summary is None
            else SessionSummary(summary=summary[0], topics=summary[1]),
        )

        def predict() -> Record:
            old = m.sessions.get(sid)
            if old is not None and old["user_id"] is not None and user != old["user_id"]:
                raise ExpectedError(OwnershipError)
            return {
                "session_id": sid,
                "user_id": user,
                "session_type": session_type,
                "agent_id": agent,
                "team_id": None,
                "workflow_id": None,
                "name": name,
                "state": json.loads(json.dumps(state)),
                "metadata": {},
                "runs": [m.run_record(rid, msgs) for rid, msgs in runs],
                "summary": None
                if summary is None
                else {"summary": summary[0], "topics": list(summary[1]), "updated_at": m.now},
                "created_at": m.now if old is None else old["created_at"],
                "updated_at": m.now,
                "expires_at": None,
            }

        outcome = self.expect(predict, self.mem.sessions.upsert, session, **ttl_kwargs(ttl))
        if outcome is None:
            return
        expected, stored = outcome
        expected["expires_at"] = m.written_deadline(
            "sessions", sid, self.resolve_ttl("sessions", ttl)
        )
        m.sessions[sid] = expected
        assert stored.to_dict() == expected

    @rule(sid=SESSION_IDS, user=OPT_USERS, runs_limit=LIMITS)
    def get_session(self, sid: str, user: str | None, runs_limit: int | None) -> None:
        got = self.call(self.mem.sessions.get, sid, user_id=user, runs_limit=runs_limit)
        session = self.model.visible_session(sid, user)
        if session is None:
            assert got is None
            return
        self.model.touch("sessions", sid)
        expected = dict(session)
        if runs_limit is not None and runs_limit < len(session["runs"]):
            expected["runs"] = session["runs"][len(session["runs"]) - runs_limit :]
        assert got is not None and got.to_dict() == expected

    @rule(sid=SESSION_IDS, run_id=RUN_IDS, messages=MESSAGES, user=OPT_USERS)
    def append_run(
        self, sid: str, run_id: str, messages: list[tuple[str, str]], user: str | None
    ) -> None:
        m = self.model
        run = Run(run_id=run_id, messages=tuple(Message(role=r, content=c) for r, c in messages))

        def predict() -> Record:
            m.session_for(sid, user)
            return m.run_record(run_id, messages)

        outcome = self.expect(predict, self.mem.sessions.append_run, sid, run, user_id=user)
        if outcome is None:
            return
        expected, stored = outcome
        assert stored.to_dict() == expected
        session = m.sessions[sid]
        runs = list(session["runs"])
        ids = [r["run_id"] for r in runs]
        if run_id in ids:
            runs[ids.index(run_id)] = expected
        else:
            runs.append(expected)
        m.update_session(session, runs=runs)

    @rule(sid=SESSION_IDS, last_n=LIMITS, user=OPT_USERS)
    def runs(self, sid: str, last_n: int | None, user: str | None) -> None:
        m = self.model

        def predict() -> list[Record]:
            runs: list[Record] = m.session_for(sid, user)["runs"]
            if last_n is not None and last_n < len(runs):
                return runs[len(runs) - last_n :]
            return runs

        outcome = self.expect(predict, self.mem.sessions.runs, sid, last_n=last_n, user_id=user)
        if outcome is not None:
            expected, got = outcome
            assert isinstance(got, tuple)
            assert [r.to_dict() for r in got] == expected
            m.touch("sessions", sid)

    @rule(
        sid=SESSION_IDS,
        last_n_runs=LIMITS,
        roles=st.one_of(st.none(), st.lists(st.sampled_from(ROLES), max_size=2)),
        user=OPT_USERS,
    )
    def messages(
        self, sid: str, last_n_runs: int | None, roles: list[str] | None, user: str | None
    ) -> None:
        m = self.model

        def predict() -> list[Record]:
            runs: list[Record] = m.session_for(sid, user)["runs"]
            if last_n_runs is not None and last_n_runs < len(runs):
                runs = runs[len(runs) - last_n_runs :]
            return [
                message
                for run in runs
                for message in run["messages"]
                if roles is None or message["role"] in roles
            ]

        outcome = self.expect(
            predict,
            self.mem.sessions.messages,
            sid,
            last_n_runs=last_n_runs,
            roles=roles,
            user_id=user,
        )
        if outcome is not None:
            expected, got = outcome
            assert [message.to_dict() for message in got] == expected
            m.touch("sessions", sid)

    @rule(sid=SESSION_IDS, name=st.sampled_from(["renamed", "Beta two", ""]), user=OPT_USERS)
    def rename(self, sid: str, name: str, user: str | None) -> None:
        m = self.model
        outcome = self.expect(
            lambda: m.session_for(sid, user), self.mem.sessions.rename, sid, name, user_id=user
        )
        if outcome is not None:
            session, got = outcome
            m.update_session(session, name=name)
            assert got.to_dict() == session

    @rule(sid=SESSION_IDS, user=OPT_USERS)
    def delete_session(self, sid: str, user: str | None) -> None:
        deleted = self.call(self.mem.sessions.delete, sid, user_id=user)
        visible = self.model.visible_session(sid, user) is not None
        assert deleted is visible
        if visible:
            self.model.remove("sessions", sid)

    @rule(sids=st.lists(SESSION_IDS, max_size=5), user=OPT_USERS)
    def delete_many(self, sids: list[str], user: str | None) -> None:
        deleted = self.call(self.mem.sessions.delete_many, sids, user_id=user)
        visible = [sid for sid in dict.fromkeys(sids) if self.model.visible_session(sid, user)]
        assert deleted == len(visible)
        for sid in visible:
            self.model.remove("sessions", sid)

    @rule(
        sid=SESSION_IDS,
        text=st.sampled_from(["they talked", "plans"]),
        topics=MEMORY_TOPICS,
        as_record=st.booleans(),
        user=OPT_USERS,
    )
    def set_summary(
        self, sid: str, text: str, topics: list[str], as_record: bool, user: str | None
    ) -> None:
        m = self.model
        if as_record:
            args: tuple[Any, ...] = (SessionSummary(summary=text, topics=topics),)
            kwargs: dict[str, Any] = {"user_id": user}
        else:
            args, kwargs = (text,), {"topics": topics, "user_id": user}

        def predict() -> Record:
            m.session_for(sid, user)
            return {"summary": text, "topics": list(topics), "updated_at": m.now}

        outcome = self.expect(predict, self.mem.sessions.set_summary, sid, *args, **kwargs)
        if outcome is not None:
            expected, got = outcome
            assert got.to_dict() == expected
            m.update_session(m.sessions[sid], summary=expected)

    @rule(sid=SESSION_IDS, user=OPT_USERS)
    def get_summary(self, sid: str, user: str | None) -> None:
        m = self.model
        outcome = self.expect(
            lambda: m.session_for(sid, user)["summary"],
            self.mem.sessions.get_summary,
            sid,
            user_id=user,
        )
        if outcome is not None:
            expected, got = outcome
            assert (None if got is None else got.to_dict()) == expected
            m.touch("sessions", sid)

    @rule(
        user=OPT_USERS,
        agent=AGENTS,
        session_type=st.sampled_from([None, "agent", "team"]),
        name_contains=st.sampled_from([None, "a", "BETA", "zzz"]),
        created_after=st.sampled_from([None, 0, 1, 5, 30]),
        created_before=st.sampled_from([None, 0, 1, 5, 30]),
        order_by=ORDER,
        descending=st.booleans(),
        limit=LIMITS,
        offset=st.integers(0, 3),
    )
    def list_sessions(
        self,
        user: str | None,
        agent: str | None,
        session_type: str | None,
        name_contains: str | None,
        created_after: float | None,
        created_before: float | None,
        order_by: str,
        descending: bool,
        limit: int | None,
        offset: int,
    ) -> None:
        """``created_after``/``created_before`` are given as seconds before now."""
        now = self.model.now
        after = None if created_after is None else now - created_after
        before = None if created_before is None else now - created_before
        got = self.call(
            self.mem.sessions.list,
            user_id=user,
            agent_id=agent,
            session_type=session_type,
            name_contains=name_contains,
            created_after=after,
            created_before=before,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        matching = [
            s
            for s in self.model.sessions.values()
            if (user is None or s["user_id"] == user)
            and (agent is None or s["agent_id"] == agent)
            and (session_type is None or s["session_type"] == session_type)
            and (
                name_contains is None
                or (s["name"] is not None and name_contains.casefold() in s["name"].casefold())
            )
            and (after is None or s["created_at"] >= after)
            and (before is None or s["created_at"] < before)
        ]
        matching.sort(key=lambda s: (s[order_by], s["session_id"]), reverse=descending)
        assert [s.to_dict() for s in got] == paginate(matching, limit, offset)

    @rule(user=OPT_USERS, limit=st.integers(0, 7))
    def recent_sessions(self, user: str | None, limit: int) -> None:
        got = self.call(self.mem.sessions.recent, user_id=user, limit=limit)
        matching = [s for s in self.model.sessions.values() if user is None or s["user_id"] == user]
        matching.sort(key=lambda s: (s["updated_at"], s["session_id"]), reverse=True)
        assert [s.to_dict() for s in got] == matching[:limit]

    # user memories --------------------------------------------------------------

    @rule(
        user=MEMORY_USERS, mid=MEMORY_IDS, text=MEMORY_TEXTS, topics=MEMORY_TOPICS, ttl=MEMORY_TTLS
    )
    def upsert_memory(self, user: str, mid: str, text: str, topics: list[str], ttl: object) -> None:
        m = self.model
        old = m.memories.get((user, mid))
        stored = self.call(
            self.mem.memories.upsert,
            UserMemory(user_id=user, memory_id=mid, memory=text, topics=topics, agent_id="helper"),
            **ttl_kwargs(ttl),
        )
        expected = {
            "user_id": user,
            "memory": text,
            "memory_id": mid,
            "topics": list(topics),
            "input": None,
            "agent_id": "helper",
            "team_id": None,
            "created_at": m.now if old is None else old["created_at"],
            "updated_at": m.now,
            "expires_at": m.written_deadline(
                "memories", (user, mid), self.resolve_ttl("memories", ttl)
            ),
        }
        m.memories[(user, mid)] = expected
        assert stored.to_dict() == expected

    @rule(user=MEMORY_USERS, mid=MEMORY_IDS)
    def get_memory(self, user: str, mid: str) -> None:
        got = self.call(self.mem.memories.get, mid, user_id=user)
        if (user, mid) not in self.model.memories:
            assert got is None
            return
        self.model.touch("memories", (user, mid))
        assert got is not None and got.to_dict() == self.model.memories[(user, mid)]

    @rule(user=MEMORY_USERS, mid=MEMORY_IDS)
    def delete_memory(self, user: str, mid: str) -> None:
        deleted = self.call(self.mem.memories.delete, mid, user_id=user)
        assert deleted is ((user, mid) in self.model.memories)
        if deleted:
            self.model.remove("memories", (user, mid))

    @rule(user=MEMORY_USERS)
    def clear_memories(self, user: str) -> None:
        deleted = self.call(self.mem.memories.clear, user)
        keys = [key for key in self.model.memories if key[0] == user]
        assert deleted == len(keys)
        for key in keys:
            self.model.remove("memories", key)

    @rule(
        user=OPT_USERS,
        topics=st.one_of(st.none(), st.lists(st.sampled_from([*TOPICS, "nope"]), max_size=2)),
        text=st.sampled_from([None, "TEA", "a", "zebra"]),
        order_by=ORDER,
        descending=st.booleans(),
        limit=LIMITS,
        offset=st.integers(0, 3),
    )
    def list_memories(
        self,
        user: str | None,
        topics: list[str] | None,
        text: str | None,
        order_by: str,
        descending: bool,
        limit: int | None,
        offset: int,
    ) -> None:
        got = self.call(
            self.mem.memories.list,
            user_id=user,
            topics=topics,
            text=text,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        matching = [
            memory
            for (owner, _), memory in self.model.memories.items()
            if (user is None or owner == user)
            and (topics is None or set(topics) & set(memory["topics"]))
            and (text is None or text.casefold() in memory["memory"].casefold())
        ]
        matching.sort(key=lambda r: (r[order_by], r["user_id"], r["memory_id"]), reverse=descending)
        assert [memory.to_dict() for memory in got] == paginate(matching, limit, offset)

    @rule(user=OPT_USERS)
    def memory_topics(self, user: str | None) -> None:
        got = self.call(self.mem.memories.topics, user_id=user)
        expected = sorted(
            {
                topic
                for (owner, _), memory in self.model.memories.items()
                if user is None or owner == user
                for topic in memory["topics"]
            }
        )
        assert got == expected

    @rule(user=MEMORY_USERS, method=st.sampled_from(["last_n", "first_n"]), limit=st.integers(0, 6))
    def search_recent_memories(self, user: str, method: str, limit: int) -> None:
        got = self.call(self.mem.memories.search, user, method=method, limit=limit)
        mine = sorted(
            (r for (owner, _), r in self.model.memories.items() if owner == user),
            key=lambda r: (r["updated_at"], r["memory_id"]),
        )
        expected = mine[max(0, len(mine) - limit) :] if method == "last_n" else mine[:limit]
        for memory in expected:  # results are returned as refreshed (refresh_on_read)
            self.model.touch("memories", (user, memory["memory_id"]))
        assert [memory.to_dict() for memory in got] == expected

    @rule(user=MEMORY_USERS, limit=st.integers(0, 6), data=st.data())
    def search_keyword(self, user: str, limit: int, data: st.DataObject) -> None:
        """Sound checks only: the right set size, only matching memories, best first by
        a reference BM25 (within float noise), nothing better left out.

        The query mixes words of the user's memories with others (stop words, unknown
        words), so most queries match something."""
        mine = {mid: r for (owner, mid), r in self.model.memories.items() if owner == user}
        known = sorted({word for r in mine.values() for word in doc_terms(r)})
        pool = st.sampled_from(known) if known else st.nothing()
        query = " ".join(
            data.draw(
                st.lists(st.one_of(pool, st.sampled_from(QUERY_EXTRAS)), max_size=4),
                label="query words",
            )
        )
        got = self.call(self.mem.memories.search, user, query, limit=limit)
        scores = bm25_scores(mine, query)
        query_words = set(words(query))
        matching = {mid for mid, r in mine.items() if query_words & set(doc_terms(r))}
        assert set(scores) == matching
        ids = [memory.memory_id for memory in got]
        assert len(ids) == len(set(ids)) == min(limit, len(matching))
        assert set(ids) <= matching
        for mid in ids:  # results are returned as refreshed (refresh_on_read)
            self.model.touch("memories", (user, mid))
            assert got[ids.index(mid)].to_dict() == mine[mid]
        eps = 1e-9
        got_scores = [scores[mid] for mid in ids]
        assert all(a >= b - eps for a, b in itertools.pairwise(got_scores))
        left_out = [scores[mid] for mid in matching - set(ids)]
        if got_scores and left_out:
            assert min(got_scores) >= max(left_out) - eps

    # working memory ---------------------------------------------------------------

    @rule(
        conv=CONVERSATIONS,
        memory_type=MEMORY_TYPES,
        data=st.sampled_from(["draft", "plan: a, b", ""]),
        metadata=st.sampled_from([None, {"k": 1}, {"tags": ["x"]}]),
        ttl=TTLS,
    )
    def store_working(
        self,
        conv: str,
        memory_type: str,
        data: str,
        metadata: dict[str, Any] | None,
        ttl: object,
    ) -> None:
        m = self.model
        key = (conv, memory_type)
        old = m.working.get(key)
        stored = self.call(
            self.mem.working.store,
            conv,
            data,
            memory_type=memory_type,
            metadata=metadata,
            **ttl_kwargs(ttl),
        )
        expected = {
            "conversation_id": conv,
            "data": data,
            "memory_type": memory_type,
            "metadata": metadata or {},
            "created_at": m.now if old is None else old["created_at"],
            "updated_at": m.now,
            "expires_at": m.written_deadline("working", key, self.resolve_ttl("working", ttl)),
        }
        m.working[key] = expected
        assert stored.to_dict() == expected

    @rule(conv=CONVERSATIONS, memory_type=MEMORY_TYPES)
    def retrieve_working(self, conv: str, memory_type: str) -> None:
        got = self.call(self.mem.working.retrieve, conv, memory_type=memory_type)
        key = (conv, memory_type)
        if key not in self.model.working:
            assert got is None
            return
        self.model.touch("working", key)
        assert got is not None and got.to_dict() == self.model.working[key]

    @rule(
        conv=CONVERSATIONS,
        memory_type=MEMORY_TYPES,
        data=st.sampled_from(["edited", "v2"]),
        metadata=st.sampled_from([None, {"edited": True}]),
        ttl=TTLS,
    )
    def update_working(
        self,
        conv: str,
        memory_type: str,
        data: str,
        metadata: dict[str, Any] | None,
        ttl: object,
    ) -> None:
        m = self.model
        key = (conv, memory_type)

        def predict() -> Record:
            record = m.working.get(key)
            if record is None:
                raise ExpectedError(NotFound)
            return record

        outcome = self.expect(
            predict,
            self.mem.working.update,
            conv,
            data,
            memory_type=memory_type,
            metadata=metadata,
            **ttl_kwargs(ttl),
        )
        if outcome is None:
            return
        record, got = outcome
        record["data"] = data
        if metadata is not None:
            record["metadata"] = metadata
        record["updated_at"] = m.now
        if ttl is OMIT:
            record["expires_at"] = m.updated_deadline("working", key, record["expires_at"])
        else:
            record["expires_at"] = m.written_deadline(
                "working", key, self.resolve_ttl("working", ttl)
            )
        assert got.to_dict() == record

    @rule(conv=CONVERSATIONS, memory_type=MEMORY_TYPES)
    def delete_working(self, conv: str, memory_type: str) -> None:
        deleted = self.call(self.mem.working.delete, conv, memory_type=memory_type)
        key = (conv, memory_type)
        assert deleted is (key in self.model.working)
        if deleted:
            self.model.remove("working", key)

    # knowledge --------------------------------------------------------------------

    @rule(doc_id=DOC_IDS, status=STATUSES, ttl=TTLS)
    def upsert_doc(self, doc_id: str, status: str, ttl: object) -> None:
        m = self.model
        old = m.knowledge.get(doc_id)
        stored = self.call(
            self.mem.knowledge.upsert,
            KnowledgeDoc(doc_id=doc_id, name=f"doc {doc_id}", status=status),
            **ttl_kwargs(ttl),
        )
        expected = {
            "doc_id": doc_id,
            "name": f"doc {doc_id}",
            "description": None,
            "content_hash": None,
            "status": status,
            "metadata": {},
            "created_at": m.now if old is None else old["created_at"],
            "updated_at": m.now,
            "expires_at": m.written_deadline(
                "knowledge", doc_id, self.resolve_ttl("knowledge", ttl)
            ),
        }
        m.knowledge[doc_id] = expected
        assert stored.to_dict() == expected

    @rule(doc_id=DOC_IDS)
    def get_doc(self, doc_id: str) -> None:
        got = self.call(self.mem.knowledge.get, doc_id)
        if doc_id not in self.model.knowledge:
            assert got is None
            return
        self.model.touch("knowledge", doc_id)
        assert got is not None and got.to_dict() == self.model.knowledge[doc_id]

    @rule(doc_id=DOC_IDS)
    def delete_doc(self, doc_id: str) -> None:
        deleted = self.call(self.mem.knowledge.delete, doc_id)
        assert deleted is (doc_id in self.model.knowledge)
        if deleted:
            self.model.remove("knowledge", doc_id)

    @rule(
        status=st.one_of(st.none(), STATUSES),
        order_by=ORDER,
        descending=st.booleans(),
        limit=LIMITS,
        offset=st.integers(0, 2),
    )
    def list_docs(
        self, status: str | None, order_by: str, descending: bool, limit: int | None, offset: int
    ) -> None:
        got = self.call(
            self.mem.knowledge.list,
            status=status,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        matching = [d for d in self.model.knowledge.values() if status in (None, d["status"])]
        matching.sort(key=lambda d: (d[order_by], d["doc_id"]), reverse=descending)
        assert [doc.to_dict() for doc in got] == paginate(matching, limit, offset)

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
