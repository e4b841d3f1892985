"""The open-loop driver on trio's virtual clock: intended-start accounting, exactly.

A slow fake store proves coordinated omission is corrected: with one slot, arrival ``i``
of a 200/s schedule (every 5 ms) against a 10 ms store starts only when the ``i``
requests before it are done, and its latency is measured from when it *should* have
started, so it includes that queueing; the service time (what a closed loop reports)
stays 10 ms.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

from bench._load._open_loop import run_open_loop

# HDR histograms keep 3 significant digits: values within 0.1 %.
HDR = 1e-3


def _close(value_us: int, expected_us: float) -> bool:
    return abs(value_us - expected_us) <= HDR * expected_us + 1


def _store(service: dict[int, float], default: float) -> tuple[list[tuple[int, float]], object]:
    """A fake store: request ``i`` takes ``service.get(i, default)`` seconds; it logs
    ``(i, start time)``."""
    log: list[tuple[int, float]] = []

    async def request(index: int) -> str | None:
        log.append((index, trio.current_time()))
        await trio.sleep(service.get(index, default))
        return None

    return log, request


async def test_latency_includes_the_queue_behind_a_slow_store(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log, request = _store({}, 0.010)
    start = trio.current_time()
    point = await run_open_loop(
        request,
        rate=200,
        duration=1.0,
        max_in_flight=1,
        drain=10,
        spin=0,  # type: ignore[arg-type]
    )
    assert point.arrivals == 200 and point.completed == 200 and point.unfinished == 0
    # one slot: request i starts when i requests of 10 ms are done
    assert [index for index, _ in log] == list(range(200))
    assert [round(at - start, 6) for _, at in log[:3]] == [0.0, 0.01, 0.02]
    # latency of i = done (10 ms * (i + 1)) - intended (5 ms * i) = 10 ms + 5 ms * i
    assert _close(point.latency.max_us, 10_000 + 5_000 * 199)
    assert _close(point.latency.p50_us, 10_000 + 5_000 * 99)
    assert _close(point.latency.mean_us, 10_000 + 5_000 * 99.5)
    # what a closed loop would report: every call took 10 ms
    assert _close(point.service.p99_us, 10_000) and _close(point.service.max_us, 10_000)
    assert _close(point.start_delay.max_us, 5_000 * 199)
    assert point.slot_waits == 199  # all but the first fell due while the slot was busy
    assert point.peak_in_flight == 1
    assert point.achieved == pytest.approx(100, rel=1e-6)  # the store's pace, not the offer
    assert point.late == 0  # the virtual clock is never late
    assert not point.passes(50_000)


async def test_a_store_that_keeps_up_shows_its_service_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    log, request = _store({}, 0.005)
    start = trio.current_time()
    point = await run_open_loop(
        request,
        rate=100,
        duration=2.0,
        max_in_flight=10,
        spin=0,  # type: ignore[arg-type]
    )
    assert point.arrivals == point.completed == 200
    # each request starts exactly on its schedule: every 10 ms
    assert [round(at - start, 6) for _, at in log[:3]] == [0.0, 0.01, 0.02]
    assert _close(point.latency.max_us, 5_000) and _close(point.latency.p50_us, 5_000)
    assert point.start_delay.max_us <= 1
    assert point.slot_waits == 0 and point.peak_in_flight == 1
    assert point.passes(5_100) and not point.passes(4_000) and point.passes(None)


async def test_one_stall_delays_everything_behind_it_with_few_slots(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The classic case: a 1 s stall at 100/s. A closed loop records one slow call; the
    100 requests due during the stall waited too, and the corrected latency says so."""
    _, request = _store({10: 1.0}, 0.001)
    point = await run_open_loop(
        request,
        rate=100,
        duration=3.0,
        max_in_flight=1,
        spin=0,  # type: ignore[arg-type]
    )
    assert point.completed == 300
    # the service times: one 1 s call among 299 of 1 ms
    assert _close(point.service.p99_us, 1_000)
    assert _close(point.service.max_us, 1_000_000)
    # arrivals 11..109 fell due during the stall: ~100 of 300 waited, so p90 is long
    assert point.latency.p90_us > 100_000
    assert _close(point.latency.max_us, 1_001_000)
    assert point.slot_waits >= 99

    # with enough slots only the stalled request itself is slow
    _, request = _store({10: 1.0}, 0.001)
    wide = await run_open_loop(
        request,
        rate=100,
        duration=3.0,
        max_in_flight=200,
        spin=0,  # type: ignore[arg-type]
    )
    assert _close(wide.latency.p99_us, 1_000) and _close(wide.latency.max_us, 1_000_000)
    assert wide.slot_waits == 0 and wide.peak_in_flight == 2


