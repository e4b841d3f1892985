"""The open-loop driver: requests start on a schedule, whatever the store does.

One *pacer* task walks the arrival schedule and hands each arrival, when it falls due, to
``max_in_flight`` worker tasks through a memory channel; if every worker is busy the
arrival waits in the channel (a *slot wait*). Each request is timed from its **intended**
start, as wrk2 and HdrHistogram's corrected mode do, so the time a request spent waiting
behind slow ones counts (coordinated omission corrected); the time from its actual start
is kept too, as *service* time, which is what a closed loop would report.

Timers: trio's epoll wait rounds a timeout up to whole milliseconds, so a plain
``sleep_until`` would start requests up to 1 ms late and add that to every latency. The
pacer sleeps until ``spin`` seconds before an arrival, then yields (``checkpoint``) until
it is due: precise to a scheduler pass, at the cost of keeping the loop busy near each
arrival. An arrival handed over more than 1 ms late is counted (*late*): the pacer, which
shares the trio loop with an in-process store, fell behind its schedule; its latency still
counts from the intended start. No task is spawned per request. All times are
``trio.current_time()``, so tests run the driver on a virtual clock (with ``spin=0``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable, Iterator

import attrs
import trio
from hdrh.histogram import HdrHistogram

from bench._load._model import LoadPoint, Percentiles
from bench._load._schedule import arrival_offsets
from bench._measure._latency import new_histogram, record_seconds

__all__ = ["Request", "percentiles", "run_open_loop"]

#: Performs arrival number ``index`` and returns the label its latency is filed under
#: (e.g. the operation's name), or ``None`` for no breakdown.
Request = Callable[[int], Awaitable[str | None]]

_LATE = 0.001  # seconds: an arrival handed over later than this counts as late


def percentiles(histogram: HdrHistogram) -> Percentiles:
    """The summary of a microsecond histogram (all zero when it is empty)."""
    return Percentiles(
        count=int(histogram.get_total_count()),
        mean_us=float(histogram.get_mean_value()),
        p50_us=int(histogram.get_value_at_percentile(50)),
        p90_us=int(histogram.get_value_at_percentile(90)),
        p99_us=int(histogram.get_value_at_percentile(99)),
        p999_us=int(histogram.get_value_at_percentile(99.9)),
        max_us=int(histogram.get_max_value()),
    )


@attrs.define(eq=False)
class _Run:
    """The shared state of one rate's pacer and workers (one trio thread: no locks)."""

    start: float
    claimed: dict[int, float] = attrs.field(factory=dict)  # handed over, not done
    sent: int = 0
    in_flight: int = 0
    completed: int = 0
    late: int = 0
    slot_waits: int = 0
    peak_in_flight: int = 0
    last_done: float = 0.0
    latency: HdrHistogram = attrs.field(factory=new_histogram)
    service: HdrHistogram = attrs.field(factory=new_histogram)
    start_delay: HdrHistogram = attrs.field(factory=new_histogram)
    by_label: dict[str, HdrHistogram] = attrs.field(factory=dict)

    async def work(self, request: Request, arrivals: trio.MemoryReceiveChannel[int]) -> None:
        """A worker: perform each arrival handed over until the channel closes."""
        async for index in arrivals:
            intended = self.claimed[index]
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            began = trio.current_time()
            record_seconds(self.start_delay, began - intended)
            label = await request(index)
            done = trio.current_time()
            del self.claimed[index]
            self.in_flight -= 1
            self.completed += 1
            self.last_done = max(self.last_done, done)
            record_seconds(self.latency, done - intended)
            record_seconds(self.service, done - began)
            if label is not None:
                histogram = self.by_label.get(label)
                if histogram is None:
                    histogram = self.by_label[label] = new_histogram()
                record_seconds(histogram, done - intended)


async def _wait_until(deadline: float, spin: float) -> None:
    """Return at ``deadline``: sleep until ``spin`` before it, then yield until it."""
    while (now := trio.current_time()) < deadline:
        if deadline - now > spin:
            await trio.sleep_until(deadline - spin)
        else:
            await trio.lowlevel.checkpoint()


