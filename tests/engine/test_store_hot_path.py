"""The store's hot path: the decoded-runs cache, accounting by delta, the validators'
fast paths, the generated ``replace`` and the run stamps — each must answer exactly
what the slow path it shortcuts answers."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    EngineConfig,
    InvalidArgument,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._core._encoded import encode_run, run_of
from engine._core._records import replace
from engine._core._stamps import stamp_run, stamp_runs
from engine._core._validate import (
    check_choice,
    check_id,
    check_optional_str,
    check_str,
    check_timestamp,
)
from engine._store._decoded import DecodedRuns
from engine._store._eviction import row_cost
from engine._store._expiry import ExpiryIndex
from engine._store._store import ShardStore

NOW = 1_000.0


def _run(run_id: str, *texts: str) -> Run:
    roles = ("user", "assistant")
    return Run(
        run_id=run_id,
        messages=tuple(Message(role=roles[i % 2], content=t) for i, t in enumerate(texts)),
    )


def _accounted(store: ShardStore) -> int:
    return sum(row_cost(row) for kind in range(4) for row in store._records_of(kind).values())


# -- the decoded-runs cache ----------------------------------------------------------


def test_the_cache_answers_what_decoding_answers_and_stays_bounded() -> None:
    cache = DecodedRuns(size=3)
    encoded = [encode_run(stamp_run(_run(f"r{i}", f"m{i}"), NOW)) for i in range(10)]
    for data in encoded:
        assert cache.run(data) == run_of(data)
        assert len(cache) <= 6
    last = cache.run(encoded[-1])
    assert cache.run(encoded[-1]) is last  # a hit: the same frozen record
    assert cache.run(bytes(encoded[-1])) is last  # keyed by the bytes' value
    cache.clear()
    assert len(cache) == 0
    assert cache.run(encoded[0]) == run_of(encoded[0])


def test_a_hit_in_the_old_generation_moves_to_the_young_one() -> None:
    cache = DecodedRuns(size=2)
    a, b, c, d = (encode_run(stamp_run(_run(name, name), NOW)) for name in "abcd")
    first = cache.run(a)
    cache.run(b)
    cache.run(c)  # young {c}, old {a, b}
    assert cache.run(a) is first  # promoted: young {c, a}
    cache.run(d)  # young {d}, old {c, a}: b is gone
    assert cache.run(a) is first
    assert len(cache) <= 4


def test_history_reads_equal_the_decoded_runs_whatever_the_cache_holds() -> None:
    store = ShardStore(EngineConfig())
    store.decoded = DecodedRuns(size=2)  # tiny: reads mix hits and misses
    store.upsert_session(NOW, Session(session_id="s", user_id="u"), None)
    for i in range(8):
        store.append_run(NOW + i, "s", _run(f"r{i}", f"q{i}", f"a{i}", f"q{i}?"), None)
    store.append_run(NOW + 9, "s", _run("r3", "replaced"), None)  # in place: new bytes
    rows = store.sessions.records["s"][13]
    expected = [run_of(data) for data in rows]
    for last_n in (None, 1, 3, 8, 20):
        runs = expected if last_n is None else expected[-last_n:]
        assert list(store.get_runs(NOW, "s", last_n, "u")) == runs
        assert store.get_messages(NOW, "s", last_n, None, "u") == [
            m for run in runs for m in run.messages
        ]
        assert store.get_messages(NOW, "s", last_n, frozenset({"user"}), None) == [
            m for run in runs for m in run.messages if m.role == "user"
        ]
        assert store.get_session(NOW, "s", "u", last_n).runs == tuple(runs)  # type: ignore[union-attr]
    assert expected[3].messages[0].content == "replaced"
    assert store.get_runs(NOW, "s", None, None) == store.get_session(NOW, "s", None, None).runs  # type: ignore[union-attr]
    store.clear(NOW)
    assert len(store.decoded) == 0


def test_the_run_append_returns_is_the_run_reads_return() -> None:
    store = ShardStore(EngineConfig())
    store.upsert_session(NOW, Session(session_id="s"), None)
    stored = store.append_run(NOW, "s", _run("r", "hello"), None)
    assert stored.created_at == NOW and stored.messages[0].created_at == NOW
    (read,) = store.get_runs(NOW, "s", None, None)
    assert read == stored == run_of(store.sessions.records["s"][13][0])


# -- accounting by delta -------------------------------------------------------------


@pytest.mark.parametrize("budget", [None, 1 << 20])
def test_every_session_update_keeps_the_accounting_exact(budget: int | None) -> None:
    config = EngineConfig(shards=1, max_memory=budget, eviction_policy="allkeys-lru")
    store = ShardStore(config)
    store.upsert_session(NOW, Session(session_id="s", user_id="u", name="n"), 60.0)
    steps = [
        lambda: store.append_run(NOW, "s", _run("r1", "x" * 40), None),
        lambda: store.append_run(NOW, "s", _run("r2", "y" * 10, "z"), None),
        lambda: store.append_run(NOW, "s", _run("r1", "short"), None),  # shrinks in place
        lambda: store.append_run(NOW, "s", _run("r2", "w" * 300), None),  # grows in place
        lambda: store.set_summary(NOW, "s", SessionSummary(summary="sum", topics=("t",)), None),
        lambda: store.set_summary(NOW, "s", SessionSummary(summary="s" * 90), None),
        lambda: store.rename_session(NOW, "s", "a longer name", None),
        lambda: store.rename_session(NOW, "s", "", None),
        lambda: store.upsert_session(NOW, Session(session_id="s", user_id="u"), None),
        lambda: store.store_working(NOW, WorkingMemory(conversation_id="c", data="d"), 5.0),
        lambda: store.update_working(NOW, "c", "working", "longer data", {"k": 1}, 9.0),
        lambda: store.upsert_memory(
            NOW, UserMemory(user_id="u", memory_id="m", memory="mm", topics=("a",)), None
        ),
    ]
    for step in steps:
        step()
        assert store.used_memory == _accounted(store)
        store._check()


def test_a_failed_session_update_leaves_the_accounting_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = ShardStore(EngineConfig())
    store.upsert_session(NOW, Session(session_id="s"), 30.0)
    before = (store.used_memory, store.sessions.records["s"])

    class Boom(Exception):
        pass

    def fail(*args: Any) -> None:
        raise Boom

    with monkeypatch.context() as patch:
        patch.setattr(ExpiryIndex, "set", fail)
        with pytest.raises(Boom):  # refresh_on_update moves the deadline: it fails
            store.append_run(NOW + 1, "s", _run("r", "lost"), None)
    assert (store.used_memory, store.sessions.records["s"]) == before
    assert store.used_memory == _accounted(store)
    store._check()


# -- the validators' fast paths ------------------------------------------------------

VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["", " ", "a\x00b", "\ud800", "é", "x" * 1025, "user", "agent"])
    | st.binary(max_size=3)
)


def _outcome(call: Any) -> tuple[type, str] | None:
    try:
        call()
    except (TypeError, InvalidArgument) as error:
        return type(error), str(error)
    return None


@settings(max_examples=300, deadline=None)
@given(value=VALUES)
def test_the_field_validators_raise_exactly_what_the_checks_raise(value: Any) -> None:
    cases = [
        (lambda: Run(run_id=value), lambda: check_id("Run.run_id", value)),
        (lambda: Message(role="user", content=value), lambda: check_str("Message.content", value)),
        (
            lambda: Message(role="user", content="c", name=value),
            lambda: check_optional_str("Message.name", value),
        ),
        (
            lambda: Message(role=value, content="c"),
            lambda: check_choice("Message.role", value, ("system", "user", "assistant", "tool")),
        ),
        (
            lambda: Run(run_id="r", created_at=value),
            lambda: check_timestamp("Run.created_at", value),
        ),
        (
            lambda: Session(session_id="s", user_id=value),
            lambda: None if value is None else check_id("Session.user_id", value),
        ),
    ]
    for build, check in cases:
        assert _outcome(build) == _outcome(check)


def test_timestamps_accept_ints_and_refuse_bools_and_non_finite_floats() -> None:
    assert Run(run_id="r", created_at=5).created_at == 5
    for bad in (True, math.nan, math.inf, -math.inf):
        with pytest.raises((TypeError, InvalidArgument), match=r"Run\.created_at"):
            Run(run_id="r", created_at=bad)


# -- replace and the stamps ----------------------------------------------------------

RECORDS = [
    Session(session_id="s", user_id="u", state={"a": [1, 2]}, runs=(_run("r", "x"),)),
    _run("r", "x", "y"),
    Message(role="tool", content="c", name="n", metadata={"k": "v"}),
    SessionSummary(summary="s", topics=("a", "b")),
    UserMemory(user_id="u", memory="m", topics=("t",)),
    WorkingMemory(conversation_id="c", data="d", metadata={"x": 1}),
    KnowledgeDoc(doc_id="d", name="n", description="about"),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_replace_copies_every_field_but_the_changed_ones(record: Any) -> None:
    fields = attrs.fields(type(record))
    assert replace(record) == record and replace(record) is not record
    for field in fields:
        marker = object()  # never validated: replace is for values checked before
        changed = replace(record, **{field.name: marker})
        for other in fields:
            expected = marker if other is field else getattr(record, other.name)
            assert getattr(changed, other.name) is expected


def test_stamps_fill_only_what_is_missing_and_return_complete_runs_themselves() -> None:
    partial = Run(
        run_id="r",
        messages=(
            Message(role="user", content="a", created_at=1.0),
            Message(role="user", content="b"),
        ),
    )
    stamped = stamp_run(partial, NOW)
    assert stamped.created_at == NOW
    assert [m.created_at for m in stamped.messages] == [1.0, NOW]
    assert stamped.messages[0] is partial.messages[0]
    assert stamp_run(stamped, NOW + 1) is stamped
    runs = (stamped, stamp_run(_run("q", "c"), 2.0))
    assert stamp_runs(runs, NOW) is runs
    assert stamp_runs((), NOW) == ()
    mixed = stamp_runs((stamped, _run("q", "c")), NOW)
    assert mixed[0] is stamped and mixed[1].created_at == NOW
    kept = Run(run_id="k", created_at=3.0)
    assert stamp_run(kept, NOW) is kept
