"""Reporting a :class:`LoadResult`: a rich table per target, a latency-vs-throughput PNG,
and the JSON document."""

from __future__ import annotations

import json
from pathlib import Path

from rich import box
from rich.console import Group
from rich.table import Table

from bench._load._model import LoadResult, TargetLoad
from bench._measure._format import format_latency

__all__ = [
    "LATE_SHARE",
    "behind_schedule",
    "build_load_tables",
    "write_load_json",
    "write_load_plot",
]

#: The share of late arrivals above which a rate is reported as behind schedule.
LATE_SHARE = 0.01


def _table(result: LoadResult, load: TargetLoad) -> Table:
    options = result.options
    bound = result.p99_max_us
    title = (
        f"open loop: target {load.target}, {options.arrival} arrivals of one {options.unit}, "
        f"{options.duration:g} s per rate, up to {options.max_in_flight:,} in flight"
    )
    table = Table(title=title, box=box.SIMPLE_HEAVY)
    headings = ("rate/s", "done/s", "p50", "p90", "p99", "p99.9", "max", "p99 service")
    for heading in (*headings, "late / waits", "unfinished", "full GCs (max)"):
        table.add_column(heading, justify="right", no_wrap=True)
    if bound is not None:
        table.add_column(f"p99 <= {format_latency(bound)}", justify="center")
    for point in load.points:
        latency = point.latency
        cells = [
            f"{point.rate:,.0f}",
            f"{point.achieved:,.0f}",
            *(
                format_latency(value)
                for value in (
                    latency.p50_us,
                    latency.p90_us,
                    latency.p99_us,
                    latency.p999_us,
                    latency.max_us,
                    point.service.p99_us,
                )
            ),
            f"{point.late:,} / {point.slot_waits:,}",
            f"{point.unfinished:,}",
            f"{point.gc_full_collections:,} ({format_latency(point.gc_max_pause_us)})",
        ]
        if bound is not None:
            cells.append("yes" if point.passes(bound) else "no")
        table.add_row(*cells)
    best = load.best_rate(bound)
    table.caption = (
        "Latency runs from each request's intended start (coordinated omission corrected); "
        "'p99 service' from its actual start, what an uncorrected generator reports. "
        "late: arrivals started > 1 ms after their time (the generator fell behind); "
        "waits: arrivals due "
        "while every slot was busy. full GCs: generation-2 collections and the longest "
        "pause of any collection."
        + ("" if bound is None else f" Highest rate within the bound: {_rate(best)}.")
    )
    return table


def _rate(rate: float | None) -> str:
    return "none" if rate is None else f"{rate:,.0f}/s"


def behind_schedule(load: TargetLoad) -> str | None:
    """A warning naming the rates where more than 1 % of arrivals started late (the
    generator fell behind its schedule), or ``None``."""
    behind = [p for p in load.points if p.arrivals and p.late > LATE_SHARE * p.arrivals]
    if not behind:
        return None
    rates = ", ".join(f"{p.rate:,.0f}/s ({p.late / p.arrivals:.0%} late)" for p in behind)
    return (
        f"{load.target}: the generator fell behind its schedule at {rates}: the loop it "
        "shares with the store was busy; those latencies include that wait."
    )


def build_load_tables(result: LoadResult) -> Group:
    """One table per target (rates in run order), then any :func:`behind_schedule`
    warning, and a line per skipped target."""
    parts: list[Table | str] = []
    for load in result.targets:
        if load.skipped is not None:
            parts.append(f"{load.target}: skipped: {load.skipped}")
            continue
        parts.append(_table(result, load))
        warning = behind_schedule(load)
        if warning is not None:
            parts.append(f"[yellow]{warning}[/yellow]")
    return Group(*parts)


def write_load_json(result: LoadResult, path: Path | str) -> None:
    """Write ``result.to_dict()`` as indented JSON (parent folders created).

    Raises:
        OSError: if the file cannot be written.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")


def write_load_plot(result: LoadResult, path: Path | str) -> Path:
    """A PNG of latency (p50 dashed, p99 solid, log scale) against achieved throughput,
    one color per target, with the p99 bound as a horizontal line.

    Returns:
        The file written.

    Raises:
        ImportError: if matplotlib is not installed.
        OSError: if the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    fig, axis = plt.subplots(figsize=(8, 4.8))
    for index, load in enumerate(result.targets):
        points = sorted(load.points, key=lambda p: p.rate)
        if not points:
            continue
        xs = [p.achieved for p in points]
        color = f"C{index}"
        axis.plot(
            xs,
            [p.latency.p99_us / 1000 for p in points],
            "o-",
            color=color,
            label=f"{load.target} p99",
        )
        axis.plot(
            xs,
            [p.latency.p50_us / 1000 for p in points],
            "o--",
            color=color,
            alpha=0.6,
            label=f"{load.target} p50",
        )
    if result.p99_max_us is not None:
        axis.axhline(result.p99_max_us / 1000, color="grey", linestyle=":", label="p99 bound")
    options = result.options
    axis.set(
        yscale="log",
        xlabel=f"throughput ({options.unit}s per second completed)",
        ylabel="latency from intended start (ms)",
        title=f"open loop, {options.arrival} arrivals, {options.duration:g} s per rate",
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(file, dpi=100)
    plt.close(fig)
    return file
