"""When requests are meant to start: an open-loop arrival schedule.

A closed loop (N agents, each waiting for its reply before the next call) lets a slow
store slow down its own load; an open loop does not: arrivals come at a fixed rate
whatever the store does, as users do. The schedule is computed, never measured, so a
request that starts late is still timed from when it should have started.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from typing import Final

__all__ = ["ARRIVALS", "arrival_offsets"]

#: The arrival processes ``--arrival`` accepts: ``constant`` (one every ``1/rate``
#: seconds, as wrk2) and ``poisson`` (exponential gaps of mean ``1/rate``).
ARRIVALS: Final = ("constant", "poisson")


def arrival_offsets(rate: float, arrival: str = "constant", *, seed: int = 0) -> Iterator[float]:
    """The intended start of each request, in seconds after the run's start (endless).

    Args:
        rate: Requests per second, finite and > 0.
        arrival: One of :data:`ARRIVALS`.
        seed: Seeds the ``poisson`` gaps (the same seed gives the same schedule).

    Yields:
        Non-decreasing offsets: ``i / rate`` for ``constant`` (computed, not summed, so
        no rounding drift), a running sum of exponential gaps for ``poisson``. O(1) each.

    Raises:
        ValueError: if ``rate`` is not a finite number > 0 or ``arrival`` is unknown.
    """
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"expected a rate > 0 (requests per second), got {rate!r}")
    if arrival == "constant":
        return (index / rate for index in itertools.count())
    if arrival == "poisson":
        return _poisson(rate, random.Random(seed))
    raise ValueError(f"expected an arrival process in {ARRIVALS}, got {arrival!r}")


def _poisson(rate: float, rng: random.Random) -> Iterator[float]:
    offset = 0.0
    while True:
        yield offset
        offset += rng.expovariate(rate)
