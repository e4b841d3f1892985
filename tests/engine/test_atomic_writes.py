"""Every write is all or nothing, even when an index update fails part-way.

A ``MemoryError`` can come from any allocation. This test makes each index operation
the store uses (sorted lists, ordered groups, the keyword index, the expiry index)
fail on its n-th call, for every n a write reaches, during every kind of write; after
each failed write the store must hold exactly what it held before and pass
``ShardStore._check()`` (which cross-checks every index against the records).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sortedcontainers import SortedList

from engine import (
    EngineConfig,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._store._expiry import ExpiryIndex
from engine._store._keyword import KeywordIndex
from engine._store._ordered import OrderedGroups
from engine._store._store import ShardStore

NOW = 1_000.0
TTL = 500.0

# The index operations a write goes through; each is made to fail in turn.
FAULT_POINTS: list[tuple[type, str]] = [
    (SortedList, "add"),
    (SortedList, "remove"),
    (OrderedGroups, "add_to"),
    (OrderedGroups, "remove_from"),
    (KeywordIndex, "add"),
    (KeywordIndex, "remove"),
    (ExpiryIndex, "set"),
    (ExpiryIndex, "discard"),
]


def seeded() -> ShardStore:
    store = ShardStore(EngineConfig())
    for n in range(3):
        store.upsert_session(
            NOW,
            Session(
                session_id=f"s{n}",
                user_id="u",
                agent_id="a",
                runs=(Run(run_id="r0", messages=(Message(role="user", content="hi"),)),),
            ),
            TTL if n else None,
        )
        store.upsert_memory(
            NOW,
            UserMemory(user_id="u", memory_id=f"m{n}", memory=f"green tea {n}", topics=("tea",)),
            TTL,
        )
        store.store_working(NOW, WorkingMemory(conversation_id=f"c{n}", data="w"), TTL)
        store.upsert_doc(NOW, KnowledgeDoc(doc_id=f"d{n}", name="doc"), None)
    store._check()
    return store


WRITES: dict[str, Callable[[ShardStore], Any]] = {
    "new session": lambda s: s.upsert_session(
        NOW + 1, Session(session_id="new", user_id="v", team_id="t"), TTL
    ),
    "replace session": lambda s: s.upsert_session(
        NOW + 1, Session(session_id="s1", user_id="u", workflow_id="w"), None
    ),
    "append run": lambda s: s.append_run(NOW + 1, "s1", Run(run_id="r1"), None),
    "rename": lambda s: s.rename_session(NOW + 1, "s2", "renamed", None),
    "summary": lambda s: s.set_summary(NOW + 1, "s1", SessionSummary(summary="x"), None),
    "delete sessions": lambda s: s.delete_sessions(NOW + 1, ("s0", "s1", "s2"), None),
    "new memory": lambda s: s.upsert_memory(
        NOW + 1,
        UserMemory(user_id="u", memory_id="m9", memory="black tea", topics=("tea", "new")),
        TTL,
    ),
    "replace memory": lambda s: s.upsert_memory(
        NOW + 1, UserMemory(user_id="u", memory_id="m1", memory="coffee", topics=()), None
    ),
    "delete memory": lambda s: s.delete_memory(NOW + 1, "u", "m1"),
    "clear memories": lambda s: s.clear_memories(NOW + 1, "u"),
    "store working": lambda s: s.store_working(
        NOW + 1, WorkingMemory(conversation_id="c1", data="v2"), None
    ),
    "update working": lambda s: s.update_working(NOW + 1, "c2", "working", "v3", None, 99.0),
    "delete working": lambda s: s.delete_working(NOW + 1, "c0", "working"),
    "new doc": lambda s: s.upsert_doc(NOW + 1, KnowledgeDoc(doc_id="d9", name="n"), TTL),
    "replace doc": lambda s: s.upsert_doc(NOW + 1, KnowledgeDoc(doc_id="d1", name="n2"), TTL),
    "delete doc": lambda s: s.delete_doc(NOW + 1, "d2"),
}


def state(store: ShardStore) -> Any:
    """Everything a reader can observe, in a comparable form."""
    records = {
        kind: sorted((json.dumps(record.to_dict(), sort_keys=True), ttl) for record, ttl in pairs)
        for kind, pairs in store.export(0.0).items()  # 0.0: nothing counts as expired
    }
    return records, dict(store.expiry._deadlines), store.sessions.runs


class Fault:
    """Makes ``owner.name`` raise ``MemoryError`` on its ``nth`` call (then behave)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: type, name: str, nth: int):
        self.calls = 0
        self.fired = False
        original = getattr(owner, name)

        def failing(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == nth:
                self.fired = True
                raise MemoryError(f"injected into {owner.__name__}.{name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, failing)


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize(
    ("owner", "name"), FAULT_POINTS, ids=[f"{o.__name__}.{n}" for o, n in FAULT_POINTS]
)
def test_a_write_that_fails_part_way_changes_nothing(write: str, owner: type, name: str) -> None:
    failed = 0
    for nth in range(1, 40):
        store = seeded()
        before = state(store)
        with pytest.MonkeyPatch.context() as monkeypatch:
            fault = Fault(monkeypatch, owner, name, nth)
            try:
                WRITES[write](store)
            except MemoryError:
                assert fault.fired
                failed += 1
            else:
                assert not fault.fired
        store._check()
        if fault.fired:
            assert state(store) == before, f"{write}: fault {nth} of {owner.__name__}.{name}"
        else:
            break  # the write made fewer calls than nth: every fault point is covered
    # the fault point is reached by this write, or it is not (then nothing to check)
    assert failed == nth - 1 or failed == nth


@pytest.mark.parametrize(
    ("owner", "name"), FAULT_POINTS, ids=[f"{o.__name__}.{n}" for o, n in FAULT_POINTS]
)
def test_a_sweep_that_fails_part_way_leaves_whole_records_and_finishes_later(
    owner: type, name: str
) -> None:
    """An expiry sweep removes records one by one: a failure leaves each record whole
    (gone, or present with its deadline) and the next sweep removes the rest."""
    for nth in range(1, 60):
        store = seeded()
        with pytest.MonkeyPatch.context() as monkeypatch:
            fault = Fault(monkeypatch, owner, name, nth)
            try:
                store.expire_due(NOW + TTL + 1)
            except MemoryError:
                assert fault.fired
        store._check()
        if not fault.fired:
            break
        store.expire_due(NOW + TTL + 1)
        store._check()
        assert store.next_deadline() is None  # every TTL'd record is gone


def test_the_check_detects_a_record_missing_from_the_keyword_index() -> None:
    store = seeded()
    store.memories.keywords.remove("u", "m1")  # what a half-applied write used to leave
    with pytest.raises(AssertionError, match="keyword index and records disagree"):
        store._check()


def test_the_check_detects_a_deadline_without_its_record() -> None:
    store = seeded()
    del store.working[("c1", "working")]
    with pytest.raises(AssertionError):
        store._check()
