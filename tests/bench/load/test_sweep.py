"""The sweep search (pure), the verdict of a rate, the arrival schedules, and the deck of
arrivals the corpus deals."""

from __future__ import annotations

import itertools
import statistics

import attrs
import pytest

from bench._load._model import (
    DoublingSweep,
    LinearSweep,
    LoadPoint,
    Percentiles,
    TargetLoad,
    parse_sweep,
)
from bench._load._requests import LoadDeck
from bench._load._schedule import arrival_offsets
from bench._replay._dataset import Conversation, Turn
from bench._replay._workload import WorkloadConfig


def _search(sweep: LinearSweep | DoublingSweep, capacity: float) -> list[float]:
    """The rates ``sweep`` visits against a store that passes every rate <= capacity."""
    history: list[tuple[float, bool]] = []
    while (rate := sweep.next_rate(history)) is not None:
        assert len(history) < 50, history
        history.append((rate, rate <= capacity))
    return [rate for rate, _ in history]


def test_linear_sweep_stops_after_the_first_failure() -> None:
    sweep = LinearSweep(1000, 5000, 1000)
    assert _search(sweep, 2500) == [1000, 2000, 3000]
    assert _search(sweep, 10_000) == [1000, 2000, 3000, 4000, 5000]
    assert _search(sweep, 500) == [1000]
    assert _search(LinearSweep(0.5, 1.0, 0.1), 10) == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])


def test_doubling_sweep_doubles_then_bisects() -> None:
    sweep = DoublingSweep(1000, 64_000, refine=3)
    # 1k, 2k, 4k pass, 8k fails; then 6k fails, 5k passes, 5.5k fails: three bisections
    assert _search(sweep, 5200) == [1000, 2000, 4000, 8000, 6000, 5000, 5500]
    assert _search(sweep, 100_000) == [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000]
    assert _search(sweep, 900) == [1000]  # even the first rate fails: no answer
    assert _search(DoublingSweep(1000, 3000), 10_000) == [1000, 2000, 3000]  # capped
    assert _search(DoublingSweep(1000, 64_000, refine=0), 5200) == [1000, 2000, 4000, 8000]
    # bisection stops when the interval is within 2 %
    assert _search(DoublingSweep(100, 1000, refine=10), 150)[-1] in range(145, 156)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000:64000", DoublingSweep(1000, 64_000)),
        ("100:500:100", LinearSweep(100, 500, 100)),
        ("1e3:2e3:250", LinearSweep(1000, 2000, 250)),
    ],
)
def test_parse_sweep(text: str, expected: object) -> None:
    assert parse_sweep(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1000", "expected START:STOP"),
        ("a:b", "expected START:STOP"),
        ("0:100", "rates > 0"),
        ("100:200:0", "rates > 0"),
        ("1:2:3:4", "expected START:STOP"),
        ("500:100", "expected START <= STOP"),
        ("1:inf", "rates > 0"),
    ],
)
def test_parse_sweep_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sweep(text)


def _percentiles(p99_us: int) -> Percentiles:
    return Percentiles(
        count=1, mean_us=p99_us, p50_us=p99_us, p90_us=p99_us, p99_us=p99_us,
        p999_us=p99_us, max_us=p99_us,
    )  # fmt: skip


def _point(rate: float, p99_us: int, unfinished: int = 0) -> LoadPoint:
    latency = _percentiles(p99_us)
    return LoadPoint(
        rate=rate, duration=1.0, arrivals=int(rate), completed=int(rate) - unfinished,
        unfinished=unfinished, achieved=rate, latency=latency, service=latency,
        start_delay=latency, late=0, slot_waits=0, peak_in_flight=1,
    )  # fmt: skip


def test_a_rate_passes_within_the_bound_with_nothing_unfinished() -> None:
    assert _point(100, 5_000).passes(5_000)
    assert not _point(100, 5_001).passes(5_000)
    assert not _point(100, 10, unfinished=1).passes(5_000)
    assert not _point(100, 10, unfinished=1).passes(None)
    load = TargetLoad(
        target="engine", points=(_point(100, 1_000), _point(400, 9_000), _point(200, 2_000))
    )
    assert load.best_rate(5_000) == 200
    assert load.best_rate(10_000) == 400
    assert load.best_rate(500) is None


def test_rates_where_the_generator_fell_behind_are_named() -> None:
    from bench._load._report import behind_schedule

    on_time = _point(100, 1_000)
    late = attrs.evolve(_point(400, 1_000), late=40)  # 10 % of 400 arrivals
    assert behind_schedule(TargetLoad(target="engine", points=(on_time,))) is None
    warning = behind_schedule(TargetLoad(target="engine", points=(on_time, late)))
    assert warning is not None
    assert warning.startswith("engine: the generator fell behind its schedule at 400/s (10% late)")


def test_constant_arrivals_are_exact_and_poisson_ones_seeded() -> None:
    constant = list(itertools.islice(arrival_offsets(3.0), 4))
    assert constant == [0.0, 1 / 3, 2 / 3, 1.0]
    first = list(itertools.islice(arrival_offsets(1000.0, "poisson", seed=1), 10_000))
    again = list(itertools.islice(arrival_offsets(1000.0, "poisson", seed=1), 10_000))
    other = list(itertools.islice(arrival_offsets(1000.0, "poisson", seed=2), 10_000))
    assert first == again != other
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert min(gaps) >= 0
    assert statistics.fmean(gaps) == pytest.approx(1e-3, rel=0.05)
    assert statistics.stdev(gaps) == pytest.approx(1e-3, rel=0.05)  # exponential: sd = mean


def _conversation(name: str, turns: int) -> Conversation:
    return Conversation(
        conversation_id=name,
        prompt=None,
        start=None,
        turns=tuple(
            Turn(sender="alice" if t % 2 == 0 else "bob", texts=(f"{name} says {t}",))
            for t in range(turns)
        ),
    )


def test_the_deck_deals_turns_round_robin_and_renames_each_lap() -> None:
    config = WorkloadConfig(memory_every=2)
    deck = LoadDeck.deal([_conversation("a", 3), _conversation("b", 1)], config, unit="turn")
    assert [plan.run_id for plan in deck.turns] == ["a:0", "b:0", "a:1", "a:2"]
    ops = LoadDeck.deal([_conversation("a", 2)], config, unit="op").operations
    assert ops == (
        (0, "read_history"),
        (0, "search_memories"),
        (0, "append_run"),
        (0, "store_working"),
        (0, "upsert_memory"),
        (1, "read_history"),
        (1, "search_memories"),
        (1, "append_run"),
        (1, "store_working"),
    )
    with pytest.raises(ValueError, match="expected unit 'turn' or 'op', got 'call'"):
        LoadDeck.deal([_conversation("a", 1)], config, unit="call")
    with pytest.raises(ValueError, match="at least one turn"):
        LoadDeck.deal([], config, unit="turn")
