"""The model of ``test_store_stress``: a seeded random program of mixed operations
on a pure ``ShardStore`` at an advancing ``now``, and a tracker of every record's
deadline (and owner, and topics) as the reference it is checked against."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import attrs
import pytest

from engine import (
    DEFAULT,
    EngineConfig,
    KindPolicy,
    KnowledgeDoc,
    Message,
    NotFound,
    OwnershipError,
    Run,
    Session,
    SessionSummary,
    ShardStore,
    UserMemory,
    WorkingMemory,
)
from engine._core._queries import KnowledgeQuery, MemoryQuery, SessionQuery
from engine._core._rows import session_of

START = 1_000_000.0
OPERATIONS = 4_000
KINDS = ("sessions", "memories", "working", "knowledge")
TTLS = [None, None, 0.25, 1.0, 2.0, 5.0, 10.0, 30.0]
STEPS = [0.0, 0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 5.0]
USERS = ["alice", "bob", "carol", "dave"]
WORDS = ["tea", "coffee", "paris", "dog", "green", "walks", "likes"]
TOPICS = ["food", "pets", "travel"]

CONFIGS = {
    "default": EngineConfig(),
    "sliding": EngineConfig(
        sessions=KindPolicy(refresh_on_read=True),
        memories=KindPolicy(refresh_on_read=True),
        working=KindPolicy(default_ttl=12 * 3600.0, refresh_on_read=True),
        knowledge=KindPolicy(refresh_on_read=True),
    ),
    "fixed": EngineConfig(
        sessions=KindPolicy(refresh_on_update=False),
        working=KindPolicy(default_ttl=12 * 3600.0, refresh_on_update=False),
    ),
}


@attrs.define
class Entry:
    expires: float | None
    ttl: float | None
    owner: str | None = None
    topics: tuple[str, ...] = ()


class Tracker:
    """Deadlines of the records the store should hold, and the expiries it should count."""

    def __init__(self, config: EngineConfig) -> None:
        self.now = START
        self.config = config
        self.entries: dict[tuple[str, Any], Entry] = {}
        self.expired: Counter[str] = Counter()

    def due(self, kind: str, key: Any) -> bool:
        entry = self.entries.get((kind, key))
        return entry is not None and entry.expires is not None and entry.expires <= self.now

    def settle(self, kind: str, key: Any) -> Entry | None:
        """The live entry, after counting and dropping it if its deadline has passed."""
        if self.due(kind, key):
            del self.entries[(kind, key)]
            self.expired[kind] += 1
        return self.entries.get((kind, key))

    def settle_all(self) -> None:
        for kind, key in list(self.entries):
            self.settle(kind, key)

    def write(self, kind: str, key: Any, ttl: float | None, **extra: Any) -> Entry:
        entry = Entry(None if ttl is None else self.now + ttl, ttl, **extra)
        self.entries[(kind, key)] = entry
        return entry

    def updated(self, kind: str, key: Any) -> None:
        entry = self.entries[(kind, key)]
        if entry.ttl is not None and self.config.policy(kind).refresh_on_update:
            entry.expires = self.now + entry.ttl

    def touched(self, kind: str, key: Any) -> None:
        entry = self.entries[(kind, key)]
        if entry.ttl is not None and self.config.policy(kind).refresh_on_read:
            entry.expires = self.now + entry.ttl

    def live(self, kind: str) -> dict[Any, Entry]:
        return {
            key: entry
            for (k, key), entry in self.entries.items()
            if k == kind and (entry.expires is None or entry.expires > self.now)
        }


class Stress:
    def __init__(self, seed: int, config: EngineConfig) -> None:
        self.rng = random.Random(seed)
        self.config = config
        self.store = ShardStore(config)
        self.model = Tracker(config)

    # helpers -----------------------------------------------------------------------

    def ttl(self) -> float | None:
        return self.rng.choice(TTLS)

    def scope(self) -> str | None:
        return self.rng.choice([None, None, *USERS])

    def visible_session(self, sid: str, user: str | None) -> Entry | None:
        entry = self.model.settle("sessions", sid)
        if entry is None or (user is not None and entry.owner != user):
            return None
        return entry

    def check_deadline(self, record: Any, kind: str, key: Any) -> None:
        assert record.expires_at == self.model.entries[(kind, key)].expires

    def full_sweep(self) -> None:
        self.store.expire_due(self.model.now)
        self.model.settle_all()
        counts = self.store.counts()
        assert counts.sessions == len(self.model.live("sessions"))
        assert counts.memories == len(self.model.live("memories"))
        assert counts.working == len(self.model.live("working"))
        assert counts.knowledge == len(self.model.live("knowledge"))
        assert counts.expired_sessions == self.model.expired["sessions"]
        assert counts.expired_memories == self.model.expired["memories"]
        assert counts.expired_working == self.model.expired["working"]
        assert counts.expired_knowledge == self.model.expired["knowledge"]
        with_deadline = sum(e.expires is not None for e in self.model.entries.values())
        assert counts.expiry_entries == with_deadline
        assert counts.next_deadline is None or counts.next_deadline > self.model.now

    # sessions ------------------------------------------------------------------------

    def upsert_session(self) -> None:
        sid, user, ttl = f"s{self.rng.randrange(30)}", self.rng.choice([None, *USERS]), self.ttl()
        runs = tuple(
            Run(run_id=f"r{i}", messages=(Message(role="user", content=self.rng.choice(WORDS)),))
            for i in range(self.rng.randrange(3))
        )
        session = Session(
            session_id=sid, user_id=user, agent_id=self.rng.choice(["a", "b"]), runs=runs
        )
        old = self.model.settle("sessions", sid)
        if old is not None and old.owner is not None and old.owner != user:
            with pytest.raises(OwnershipError):
                self.store.upsert_session(self.model.now, session, ttl)
            return
        stored = self.store.upsert_session(self.model.now, session, ttl)
        self.model.write("sessions", sid, ttl, owner=user)
        self.check_deadline(stored, "sessions", sid)

    def update_session(self) -> None:
        sid, user = f"s{self.rng.randrange(30)}", self.scope()
        now = self.model.now
        operation = self.rng.choice(["append_run", "rename", "set_summary"])
        if operation == "append_run":
            run = Run(run_id=f"r{self.rng.randrange(4)}")
            call: Any = lambda: self.store.append_run(now, sid, run, user)  # noqa: E731
        elif operation == "rename":
            call = lambda: self.store.rename_session(now, sid, "renamed", user)  # noqa: E731
        else:
            summary = SessionSummary(summary="sum", topics=("x",))
            call = lambda: self.store.set_summary(now, sid, summary, user)  # noqa: E731
        if self.visible_session(sid, user) is None:
            with pytest.raises(NotFound):
                call()
            return
        call()
        self.model.updated("sessions", sid)
        self.check_deadline(session_of(self.store.sessions.records[sid]), "sessions", sid)

    def read_session(self) -> None:
        sid, user = f"s{self.rng.randrange(30)}", self.scope()
        now = self.model.now
        visible = self.visible_session(sid, user) is not None
        operation = self.rng.choice(["get", "runs", "messages", "summary"])
        if operation == "get":
            got = self.store.get_session(now, sid, user, self.rng.choice([None, 1]))
            assert (got is not None) is visible
            if got is not None:
                self.model.touched("sessions", sid)
                self.check_deadline(got, "sessions", sid)
            return
        if not visible:
            with pytest.raises(NotFound):
                if operation == "runs":
                    self.store.get_runs(now, sid, None, user)
                elif operation == "messages":
                    self.store.get_messages(now, sid, 2, None, user)
                else:
                    self.store.get_summary(now, sid, user)
            return
        if operation == "runs":
            self.store.get_runs(now, sid, self.rng.choice([None, 0, 1]), user)
        elif operation == "messages":
            self.store.get_messages(now, sid, 2, frozenset({"user"}), user)
        else:
            self.store.get_summary(now, sid, user)
        self.model.touched("sessions", sid)
        self.check_deadline(session_of(self.store.sessions.records[sid]), "sessions", sid)

    def delete_sessions(self) -> None:
        ids = tuple(
            dict.fromkeys(f"s{self.rng.randrange(30)}" for _ in range(self.rng.randrange(1, 4)))
        )
        user = self.scope()
        visible = [sid for sid in ids if self.visible_session(sid, user) is not None]
        assert self.store.delete_sessions(self.model.now, ids, user) == len(visible)
        for sid in visible:
            del self.model.entries[("sessions", sid)]

    def list_sessions(self) -> None:
        user, k = self.scope(), self.rng.choice([None, 1, 3, 10])
        query = SessionQuery(
            user_id=user,
            order_by=self.rng.choice(["updated_at", "created_at"]),
            descending=self.rng.random() < 0.5,
        )
        found = [
            (k_, session_of(r)) for k_, r in self.store.list_sessions(self.model.now, query, k)
        ]
        live = {
            sid for sid, e in self.model.live("sessions").items() if user is None or e.owner == user
        }
        ids = [record.session_id for _, record in found]
        assert len(ids) == len(set(ids)) == (len(live) if k is None else min(k, len(live)))
        assert set(ids) <= live
        keys = [key for key, _ in found]
        assert keys == sorted(keys, reverse=query.descending)

    # memories ------------------------------------------------------------------------

    def upsert_memory(self) -> None:
        user, mid, ttl = self.rng.choice(USERS), f"m{self.rng.randrange(15)}", self.ttl()
        topics = tuple(self.rng.sample(TOPICS, self.rng.randrange(3)))
        text = " ".join(self.rng.choices(WORDS, k=self.rng.randrange(1, 5)))
        self.model.settle("memories", (user, mid))
        stored = self.store.upsert_memory(
            self.model.now, UserMemory(user_id=user, memory_id=mid, memory=text, topics=topics), ttl
        )
        self.model.write("memories", (user, mid), ttl, topics=topics)
        self.check_deadline(stored, "memories", (user, mid))

    def read_memory(self) -> None:
        user = self.rng.choice(USERS)
        now = self.model.now
        operation = self.rng.choice(["get", "keyword", "last_n", "first_n", "topics", "list"])
        mine = {mid for (u, mid) in self.model.live("memories") if u == user}
        if operation == "get":
            mid = f"m{self.rng.randrange(15)}"
            got = self.store.get_memory(now, user, mid)
            assert (got is not None) is (mid in mine)
            if got is not None:
                self.model.touched("memories", (user, mid))
                self.check_deadline(got, "memories", (user, mid))
        elif operation == "topics":
            expected = {
                topic
                for (u, _), e in self.model.live("memories").items()
                if u == user
                for topic in e.topics
            }
            assert self.store.memory_topics(now, user) == sorted(expected)
        elif operation == "list":
            k = self.rng.choice([None, 2, 5])
            found = self.store.list_memories(now, MemoryQuery(user_id=user), k)
            ids = [m.memory_id for _, m in found]
            assert len(ids) == (len(mine) if k is None else min(k, len(mine)))
            assert set(ids) <= mine
        else:
            limit = self.rng.randrange(0, 6)
            query = " ".join(self.rng.choices(WORDS, k=2)) if operation == "keyword" else ""
            found = self.store.search_memories(now, user, query, operation, limit)
            ids = [m.memory_id for m in found]
            assert len(ids) == len(set(ids)) <= limit
            assert set(ids) <= mine
            if operation != "keyword":
                assert len(ids) == min(limit, len(mine))
            for memory in found:
                self.model.touched("memories", (user, memory.memory_id))
                self.check_deadline(memory, "memories", (user, memory.memory_id))

    def delete_memory(self) -> None:
        user = self.rng.choice(USERS)
        if self.rng.random() < 0.2:
            mine = [key for key in self.model.live("memories") if key[0] == user]
            assert self.store.clear_memories(self.model.now, user) == len(mine)
            for key in mine:
                del self.model.entries[("memories", key)]
            return
        key = (user, f"m{self.rng.randrange(15)}")
        live = self.model.settle("memories", key) is not None
        assert self.store.delete_memory(self.model.now, *key) is live
        if live:
            del self.model.entries[("memories", key)]

    # working memory --------------------------------------------------------------------

    def working(self) -> None:
        key = (f"c{self.rng.randrange(10)}", self.rng.choice(["working", "scratch"]))
        now = self.model.now
        operation = self.rng.choice(["store", "store", "retrieve", "update", "delete"])
        live = self.model.settle("working", key) is not None
        if operation == "store":
            ttl = self.ttl()
            stored = self.store.store_working(
                now, WorkingMemory(conversation_id=key[0], memory_type=key[1], data="d"), ttl
            )
            self.model.write("working", key, ttl)
            self.check_deadline(stored, "working", key)
        elif operation == "retrieve":
            got = self.store.retrieve_working(now, *key)
            assert (got is not None) is live
            if got is not None:
                self.model.touched("working", key)
                self.check_deadline(got, "working", key)
        elif operation == "update":
            ttl: Any = self.rng.choice([DEFAULT, DEFAULT, *TTLS])
            if not live:
                with pytest.raises(NotFound):
                    self.store.update_working(now, *key, "new", None, ttl)
                return
            got = self.store.update_working(now, *key, "new", None, ttl)
            if ttl is DEFAULT:
                self.model.updated("working", key)
            else:
                self.model.write("working", key, ttl)
            self.check_deadline(got, "working", key)
        else:
            assert self.store.delete_working(now, *key) is live
            if live:
                del self.model.entries[("working", key)]

    # knowledge ---------------------------------------------------------------------------

    def knowledge(self) -> None:
        doc_id = f"d{self.rng.randrange(10)}"
        now = self.model.now
        operation = self.rng.choice(["upsert", "upsert", "get", "delete", "list"])
        live = self.model.settle("knowledge", doc_id) is not None
        if operation == "upsert":
            ttl = self.ttl()
            stored = self.store.upsert_doc(now, KnowledgeDoc(doc_id=doc_id, name="n"), ttl)
            self.model.write("knowledge", doc_id, ttl)
            self.check_deadline(stored, "knowledge", doc_id)
        elif operation == "get":
            got = self.store.get_doc(now, doc_id)
            assert (got is not None) is live
            if got is not None:
                self.model.touched("knowledge", doc_id)
                self.check_deadline(got, "knowledge", doc_id)
        elif operation == "delete":
            assert self.store.delete_doc(now, doc_id) is live
            if live:
                del self.model.entries[("knowledge", doc_id)]
        else:
            found = self.store.list_docs(now, KnowledgeQuery(), None)
            assert {row[3] for _, row in found} == set(self.model.live("knowledge"))

    # whole store ---------------------------------------------------------------------------

    def expire_some(self) -> None:
        limit = self.rng.randint(1, 8)
        removed = self.store.expire_due(self.model.now, limit)
        assert 0 <= removed <= limit
        if removed < limit:  # nothing due is left
            deadline = self.store.next_deadline()
            assert deadline is None or deadline > self.model.now

    def restore(self) -> None:
        """Export (records with their TTLs) and load into a fresh store."""
        self.full_sweep()
        old = self.store
        exported = old.export(self.model.now)
        new = ShardStore(self.config)
        for kind, pairs in exported.items():
            for record, ttl in pairs:
                _, key = ShardStore.identity(record)
                assert ttl == self.model.entries[(kind, key)].ttl  # the TTL written last
                assert new.load(self.model.now, record, ttl)
        self.store = new
        self.model.expired.clear()  # a fresh store counts from zero
        new._check()
        assert new.export(self.model.now) == exported

    def clear(self) -> None:
        self.full_sweep()
        live = sum(len(self.model.live(kind)) for kind in KINDS)
        assert self.store.clear(self.model.now) == live
        self.model.entries.clear()
        assert self.store.counts().records == 0
        assert self.store.next_deadline() is None

    def step(self) -> None:
        self.model.now += self.rng.choice(STEPS)
        operation = self.rng.choices(
            [
                self.upsert_session,
                self.update_session,
                self.read_session,
                self.delete_sessions,
                self.list_sessions,
                self.upsert_memory,
                self.read_memory,
                self.delete_memory,
                self.working,
                self.knowledge,
                self.expire_some,
                self.restore,
                self.clear,
            ],
            weights=[10, 8, 8, 3, 4, 10, 10, 3, 10, 6, 8, 0.3, 0.1],
        )[0]
        operation()

    def run(self, operations: int) -> None:
        for index in range(operations):
            self.step()
            if index % 50 == 0:
                self.store._check()
            if index % 400 == 0:
                self.full_sweep()
        self.store._check()
        self.full_sweep()
        self.store._check()
