"""Stored rows: GC-untracked tuples, and records rebuilt from them unchanged."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from engine._core._encoded import encode_run, run_of
from engine._core._rows import (
    _INTERNS,
    M_TEAM,
    M_TOPICS,
    M_USER,
    S_AGENT,
    S_USER,
    doc_of,
    doc_row,
    memory_of,
    memory_row,
    session_of,
    session_row,
    working_of,
    working_row,
)
from engine._store._chunked import ChunkedSortedList
from engine._store._memory_table import SMALL_TOPIC
from engine._store._ordered import OrderedGroups
from engine._store._pairs import PairChunks
from engine._store._store import ShardStore

NOW = 1_000.0

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
OBJECTS = st.dictionaries(st.text(max_size=5), JSON, max_size=4)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


def _fill(store: ShardStore, n: int) -> None:
    for i in range(n):
        sid = f"s{i}"
        store.upsert_session(
            NOW,
            Session(session_id=sid, user_id=f"u{i % 7}", agent_id="a", state={"step": i}),
            None if i % 2 else 30.0,
        )
        store.append_run(
            NOW,
            sid,
            Run(
                run_id="r1",
                messages=(Message(role="user", content=f"hi {i}", metadata={"t": [i]}),),
            ),
            None,
        )
        store.set_summary(NOW, sid, SessionSummary(summary="s", topics=("a",)), None)
        store.upsert_memory(
            NOW,
            UserMemory(
                user_id=f"u{i % 7}", memory_id=f"m{i}", memory="likes tea", topics=("tea", "x")
            ),
            None,
        )
        store.store_working(
            NOW, WorkingMemory(conversation_id=f"c{i}", data="d", metadata={"k": i}), 60.0
        )
        store.upsert_doc(
            NOW, KnowledgeDoc(doc_id=f"d{i}", name="n", metadata={"m": [1, {"x": None}]}), None
        )


def test_stored_rows_are_untracked_by_the_cyclic_gc() -> None:
    store = ShardStore(EngineConfig())
    _fill(store, 300)
    # CPython untracks an all-atomic tuple when a collection examines it; a row whose
    # inner tuple sat in an older generation at that moment is untracked by the next.
    gc.collect()
    gc.collect()
    tables: list[dict[Any, Any]] = [
        store.sessions.records,
        store.memories.records,
        store.working,
        store.knowledge.records,
    ]
    rows = [row for table in tables for row in table.values()]
    assert len(rows) == 1200
    assert not any(gc.is_tracked(row) for row in rows)
    # the indexes hold ids (strings, tuples of strings), never records or rows
    for group in store.sessions.by_updated.groups():
        entries = list(store.sessions.by_updated.scan(group, descending=False))
        assert all(type(sid) is str for _, sid in entries)
    for group in store.memories.by_created.groups():
        entries = list(store.memories.by_created.scan(group, descending=False))
        assert all(type(key) is tuple and len(key) == 2 for _, key in entries)
    # what the indexes hold (flat tuples, chunk lists' tuples) is untracked too
    for table in (store.sessions, store.memories, store.knowledge):
        for index in (table.by_updated, table.by_created):
            for packed in index._groups.values():
                chunks = packed._chunks if isinstance(packed, PairChunks) else [packed]
                assert not any(gc.is_tracked(chunk) for chunk in chunks)
    # so are the expiry index's packed (deadline, key) chunks
    for _, pairs in store.expiry._by_kind.values():
        assert pairs and not any(gc.is_tracked(chunk) for chunk in pairs._chunks)
    store._check()


def _fresh(text: str) -> str:
    """An equal string that is a new object (not the literal's interned one)."""
    return "".join(list(text))


@pytest.mark.skipif(not _INTERNS, reason="interned strings are immortal here: not interned")
def test_equal_ids_of_different_records_share_one_object() -> None:
    store = ShardStore(EngineConfig())
    for i in range(2):
        store.upsert_session(
            NOW,
            Session(session_id=f"s{i}", user_id=_fresh("user-7"), agent_id=_fresh("helper-a")),
            None,
        )
        store.upsert_memory(
            NOW,
            UserMemory(
                user_id=_fresh("user-7"),
                memory_id=f"m{i}",
                memory="likes tea",
                topics=(_fresh("drinks-x"),),
                team_id=_fresh("team-q"),
            ),
            None,
        )
    assert _fresh("user-7") is not _fresh("user-7")
    sessions = [store.sessions.records[f"s{i}"] for i in range(2)]
    memories = [store.memories.records[(_fresh("user-7"), f"m{i}")] for i in range(2)]
    users = [row[S_USER] for row in sessions] + [row[M_USER] for row in memories]
    assert users == ["user-7"] * 4 and all(user is users[0] for user in users)
    assert sessions[0][S_AGENT] is sessions[1][S_AGENT] == "helper-a"
    assert memories[0][M_TOPICS][0] is memories[1][M_TOPICS][0] == "drinks-x"
    assert memories[0][M_TEAM] is memories[1][M_TEAM] == "team-q"
    # equal strings: what a read returns is unchanged
    memory = store.get_memory(NOW, "user-7", "m1")
    assert memory is not None and memory.topics == ("drinks-x",) and memory.team_id == "team-q"
    session = store.get_session(NOW, "s0", None, None)
    assert session is not None and session.user_id == "user-7" and session.agent_id == "helper-a"
    store._check()


@given(state=OBJECTS, metadata=OBJECTS, name=st.none() | TEXT, content=TEXT, msg_meta=OBJECTS)
def test_a_session_comes_back_from_its_row_unchanged(
    state: dict[str, Any],
    metadata: dict[str, Any],
    name: str | None,
    content: str,
    msg_meta: dict[str, Any],
) -> None:
    runs = tuple(
        Run(
            run_id=f"r{i}",
            messages=(Message(role="user", content=content, metadata=msg_meta, created_at=NOW),)
            * i,
            metadata=metadata,
            created_at=NOW + i,
        )
        for i in range(3)
    )
    session = Session(
        session_id="s",
        user_id="u",
        name=name,
        state=state,
        metadata=metadata,
        runs=runs,
        summary=SessionSummary(summary=content, topics=("t",), updated_at=NOW),
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + 5,
    )
    assert session_of(session_row(session)) == session
    assert session_of(session_row(session), 1).runs == runs[-1:]
    assert run_of(encode_run(runs[2])) == runs[2]
    stamps = {"created_at": NOW, "updated_at": NOW + 1, "expires_at": None}
    memory = UserMemory(
        user_id="u", memory_id="m", memory=content, topics=("a", "b"), input=name, **stamps
    )
    assert memory_of(memory_row(memory)) == memory
    working = WorkingMemory(conversation_id="c", data=content, metadata=state, **stamps)
    assert working_of(working_row(working)) == working
    doc = KnowledgeDoc(doc_id="d", name=content, description=name, metadata=metadata, **stamps)
    assert doc_of(doc_row(doc)) == doc


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 600), st.integers(0, 40)), min_size=1, max_size=900
    ),
    st.tuples(st.integers(0, 50), st.integers(0, 50)),
)
def test_ordered_groups_keep_order_across_the_small_group_bound(
    steps: list[tuple[bool, int, int]], bounds: tuple[int, int]
) -> None:
    groups = OrderedGroups()
    model: set[tuple[float, str]] = set()
    for add, ident, stamp in steps:
        entry = (float(stamp), f"i{ident}")
        if add and entry not in model:
            groups.add("g", *entry)
            model.add(entry)
        elif not add and entry in model:
            groups.remove("g", *entry)
            model.discard(entry)
    groups._check()
    expected = sorted(model)
    assert list(groups.scan("g", descending=False)) == expected
    assert list(groups.scan("g", descending=True)) == expected[::-1]
    since, until = float(min(bounds)), float(max(bounds))
    ranged = [e for e in expected if since <= e[0] < until]
    assert list(groups.scan("g", descending=False, since=since, until=until)) == ranged
    assert list(groups.scan("g", descending=True, since=since, until=until)) == ranged[::-1]
    assert groups.size("g") == len(model)


