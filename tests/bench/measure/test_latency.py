"""Latency recording (bench/_latency.py) and its formatting (bench/_report.py)."""

from __future__ import annotations

import pytest

from bench._measure._format import format_latency
from bench._measure._latency import MAX_TRACKABLE_US, LatencyRecorder


def test_percentiles_of_known_values() -> None:
    recorder = LatencyRecorder()
    for micros in range(1, 1001):  # 1 µs .. 1000 µs
        recorder.record("op", micros / 1_000_000)

    (summary,) = recorder.summary()
    assert summary.op == "op"
    assert summary.count == 1000
    assert summary.p50_us == pytest.approx(500, rel=0.002)
    assert summary.p95_us == pytest.approx(950, rel=0.002)
    assert summary.p99_us == pytest.approx(990, rel=0.002)
    assert summary.max_us == pytest.approx(1000, rel=0.002)
    assert summary.mean_us == pytest.approx(500.5, rel=0.002)


def test_values_are_clamped_to_the_trackable_range() -> None:
    recorder = LatencyRecorder()
    recorder.record("fast", 0.0)
    recorder.record("slow", 10 * 3600.0)
    fast, slow = recorder.summary()
    assert fast.max_us == 1
    assert slow.max_us == pytest.approx(MAX_TRACKABLE_US, rel=0.002)


def test_summary_order_and_counts() -> None:
    recorder = LatencyRecorder()
    for op in ("c", "b", "a", "b"):
        recorder.record(op, 0.001)
    assert [s.op for s in recorder.summary()] == ["c", "b", "a"]
    assert [s.op for s in recorder.summary(["a", "zzz", "c"])] == ["a", "c", "b"]
    assert recorder.count("b") == 2
    assert recorder.count("never") == 0


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "0 µs"),
        (999, "999 µs"),
        (999.6, "1.00 ms"),
        (1_000, "1.00 ms"),
        (25_500, "25.5 ms"),
        (147_330, "147 ms"),
        (999_600, "1.00 s"),
        (1_234_567, "1.23 s"),
        (12_345_678, "12.3 s"),
        (3_600_000_000, "3600 s"),
    ],
)
def test_format_latency(micros: float, text: str) -> None:
    assert format_latency(micros) == text
