"""Per-operation latency recording with HDR histograms (microsecond resolution)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from hdrh.histogram import HdrHistogram

__all__ = ["LatencyRecorder", "OpLatency", "new_histogram", "record_seconds"]

#: The largest latency a histogram tracks, in microseconds (one hour); larger values are
#: clamped to it (and counted).
MAX_TRACKABLE_US = 3_600_000_000
_SIGNIFICANT_DIGITS = 3


def new_histogram() -> HdrHistogram:
    """An empty microsecond histogram: 1 µs to :data:`MAX_TRACKABLE_US`, 3 digits."""
    return HdrHistogram(1, MAX_TRACKABLE_US, _SIGNIFICANT_DIGITS)


def record_seconds(histogram: HdrHistogram, seconds: float) -> None:
    """Record ``seconds`` in whole microseconds, at least 1 µs and at most one hour."""
    histogram.record_value(min(max(int(seconds * 1_000_000), 1), MAX_TRACKABLE_US))


@attrs.frozen(kw_only=True)
class OpLatency:
    """Latency summary of one operation.

    Attributes:
        op: The operation's name, e.g. ``"append_run"``.
        count: How many calls were recorded.
        mean_us: Mean latency, microseconds.
        p50_us: Median latency, microseconds (HDR value: within 0.1 %).
        p95_us: 95th percentile, microseconds.
        p99_us: 99th percentile, microseconds.
        max_us: Largest latency, microseconds.
    """

    op: str
    count: int
    mean_us: float
    p50_us: int
    p95_us: int
    p99_us: int
    max_us: int


@attrs.define(eq=False)
class LatencyRecorder:
    """Collects one HDR histogram per operation name.

    Not thread-safe; meant for the single trio thread the workload runs in. Recording is
    O(1), about 1 µs.
    """

    _histograms: dict[str, HdrHistogram] = attrs.field(factory=dict, init=False)

    def record(self, op: str, seconds: float) -> None:
        """Record one call of ``op`` that took ``seconds`` (wall time).

        Latencies are stored in whole microseconds, at least 1 µs and at most one hour.
        """
        histogram = self._histograms.get(op)
        if histogram is None:
            histogram = self._histograms[op] = new_histogram()
        record_seconds(histogram, seconds)

    def count(self, op: str) -> int:
        """The number of calls recorded for ``op`` (0 if none)."""
        histogram = self._histograms.get(op)
        return 0 if histogram is None else int(histogram.get_total_count())

    def summary(self, order: Sequence[str] = ()) -> tuple[OpLatency, ...]:
        """A summary per recorded operation.

        Args:
            order: Operation names to list first, in this order (names never recorded are
                left out); the other operations follow in the order first recorded.
        """
        ranks = {op: rank for rank, op in enumerate(order)}
        ops = sorted(self._histograms, key=lambda op: ranks.get(op, len(ranks)))
        return tuple(
            OpLatency(
                op=op,
                count=int(h.get_total_count()),
                mean_us=float(h.get_mean_value()),
                p50_us=int(h.get_value_at_percentile(50)),
                p95_us=int(h.get_value_at_percentile(95)),
                p99_us=int(h.get_value_at_percentile(99)),
                max_us=int(h.get_max_value()),
            )
            for op in ops
            for h in (self._histograms[op],)
        )
