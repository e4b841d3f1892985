"""The flat ``(timestamp, id)`` runs and their chunked form against a sorted list."""

from __future__ import annotations

import gc
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from engine._store._chunked import CHUNK, ChunkedSortedList
from engine._store._ordered import SMALL_GROUP, OrderedGroups
from engine._store._pairs import (
    PAIR_CHUNK,
    PairChunks,
    flat_between,
    flat_find,
    flat_insert,
    flat_of,
    flat_pairs,
    flat_without,
)

STEPS = st.lists(
    st.tuples(st.sampled_from("aar"), st.integers(0, 60), st.integers(0, 500)), max_size=700
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(STEPS, st.integers(0, 60), st.integers(0, 60), st.booleans())
def test_pair_chunks_are_a_sorted_list_of_pairs(
    steps: list[tuple[str, int, int]], low: int, high: int, descending: bool
) -> None:
    chunks = PairChunks()
    model: set[tuple[float, str]] = set()
    for op, stamp, ident in steps:
        pair = (float(stamp), f"i{ident:03}")
        if op == "a" and pair not in model:
            chunks.add(*pair)
            model.add(pair)
        elif op == "r":
            assert chunks.take(*pair) == (pair in model)
            model.discard(pair)
        assert len(chunks) == len(model)
    chunks._check()
    expected = sorted(model)
    assert list(chunks) == expected
    assert list(chunks.scan(True, None, None)) == expected[::-1]
    since, until = float(min(low, high)), float(max(low, high))
    ranged = [p for p in expected if since <= p[0] < until]
    assert list(chunks.scan(descending, since, until)) == (ranged[::-1] if descending else ranged)
    assert list(chunks.scan(False, since, None)) == [p for p in expected if p[0] >= since]
    assert list(chunks.scan(True, None, until)) == [p for p in expected if p[0] < until][::-1]
    for pair in expected[:5]:
        assert chunks.has(*pair)
    assert not chunks.has(999.0, "x")
    assert list(PairChunks(reversed(expected))) == expected


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30)), unique=True, max_size=40))
def test_a_flat_run_is_its_sorted_pairs(pairs: list[tuple[int, int]]) -> None:
    model = sorted((float(t), f"i{i:02}") for t, i in pairs)
    flat: tuple[object, ...] = ()
    for pair in reversed(model):
        flat = flat_insert(flat, *pair)
    assert flat == flat_of(model)
    n = len(model)
    assert list(flat_pairs(flat, 0, n, False)) == model
    assert list(flat_pairs(flat, 0, n, True)) == model[::-1]
    for t in range(11):
        low, high = flat_between(flat, float(t), float(t + 2))
        assert list(flat_pairs(flat, low, high, False)) == [p for p in model if t <= p[0] < t + 2]
    for pair in model:
        assert flat_find(flat, *pair)
        rest = flat_without(flat, *pair)
        assert rest == flat_of([p for p in model if p != pair])
    assert not flat_find(flat, 3.5, "i00")
    assert flat_without(flat, 3.5, "i00") is None


def test_pair_chunks_split_and_stay_untracked() -> None:
    chunks = PairChunks()
    for i in range(5 * PAIR_CHUNK):
        chunks.add(float(i % 7), f"id{i:05}")
    chunks._check()
    assert len(chunks._chunks) > 4
    gc.collect()
    assert not any(gc.is_tracked(chunk) for chunk in chunks._chunks)
    for i in range(5 * PAIR_CHUNK):
        assert chunks.take(float(i % 7), f"id{i:05}")
    assert not chunks and not chunks._chunks


def test_appends_keep_chunks_full() -> None:
    """Timestamps mostly grow: entries past the end open a new chunk once the last is
    full, so an append-only run has no half-full chunk but the last."""
    chunks, values = PairChunks(), ChunkedSortedList()
    for i in range(5 * PAIR_CHUNK + 3):
        chunks.add(float(i), f"id{i}")
        values.add((float(i), f"id{i}"))
    chunks._check()
    values._check()
    assert [len(chunk) >> 1 for chunk in chunks._chunks] == [PAIR_CHUNK] * 5 + [3]
    assert [len(chunk) for chunk in values._chunks] == [CHUNK] * (5 * PAIR_CHUNK // CHUNK) + [3]
    assert list(chunks) == list(values)


def _grouped(rng: random.Random, count: int, prefix: str) -> list[tuple[list[str], float, str]]:
    return [
        (sorted(rng.sample("abc", rng.randint(1, 3))), float(rng.randint(0, 40)), f"{prefix}{i}")
        for i in range(count)
    ]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**16),
    big=st.sampled_from([0, SMALL_GROUP - 2, SMALL_GROUP + 1, 4 * SMALL_GROUP]),
    before=st.integers(0, 40),
    added=st.integers(0, 3 * SMALL_GROUP),
)
def test_add_many_holds_what_adding_one_by_one_holds(
    seed: int, big: int, before: int, added: int
) -> None:
    """Into new groups, small (flat) ones and big (chunked) ones, receiving few or
    many entries: the same entries, in order, as ``add_to`` one by one."""
    rng = random.Random(seed)
    one_by_one, bulk = OrderedGroups(), OrderedGroups()
    olds = [(["a"], float(i % 50), f"big{i}") for i in range(big)] + _grouped(rng, before, "old")
    for names, stamp, ident in olds:
        for groups in (one_by_one, bulk):
            groups.add_to(names, stamp, ident)
    entries = _grouped(rng, added, "new")
    for names, stamp, ident in entries:
        one_by_one.add_to(names, stamp, ident)
    bulk.add_many(iter(entries))
    bulk._check()
    assert sorted(bulk.groups()) == sorted(one_by_one.groups())
    for group in one_by_one.groups():
        for descending in (False, True):
            assert list(bulk.scan(group, descending=descending)) == list(
                one_by_one.scan(group, descending=descending)
            )
        assert bulk.size(group) == one_by_one.size(group)
