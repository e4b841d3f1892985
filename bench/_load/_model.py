"""The open-loop benchmark's values: options, sweeps, one rate's measurements, results.

Pure: no trio, no I/O. The JSON form (:meth:`LoadResult.to_dict`) carries
:data:`LOAD_SCHEMA`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import attrs

from bench._measure._latency import OpLatency
from bench._replay._results import BenchOptions

__all__ = [
    "LOAD_SCHEMA",
    "UNITS",
    "DoublingSweep",
    "LinearSweep",
    "LoadOptions",
    "LoadPoint",
    "LoadResult",
    "Percentiles",
    "Sweep",
    "TargetLoad",
    "parse_sweep",
]

#: The ``"schema"`` value of ``shardmem bench --rate/--sweep --json``; the number after
#: the slash is bumped when a key changes meaning.
LOAD_SCHEMA: Final = "shardmem.bench.load/1"

#: What one arrival is: a whole ``turn`` (reads then writes) or one ``op``eration.
UNITS: Final = ("turn", "op")


@attrs.frozen(kw_only=True)
class Percentiles:
    """A latency distribution, microseconds (HDR values: within 0.1 %).

    Attributes:
        count: Values recorded.
        mean_us, p50_us, p90_us, p99_us, p999_us, max_us: Mean, percentiles, largest.
    """

    count: int
    mean_us: float
    p50_us: int
    p90_us: int
    p99_us: int
    p999_us: int
    max_us: int


@attrs.frozen(kw_only=True)
class LoadPoint:
    """What one rate measured.

    Attributes:
        rate: The offered rate, arrivals per second.
        duration: Seconds during which arrivals were scheduled.
        arrivals: Arrivals scheduled in ``duration``.
        completed: Requests that finished.
        unfinished: Requests still queued or running when the drain time ran out; each
            is in ``latency`` with the time it had waited so far (a lower bound).
        achieved: Completed requests per second, from the first intended start to the
            last completion.
        latency: From the intended start to completion (coordinated omission corrected:
            includes any wait for the store or for a free slot).
        service: From the actual start to completion (what a closed loop reports).
        start_delay: From the intended to the actual start.
        late: Arrivals handed to a worker more than 1 ms after their intended start: the
            load generator (the trio loop it shares with an in-process store) fell behind
            its schedule. Their latency still counts from the intended start.
        slot_waits: Requests due while all ``max_in_flight`` slots were busy.
        peak_in_flight: Most requests running at once.
        by_operation: With ``unit="op"``: ``latency`` per operation name.
        service_by_operation: With ``unit="turn"``: each operation's service time (a
            pipelined batch's time counts for each operation in it).
        gc_full_collections: Generation-2 garbage collections during the rate.
        gc_max_pause_us: The longest collection, microseconds: in an open loop every
            request due during a pause waits it out, so it shows in the tail.
    """

    rate: float
    duration: float
    arrivals: int
    completed: int
    unfinished: int
    achieved: float
    latency: Percentiles
    service: Percentiles
    start_delay: Percentiles
    late: int
    slot_waits: int
    peak_in_flight: int
    by_operation: dict[str, Percentiles] = attrs.field(factory=dict)
    service_by_operation: dict[str, OpLatency] = attrs.field(factory=dict)
    gc_full_collections: int = 0
    gc_max_pause_us: float = 0.0

    def passes(self, p99_max_us: float | None) -> bool:
        """Whether every request finished and, given a bound, p99 latency is within it."""
        if self.unfinished:
            return False
        return p99_max_us is None or self.latency.p99_us <= p99_max_us


@attrs.frozen
class LinearSweep:
    """Rates ``start, start + step, ...`` up to ``stop``, stopping after the first failure.

    Attributes:
        start, stop, step: Arrivals per second, ``0 < start <= stop``, ``step > 0``.
    """

    start: float
    stop: float
    step: float

    def next_rate(self, history: Sequence[tuple[float, bool]]) -> float | None:
        """The next rate to measure after ``history`` (``(rate, passed)`` in run
        order), or ``None`` when done."""
        if not history:
            return self.start
        passed = history[-1][1]
        following = self.start + len(history) * self.step
        return following if passed and following <= self.stop * (1 + 1e-9) else None


@attrs.frozen
class DoublingSweep:
    """Double from ``start`` until a rate fails (or ``stop``), then bisect ``refine`` times
    between the highest pass and the lowest failure.

    Attributes:
        start, stop: Arrivals per second, ``0 < start <= stop``.
        refine: Bisection steps after the first failure (>= 0).
    """

    start: float
    stop: float
    refine: int = 3

    def next_rate(self, history: Sequence[tuple[float, bool]]) -> float | None:
        """The next rate to measure after ``history``, or ``None`` when done."""
        if not history:
            return self.start
        failures = [rate for rate, passed in history if not passed]
        passes = [rate for rate, passed in history if passed]
        if not failures:
            last = history[-1][0]
            return None if last >= self.stop else min(2 * last, self.stop)
        if not passes:
            return None  # even the first rate fails
        first_failure = next(i for i, (_, passed) in enumerate(history) if not passed)
        if len(history) - 1 - first_failure >= self.refine:
            return None
        low = max(passes)
        high = min((rate for rate in failures if rate > low), default=None)
        if high is None or high - low <= max(1.0, 0.02 * low):
            return None
        return float(round((low + high) / 2))


Sweep = LinearSweep | DoublingSweep


def parse_sweep(text: str) -> Sweep:
    """``START:STOP:STEP`` (a linear sweep) or ``START:STOP`` (doubling, then bisection).

    Raises:
        ValueError: naming the expected form and what came.
    """
    parts = text.split(":")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3) or not all(math.isfinite(n) and n > 0 for n in numbers):
        raise ValueError(
            f"expected START:STOP (doubling) or START:STOP:STEP, rates > 0, got {text!r}"
        )
    if numbers[0] > numbers[1]:
        raise ValueError(f"expected START <= STOP, got {text!r}")
    if len(numbers) == 2:
        return DoublingSweep(numbers[0], numbers[1])
    return LinearSweep(*numbers)


@attrs.frozen(kw_only=True)
class LoadOptions:
    """The settings of one open-loop run (validated by the CLI).

    Attributes:
        bench: The replay's options: target settings, corpus, workload (``agents`` is
            not used: concurrency follows from the rate).
        targets: The stores to load, one after the other.
        rate: With no sweep: the one rate, arrivals per second.
        sweep: The rates to search, or ``None`` for ``rate`` alone.
        p99_max: The p99 latency bound a rate must keep to pass, seconds; ``None``: no
            bound (a rate passes when every request finished).
        duration: Seconds of arrivals per rate.
        arrival: ``"constant"`` or ``"poisson"``.
        unit: ``"turn"`` (an arrival is a turn: its reads, then its writes) or ``"op"``.
        max_in_flight: Requests that may run at once (the generator's slots).
        drain: Seconds to wait after the last arrival for requests still running.
    """

    bench: BenchOptions
    targets: tuple[str, ...]
    rate: float | None = None
    sweep: Sweep | None = None
    p99_max: float | None = None
    duration: float = 5.0
    arrival: str = "constant"
    unit: str = "turn"
    max_in_flight: int = 1000
    drain: float = 5.0


@attrs.frozen(kw_only=True)
class TargetLoad:
    """One target's rates, in run order.

    Attributes:
        target: The target's name.
        points: One per rate measured.
        skipped: Why the target could not run (its package is missing), or ``None``.
    """

    target: str
    points: tuple[LoadPoint, ...] = ()
    skipped: str | None = None

    def best_rate(self, p99_max_us: float | None) -> float | None:
        """The highest rate that passed (see :meth:`LoadPoint.passes`), or ``None``."""
        return max((p.rate for p in self.points if p.passes(p99_max_us)), default=None)


@attrs.frozen(kw_only=True)
class LoadResult:
    """An open-loop run over one or more targets.

    Attributes:
        options: The run's settings.
        targets: Per target, in the order given.
        environment: Python version, platform, CPU count, start time.
        conversations: Conversations whose turns the arrivals replay.
        turns: Their turns (arrivals cycle through them when a run needs more).
    """

    options: LoadOptions
    targets: tuple[TargetLoad, ...]
    environment: dict[str, Any]
    conversations: int
    turns: int

    @property
    def p99_max_us(self) -> float | None:
        """The p99 bound in microseconds, or ``None``."""
        return None if self.options.p99_max is None else self.options.p99_max * 1e6

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form written by ``--json`` (keys carry their units)."""
        options = attrs.asdict(self.options, recurse=False)
        options["bench"] = attrs.asdict(self.options.bench)
        sweep = self.options.sweep
        options["sweep"] = (
            None if sweep is None else {"kind": type(sweep).__name__, **attrs.asdict(sweep)}
        )
        return {
            "schema": LOAD_SCHEMA,
            "options": options,
            "environment": dict(self.environment),
            "dataset": {"conversations": self.conversations, "turns": self.turns},
            "targets": {
                load.target: {"skipped": load.skipped}
                if load.skipped is not None
                else {
                    "best_rate": load.best_rate(self.p99_max_us),
                    "points": [
                        {
                            **attrs.asdict(point),
                            "passed": point.passes(self.p99_max_us),
                        }
                        for point in load.points
                    ],
                }
                for load in self.targets
            },
        }