def test_topic_ids_grow_into_a_set_and_shrink_back_to_a_tuple() -> None:
    store = ShardStore(EngineConfig())
    for i in range(SMALL_TOPIC + 10):
        memory = UserMemory(user_id="u", memory_id=f"m{i}", memory="tea", topics=("t",))
        store.upsert_memory(NOW, memory, None)
    assert isinstance(store.memories.by_topic["u"]["t"], set)
    for i in range(SMALL_TOPIC + 9):
        store.delete_memory(NOW, "u", f"m{i}")
        store.memories._check()
    assert store.memories.by_topic["u"]["t"] == f"m{SMALL_TOPIC + 9}"


def test_bulk_loading_builds_what_loading_one_by_one_builds() -> None:
    store = ShardStore(EngineConfig())
    _fill(store, 700)  # over SMALL_GROUP in the "all" groups, under it per user
    items = []
    for kind in range(4):
        for key, row in store._records_of(kind).items():
            items.append((kind, key, row, store._ttls.get((kind, key))))
    bulk = ShardStore(EngineConfig())
    assert bulk.load_rows(NOW, items) == len(items)
    bulk._check()
    assert bulk.dump(NOW) == store.dump(NOW)
    assert bulk._ttls == store._ttls and bulk.used_memory == store.used_memory
    for table in ("sessions", "memories", "knowledge"):
        for index in ("by_updated", "by_created"):
            ours = getattr(getattr(bulk, table), index)
            theirs = getattr(getattr(store, table), index)
            assert set(ours.groups()) == set(theirs.groups())
            for g in ours.groups():
                mine = list(ours.scan(g, descending=False))
                assert mine == list(theirs.scan(g, descending=False))
    assert bulk.memories.by_topic == store.memories.by_topic
    assert list(bulk.expiry.in_order()) == list(store.expiry.in_order())
    assert bulk.expiry._deadlines == store.expiry._deadlines
    later = NOW + 31  # the sessions with a 30 s TTL are skipped
    assert ShardStore(EngineConfig()).load_rows(later, items) == len(items) - 350


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("aard"), st.integers(0, 400)), max_size=700),
    st.integers(0, 400),
    st.integers(0, 400),
    st.booleans(),
)
def test_the_chunked_sorted_list_is_a_sorted_list(
    steps: list[tuple[str, int]], low: int, high: int, reverse: bool
) -> None:
    chunked = ChunkedSortedList()
    model: list[tuple[int, str]] = []
    for op, value in steps:
        entry = (value, f"v{value}")
        if op == "a" and entry not in model:
            chunked.add(entry)
            model.append(entry)
        elif op == "r" and entry in model:
            chunked.remove(entry)
            model.remove(entry)
        elif op == "d":
            chunked.discard(entry)
            if entry in model:
                model.remove(entry)
        model.sort()
        assert len(chunked) == len(model)
    chunked._check()
    assert list(chunked) == model and list(reversed(chunked)) == model[::-1]
    assert chunked.first(3) == model[:3]
    for entry in model[:5]:
        assert entry in chunked
    assert (999, "x") not in chunked
    lo, hi = min(low, high), max(low, high)
    wanted = [e for e in model if (lo,) <= e < (hi,)]
    got = list(chunked.irange((lo,), (hi,), inclusive=(True, False), reverse=reverse))
    assert got == (wanted[::-1] if reverse else wanted)
    if model:
        assert chunked[0] == model[0] and chunked[-1] == model[-1]
        assert chunked.pop_first() == model[0]
    bulk = ChunkedSortedList(model[1:])
    bulk.update([(1000, "z")])
    bulk._check()
    assert list(bulk) == [*model[1:], (1000, "z")]