async def run_open_loop(
    request: Request,
    *,
    rate: float,
    duration: float,
    arrival: str = "constant",
    seed: int = 0,
    max_in_flight: int = 1000,
    drain: float = 5.0,
    spin: float = 0.002,
) -> LoadPoint:
    """Start ``request(i)`` for each arrival of ``duration`` seconds at ``rate`` per second.

    Args:
        request: Performs one arrival (see :data:`Request`); an exception fails the run.
        rate: Arrivals per second (> 0).
        duration: Seconds during which arrivals are scheduled (> 0).
        arrival: ``"constant"`` or ``"poisson"`` (see ``arrival_offsets``).
        seed: Seeds a Poisson schedule.
        max_in_flight: Worker tasks, so requests that may run at once (>= 1).
        drain: Seconds after the last arrival's intended start to let the backlog finish;
            then what is still queued or running is cancelled and counted as unfinished,
            with its latency so far (a lower bound).
        spin: Seconds before each arrival during which the pacer yields instead of
            sleeping (see the module docstring); 0 on a virtual clock.

    Returns:
        The rate's measurements; O(1) memory per request beyond the histograms, plus the
        backlog.

    Raises:
        ValueError: for a rate, duration, drain, spin or ``max_in_flight`` out of range.
        ExceptionGroup: holding the exception a request raised (the other requests are
            cancelled).
    """
    if not duration > 0 or not drain >= 0 or not spin >= 0 or max_in_flight < 1:
        raise ValueError(
            "expected duration > 0, drain >= 0, spin >= 0 and max_in_flight >= 1, got "
            f"{duration!r}, {drain!r}, {spin!r}, {max_in_flight!r}"
        )

    arrival_offsets(rate, arrival, seed=seed)  # raises now for a bad rate or process

    def schedule() -> Iterator[float]:
        return itertools.takewhile(
            lambda o: o < duration, arrival_offsets(rate, arrival, seed=seed)
        )

    send, receive = trio.open_memory_channel[int](math.inf)
    run = _Run(start=trio.current_time())
    with trio.move_on_at(math.inf) as deadline:
        async with trio.open_nursery() as nursery:
            for _ in range(max_in_flight):
                nursery.start_soon(run.work, request, receive)
            while send.statistics().tasks_waiting_receive < max_in_flight:
                await trio.lowlevel.checkpoint()  # until every worker waits on the channel
            run.start = trio.current_time()
            deadline.deadline = run.start + duration + drain
            async with send:
                for index, offset in enumerate(schedule()):
                    intended = run.start + offset
                    await _wait_until(intended, spin)
                    if trio.current_time() - intended > _LATE:
                        run.late += 1
                    if not send.statistics().tasks_waiting_receive:
                        run.slot_waits += 1
                    run.claimed[index] = intended
                    run.sent = index + 1
                    send.send_nowait(index)
    unfinished = 0
    if deadline.cancelled_caught:
        now = trio.current_time()
        unsent = itertools.islice(schedule(), run.sent, None)
        pending = [*run.claimed.values(), *(run.start + offset for offset in unsent)]
        for intended in pending:
            record_seconds(run.latency, now - intended)
        unfinished = len(pending)
    elapsed = run.last_done - run.start
    return LoadPoint(
        rate=rate,
        duration=duration,
        arrivals=sum(1 for _ in schedule()),
        completed=run.completed,
        unfinished=unfinished,
        achieved=run.completed / elapsed if elapsed > 0 else 0.0,
        latency=percentiles(run.latency),
        service=percentiles(run.service),
        start_delay=percentiles(run.start_delay),
        late=run.late,
        slot_waits=run.slot_waits,
        peak_in_flight=run.peak_in_flight,
        by_operation={label: percentiles(h) for label, h in sorted(run.by_label.items())},
    )
