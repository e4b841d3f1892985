"""Numbers for people: latencies and byte counts with 3 significant digits."""

from __future__ import annotations

__all__ = ["format_bytes", "format_latency"]


def format_latency(micros: float) -> str:
    """Format a latency given in microseconds with 3 significant digits (at most 7 chars).

    Examples: ``"850 µs"``, ``"1.25 ms"``, ``"25.5 ms"``, ``"147 ms"``, ``"2.04 s"``.
    """
    if round(micros) < 1_000:
        return f"{micros:.0f} µs"
    for scale, unit in ((1_000.0, "ms"), (1_000_000.0, "s")):
        value = micros / scale
        if round(value, 2) < 10:
            return f"{value:.2f} {unit}"
        if round(value, 1) < 100:
            return f"{value:.1f} {unit}"
        if round(value) < 1_000 or unit == "s":
            return f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_bytes(size: int) -> str:
    """A byte count for people, 3 significant digits: ``"812 B"``, ``"4.00 KiB"``,
    ``"12.5 MiB"``, ``"914 KiB"``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if round(value) < 1024 or unit == "TiB":
            if round(value, 2) < 10:
                return f"{value:.2f} {unit}"
            if round(value, 1) < 100:
                return f"{value:.1f} {unit}"
            return f"{value:,.0f} {unit}"
    raise AssertionError("unreachable")
