"""``ExpiryIndex``: deadlines by ``(kind, key)``, popped in deadline order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ExpiryIndex

S, M = 0, 1  # two record kinds


def test_empty_index() -> None:
    index = ExpiryIndex()
    assert len(index) == 0
    assert index.next_deadline() is None
    assert index.deadline(S, "a") is None
    assert index.pop_due(1e18, 10) == []
    index._check()


def test_set_adds_and_next_deadline_is_the_earliest() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 30.0)
    index.set(S, "b", 10.0)
    index.set(M, ("u", "m"), 20.0)
    assert len(index) == 3
    assert index.next_deadline() == 10.0
    assert index.deadline(S, "a") == 30.0
    assert index.deadline(M, ("u", "m")) == 20.0
    assert index.deadline(M, "a") is None  # the kind is part of the identity
    index._check()


def test_set_moves_a_deadline_without_duplicating_it() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 10.0)
    index.set(S, "a", 50.0)
    assert len(index) == 1
    assert index.deadline(S, "a") == 50.0
    assert index.next_deadline() == 50.0
    assert index.pop_due(49.0, 10) == []
    index.set(S, "a", 5.0)  # earlier again
    assert index.next_deadline() == 5.0
    assert index.pop_due(5.0, 10) == [(S, "a")]
    assert len(index) == 0
    index._check()


def test_set_same_deadline_is_a_no_op() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 10.0)
    index.set(S, "a", 10.0)
    assert len(index) == 1
    assert len(index._by_kind[S][1]) == 1
    index._check()


def test_set_none_removes_and_is_idempotent() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 10.0)
    index.set(S, "a", None)
    assert len(index) == 0
    assert index.deadline(S, "a") is None
    index.set(S, "never-had-one", None)
    assert len(index) == 0
    index._check()


def test_discard() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 10.0)
    index.set(S, "b", 20.0)
    index.discard(S, "a")
    index.discard(S, "a")  # absent: nothing happens
    index.discard(M, "b")  # other kind: nothing happens
    assert len(index) == 1
    assert index.next_deadline() == 20.0
    assert index.pop_due(100.0, 10) == [(S, "b")]
    index._check()


def test_pop_due_is_earliest_first_and_inclusive() -> None:
    index = ExpiryIndex()
    for key, deadline in [("c", 3.0), ("a", 1.0), ("e", 5.0), ("b", 2.0), ("d", 4.0)]:
        index.set(S, key, deadline)
    assert index.pop_due(0.999, 10) == []
    assert index.pop_due(3.0, 10) == [(S, "a"), (S, "b"), (S, "c")]  # deadline == now is due
    assert index.next_deadline() == 4.0
    assert len(index) == 2
    index._check()


def test_pop_due_respects_the_limit_and_resumes() -> None:
    index = ExpiryIndex()
    for i in range(10):
        index.set(S, f"k{i}", float(i))
    assert index.pop_due(100.0, 3) == [(S, "k0"), (S, "k1"), (S, "k2")]
    assert index.pop_due(100.0, 0) == []
    assert index.pop_due(100.0, 4) == [(S, f"k{i}") for i in range(3, 7)]
    assert len(index) == 3
    assert index.pop_due(100.0, 100) == [(S, f"k{i}") for i in range(7, 10)]
    assert len(index) == 0
    index._check()


def test_equal_deadlines_pop_by_kind_then_key() -> None:
    index = ExpiryIndex()
    index.set(M, ("u", "z"), 7.0)
    index.set(S, "b", 7.0)
    index.set(M, ("a", "a"), 7.0)
    index.set(S, "a", 7.0)
    assert index.pop_due(7.0, 10) == [(S, "a"), (S, "b"), (M, ("a", "a")), (M, ("u", "z"))]


def test_popped_entries_are_forgotten() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 1.0)
    assert index.pop_due(1.0, 1) == [(S, "a")]
    assert index.deadline(S, "a") is None
    index.set(S, "a", 2.0)  # can be set again after popping
    assert index.deadline(S, "a") == 2.0
    index._check()


def test_clear() -> None:
    index = ExpiryIndex()
    for i in range(5):
        index.set(S, str(i), float(i))
    index.clear()
    assert len(index) == 0
    assert index.next_deadline() is None
    assert index.pop_due(100.0, 10) == []
    index._check()


def test_check_detects_a_stale_map_entry() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 1.0)
    index._by_kind[S][0]["a"] = 2.0  # the map disagrees with the sorted pairs
    with pytest.raises(AssertionError):
        index._check()


def test_check_detects_a_missing_map_entry() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 1.0)
    index.set(S, "b", 1.0)
    del index._by_kind[S][0]["b"]
    with pytest.raises(AssertionError):
        index._check()


def test_check_detects_an_orphan_sorted_entry() -> None:
    index = ExpiryIndex()
    index.set(S, "a", 1.0)
    index._by_kind[S][1].add(9.0, "ghost")
    with pytest.raises((AssertionError, KeyError)):
        index._check()


# A property: any sequence of operations agrees with a plain dict.
KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
KIND = st.sampled_from([S, M])
DEADLINES = st.one_of(st.none(), st.integers(0, 20).map(float))
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KIND, KEYS, DEADLINES),
        st.tuples(st.just("discard"), KIND, KEYS, st.none()),
        st.tuples(st.just("pop"), st.integers(0, 4), KEYS, st.integers(0, 20).map(float)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(OPERATIONS)
def test_agrees_with_a_dict(operations: list[tuple[str, int, str, float | None]]) -> None:
    """``pop`` operations carry ``(limit, _, now)``; the others ``(kind, key, deadline)``."""
    index = ExpiryIndex()
    model: dict[tuple[int, str], float] = {}
    for name, kind, key, deadline in operations:
        if name == "set":
            index.set(kind, key, deadline)
            if deadline is None:
                model.pop((kind, key), None)
            else:
                model[(kind, key)] = deadline
        elif name == "discard":
            index.discard(kind, key)
            model.pop((kind, key), None)
        else:
            limit, now = kind, deadline
            assert now is not None
            due = sorted((d, k, key) for (k, key), d in model.items() if d <= now)[:limit]
            assert index.pop_due(now, limit) == [(k, key) for _, k, key in due]
            for _, k, key in due:
                del model[(k, key)]
        index._check()
        assert len(index) == len(model)
        assert index.next_deadline() == min(model.values(), default=None)
        for (k, key), d in model.items():
            assert index.deadline(k, key) == d


# A property over the packed per-kind structure: many keys (chunks split and empty),
# str and tuple keys, bulk loads, and the merged order, against a plain dict.
KIND_KEYS = {S: [f"k{i:03}" for i in range(300)], M: [(f"u{i % 7}", f"m{i}") for i in range(300)]}
BIG_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KIND, st.integers(0, 299), DEADLINES),
        st.tuples(st.just("discard"), KIND, st.integers(0, 299), st.none()),
        st.tuples(st.just("pop"), st.integers(0, 50), st.just(0), st.integers(0, 20).map(float)),
        st.tuples(st.just("add_many"), KIND, st.integers(0, 299), st.integers(1, 200).map(float)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(BIG_OPERATIONS)
def test_packed_index_agrees_with_a_reference(
    operations: list[tuple[str, int, int, float | None]],
) -> None:
    """``add_many`` gives every key of the kind from ``start`` on that has no deadline
    a deadline spread below ``deadline``; ``pop`` carries ``(limit, _, now)``."""
    index = ExpiryIndex()
    model: dict[tuple[int, object], float] = {}
    for name, kind, number, deadline in operations:
        if name == "pop":
            limit, now = kind, deadline
            assert now is not None
            due = sorted(
                ((d, k, key) for (k, key), d in model.items() if d <= now),
                key=lambda entry: (entry[0], entry[1], entry[2]),
            )[:limit]
            assert index.pop_due(now, limit) == [(k, key) for _, k, key in due]
            for _, k, key in due:
                del model[(k, key)]
        elif name == "add_many":
            assert deadline is not None
            keys = [key for key in KIND_KEYS[kind][number:] if (kind, key) not in model]
            entries = [(float(i % int(deadline)), kind, key) for i, key in enumerate(keys)]
            index.add_many(entries)
            model.update({(k, key): d for d, k, key in entries})
            if entries:  # a second load of any of them is refused, and changes nothing
                with pytest.raises(ValueError, match="already has a deadline"):
                    index.add_many([(1.0, M if kind == S else S, "x"), entries[0]])
                assert index.deadline(M if kind == S else S, "x") is None
        else:
            key = KIND_KEYS[kind][number]
            index.set(kind, key, deadline) if name == "set" else index.discard(kind, key)
            if deadline is None or name == "discard":
                model.pop((kind, key), None)
            else:
                model[(kind, key)] = deadline
        index._check()
        assert len(index) == len(model)
        assert index._deadlines == model
        assert index.next_deadline() == min(model.values(), default=None)
        expected = sorted((d, k, key) for (k, key), d in model.items())
        assert list(index.in_order()) == [(k, key) for _, k, key in expected]
