"""The ``compare`` table: each paired row's values in A and B and B's ratio to A."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.table import Table

from bench._compare._model import Pair, RunRows
from bench._measure._format import format_latency

__all__ = ["build_compare_table"]


def _throughput(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _latency(value: float | None) -> str:
    return "-" if value is None else format_latency(value)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def build_compare_table(a: RunRows, b: RunRows, pairs: Sequence[Pair]) -> Table:
    """One row per pair: throughput in A and B and B/A, then p50 and p99 likewise.

    A throughput ratio above 1 means B is faster; a latency ratio below 1 means B is
    quicker.
    """
    unit = "ops/s" if a.kind == "replay" else "done/s"
    table = Table(title=f"A: {a.path}   B: {b.path}", box=box.SIMPLE_HEAVY)
    table.add_column("target", no_wrap=True)
    table.add_column("operation" if a.kind == "replay" else "rate", no_wrap=True)
    for heading in (
        f"A {unit}",
        f"B {unit}",
        "B/A",
        "A p50",
        "B p50",
        "B/A",
        "A p99",
        "B p99",
        "B/A",
    ):
        table.add_column(heading, justify="right", no_wrap=True)
    for pair in pairs:
        cells = [pair.target, pair.row]
        for field, show in (
            ("throughput", _throughput),
            ("p50_us", _latency),
            ("p99_us", _latency),
        ):
            values = [None if row is None else getattr(row, field) for row in (pair.a, pair.b)]
            cells += [*map(show, values), _ratio(pair.ratio(field))]
        table.add_row(*cells)
    table.caption = (
        "B/A above 1: B has more throughput, or a longer latency; '-': a row only one run has."
    )
    return table