async def test_poisson_arrivals_start_on_their_schedule(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from bench._load._schedule import arrival_offsets

    log, request = _store({}, 0.0001)
    start = trio.current_time()
    point = await run_open_loop(
        request,
        rate=500,
        duration=1.0,
        arrival="poisson",
        seed=7,
        spin=0,  # type: ignore[arg-type]
    )
    offsets = arrival_offsets(500, "poisson", seed=7)
    expected = [next(offsets) for _ in range(point.arrivals)]
    assert sorted(at - start for _, at in log) == pytest.approx(expected, abs=1e-9)
    assert next(offsets) >= 1.0  # the next one falls after the duration
    assert 400 < point.arrivals < 600


async def test_a_backlog_past_the_drain_is_unfinished_with_its_wait_so_far(
    autojump_clock: trio.testing.MockClock,
) -> None:
    _, request = _store({}, 10.0)
    start = trio.current_time()
    point = await run_open_loop(
        request,
        rate=10,
        duration=1.0,
        max_in_flight=2,
        drain=0.5,
        spin=0,  # type: ignore[arg-type]
    )
    assert trio.current_time() - start == pytest.approx(1.5)
    assert point.arrivals == 10 and point.completed == 0 and point.unfinished == 10
    assert point.latency.count == 10
    # arrival i waited from 0.1 s * i until the drain ran out at 1.5 s
    assert _close(point.latency.max_us, 1_500_000)
    assert _close(point.latency.p50_us, 1_500_000 - 100_000 * 5)  # HDR rounds p50 up
    assert not point.passes(None)


async def test_labels_give_the_latency_per_operation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def request(index: int) -> str | None:
        await trio.sleep(0.002 if index % 2 else 0.001)
        return "odd" if index % 2 else "even"

    point = await run_open_loop(request, rate=100, duration=1.0, spin=0)
    assert set(point.by_operation) == {"even", "odd"}
    assert point.by_operation["odd"].count == point.by_operation["even"].count == 50
    assert _close(point.by_operation["odd"].max_us, 2_000)
    assert _close(point.by_operation["even"].max_us, 1_000)


async def test_a_failing_request_fails_the_run(autojump_clock: trio.testing.MockClock) -> None:
    async def request(index: int) -> str | None:
        await trio.sleep(0.001)
        if index == 3:
            raise KeyError("boom")
        return None

    with pytest.RaisesGroup(KeyError, allow_unwrapped=True, flatten_subgroups=True):
        await run_open_loop(request, rate=100, duration=1.0, spin=0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate": 0.0}, "expected a rate > 0"),
        ({"duration": 0.0}, "expected duration > 0"),
        ({"max_in_flight": 0}, "max_in_flight >= 1"),
        ({"arrival": "bursty"}, "expected an arrival process in"),
    ],
)
async def test_bad_arguments_raise(options: dict[str, object], message: str) -> None:
    async def request(index: int) -> str | None:
        return None

    arguments: dict[str, object] = {"rate": 10.0, "duration": 1.0, **options}
    with pytest.raises(ValueError, match=message):
        await run_open_loop(request, **arguments)  # type: ignore[arg-type]


async def test_the_pacer_sleeps_until_spin_before_then_yields_until_due(
    mock_clock: trio.testing.MockClock,
) -> None:
    """``_wait_until`` sleeps until ``spin`` before the deadline (a timer, which epoll
    would round up to whole ms), then only yields (no timer) and returns on the first
    scheduler pass at or after the deadline. The clock moves only when the test jumps
    it, 1 ms per pass."""
    from bench._load._open_loop import _wait_until

    start = trio.current_time()
    returned: list[float] = []
    timers: list[tuple[int, float]] = []  # (ms since start, seconds to the next timer)

    async def pacer() -> None:
        await _wait_until(start + 0.010, spin=0.003)
        returned.append(trio.current_time() - start)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(pacer)
        while not returned:
            for _ in range(3):  # let the pacer run (it may never block: no waiting on it)
                await trio.lowlevel.checkpoint()
            now = round((trio.current_time() - start) * 1000)
            timers.append((now, trio.lowlevel.current_statistics().seconds_to_next_deadline))
            mock_clock.jump(0.001)
    assert returned == [pytest.approx(0.010)]
    sleeping = [ms for ms, timer in timers if timer != float("inf")]
    assert sleeping == list(range(7))  # a timer for 7 ms, then none: yielding
