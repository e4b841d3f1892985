"""Reporting a :class:`~bench._micro._run.MicroResult`: rich tables, JSON, log-log PNG plots.

Also :func:`build_comparison_table`, the one-table summary of a multi-target replay
(``shardmem bench --target engine,lock,agno,...``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from rich import box
from rich.console import Console, Group
from rich.table import Table

from bench._measure._latency import OpLatency
from bench._micro._model import GROWTH_OPS, SCALING_TARGETS, MicroResult
from bench._micro._redis import redis_scaling_table
from bench._replay._results import BenchResult
from bench._targets._peer_targets import PEER_OPERATIONS
from bench._targets._protocol import OPERATIONS

__all__ = [
    "REPORT_WIDTH",
    "build_comparison_table",
    "build_micro_tables",
    "report_console",
    "render_micro",
    "write_micro_json",
    "write_micro_plots",
]


def _us(micros: float | None) -> str:
    if micros is None:
        return "-"
    if micros < 1_000:
        return f"{micros:.3g} µs" if micros < 100 else f"{micros:.0f} µs"
    if micros < 1_000_000:
        return f"{micros / 1_000:.3g} ms"
    return f"{micros / 1_000_000:.3g} s"


def build_micro_tables(result: MicroResult) -> Group:
    """Scaling, cost growth, memory and goals, as rich tables."""
    scaling = Table(
        title=(
            f"single ops (get/upsert 50:50), {result.options.scaling_records:,} sessions, "
            f"median of {result.options.repeats} x {result.options.duration:g} s"
        ),
        box=box.SIMPLE_HEAVY,
    )
    scaling.add_column("clients", justify="right")
    for target in SCALING_TARGETS:
        scaling.add_column(f"{target} ops/s", justify="right")
        scaling.add_column(f"{target} p50 / p99", justify="right")
    scaling.add_column("engine/lock", justify="right")
    scaling.add_column("engine/ceiling", justify="right")
    for clients in result.options.clients:
        cells = [f"{clients:,}"]
        rates: dict[str, float] = {}
        for target in SCALING_TARGETS:
            point = result.scaling_point(target, clients)
            if point is None:
                cells += ["-", "-"]
                continue
            rates[target] = point.ops_per_second
            cells += [f"{point.ops_per_second:,.0f}", f"{_us(point.p50_us)} / {_us(point.p99_us)}"]
        for other in ("lock", "ceiling"):
            if rates.get(other) and "engine" in rates:
                cells.append(f"{rates['engine'] / rates[other]:.2f}x")
            else:
                cells.append("-")
        scaling.add_row(*cells)

    growth = Table(
        title="cost growth: p50 per op (one client) at each store size", box=box.SIMPLE_HEAVY
    )
    growth.add_column("target")
    growth.add_column("op")
    for size in result.options.records:
        growth.add_column(f"{size:,}", justify="right")
    growth.add_column("largest / smallest", justify="right")
    for target in (*result.options.targets, *result.options.redis_targets):
        for op in GROWTH_OPS:
            cells = [target, op]
            values: list[float | None] = []
            for size in result.options.records:
                grown = result.growth_point(target, size, op)
                if grown is None:
                    cells.append("-")
                    values.append(None)
                elif grown.status == "ok":
                    cells.append(_us(grown.p50_us))
                    values.append(grown.p50_us)
                else:
                    cells.append(grown.status.split(":")[0])
                    values.append(None)
            first, last = values[0], values[-1]
            cells.append(f"{last / first:.2f}x" if first and last else "-")
            growth.add_row(*cells)
        growth.add_section()

    notes = Table(box=box.SIMPLE, show_header=False, title="why a cell is not a number")
    notes.add_column("target")
    notes.add_column("note")
    seen: set[tuple[str, str]] = set()
    for row in result.growth:
        if row.status != "ok":
            key = (row.target, row.status)
            if key not in seen:
                seen.add(key)
                notes.add_row(f"{row.target} {row.op} @ {row.records:,}", row.status)

    goals = Table(title="goals (ratios from this run)", box=box.SIMPLE_HEAVY)
    goals.add_column("goal")
    goals.add_column("value", justify="right")
    goals.add_column("wanted", justify="right")
    goals.add_column("met", justify="center")
    for goal in result.goals:
        value = "-" if goal.measured is None else f"{goal.measured:,.3g}"
        met = {True: "yes", False: "NO", None: "-"}[goal.met]
        goals.add_row(goal.name, value, goal.threshold, met)

    parts: list[Table] = [scaling, growth] if result.scaling else [growth]
    if result.options.redis_targets and result.scaling:
        parts.insert(1, redis_scaling_table(result))
    if result.pipelined:
        pipelined = Table(
            title=(
                f"pipelined: mem.pipeline() of {result.options.pipeline_depth} ops, "
                f"median of {result.options.repeats} x {result.options.duration:g} s"
            ),
            box=box.SIMPLE_HEAVY,
        )
        for column in ("ops", "clients", "ops/s", "pipeline p50 / p99"):
            pipelined.add_column(column, justify="left" if column == "ops" else "right")
        for point in result.pipelined:
            pipelined.add_row(
                point.target,
                f"{point.clients:,}",
                f"{point.ops_per_second:,.0f}",
                f"{_us(point.p50_us)} / {_us(point.p99_us)}",
            )
        parts.insert(1, pipelined)
    if seen:
        parts.append(notes)
    if result.memory:
        memory = Table(title="memory (tracemalloc)", box=box.SIMPLE, show_header=False)
        memory.add_column("what")
        memory.add_column("value", justify="right")
        m = result.memory
        memory.add_row("records", f"{m['records']:,}")
        memory.add_row("bytes per record", f"{m['bytes_per_record']:,.0f}")
        memory.add_row("beyond payload", f"{m['overhead_bytes_per_record']:,.0f}")
        parts.append(memory)
    parts.append(goals)
    return Group(*parts)


def write_micro_json(result: MicroResult, path: Path | str) -> None:
    """Write ``result.to_dict()`` to ``path`` (parent folders created).

    Raises:
        OSError: if the file cannot be written.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")


def write_micro_plots(result: MicroResult, folder: Path | str) -> list[Path]:
    """Log-log PNG plots in ``folder``: scaling (ops/s, p99) and cost growth per op.

    Returns:
        The files written.

    Raises:
        ImportError: if matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for target in result.options.scaling_targets:
        points = [p for p in result.scaling if p.target == target]
        xs = [p.clients for p in points]
        left.plot(xs, [p.ops_per_second for p in points], marker="o", label=target)
        right.plot(xs, [p.p99_us / 1000 for p in points], marker="o", label=target)
    left.set(xscale="log", yscale="log", xlabel="concurrent clients", ylabel="ops/s")
    right.set(xscale="log", yscale="log", xlabel="concurrent clients", ylabel="p99 (ms)")
    left.set_title("throughput")
    right.set_title("p99 latency")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.tight_layout()
    path = out / "micro-scaling.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for axis, op in zip(axes.flat, GROWTH_OPS, strict=True):
        for index, target in enumerate(result.options.targets):
            pts = [
                (p.records, p.p50_us)
                for p in result.growth
                if p.target == target and p.op == op and p.status == "ok" and p.p50_us
            ]
            if pts:  # one color per target across all panels
                axis.plot(*zip(*pts, strict=True), marker="o", label=target, color=f"C{index}")
        axis.set(xscale="log", yscale="log", xlabel="stored records", ylabel="p50 (µs)")
        axis.set_title(op)
        axis.grid(True, which="both", alpha=0.3)
        if axis.has_data():
            axis.legend(fontsize="small")
    fig.tight_layout()
    path = out / "micro-growth.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    return written


def build_comparison_table(results: Mapping[str, BenchResult | str]) -> Table:
    """One table comparing replays of several targets against the engine's.

    Args:
        results: By target name, in display order: a :class:`BenchResult`, or the one-line
            reason it was skipped. ``"engine"`` should be among them for the ratios.

    Each target's ops/s counts only the operations it performs (see
    ``PEER_OPERATIONS``); p99 is the worst per-operation p99 among them. The ratio is
    the engine's ops/s over the target's.
    """
    table = Table(title="shardmem bench: targets compared on the same replay", box=box.SIMPLE_HEAVY)
    for heading in ("target", "ops", "ops/s", "p99 (worst op)", "engine / target", "ops run"):
        table.add_column(heading, justify="left" if heading in ("target", "ops run") else "right")

    def performed(name: str, result: BenchResult) -> list[OpLatency]:
        ran = PEER_OPERATIONS.get(name, frozenset(OPERATIONS))
        return [op for op in result.ops if op.op in ran]

    def rate(name: str, result: BenchResult) -> float:
        return result.ops_per_second(sum(op.count for op in performed(name, result)))

    engine = results.get("engine")
    engine_rate = rate("engine", engine) if isinstance(engine, BenchResult) else None
    for name, result in results.items():
        if isinstance(result, str):
            table.add_row(name, "-", "-", "-", "-", f"skipped: {result}")
            continue
        ops = performed(name, result)
        target_rate = rate(name, result)
        worst = max((op.p99_us for op in ops), default=0)
        ran = PEER_OPERATIONS.get(name)
        ratio = f"{engine_rate / target_rate:.2f}x" if engine_rate and target_rate else "-"
        table.add_row(
            name,
            f"{sum(op.count for op in ops):,}",
            f"{target_rate:,.0f}",
            _us(worst),
            ratio,
            _ops_run(ran),
        )
    return table


#: Columns the wide tables get when stdout is not a terminal (a log, a pipe, a file):
#: rich's default of 80 would truncate the scaling table's headers.
REPORT_WIDTH = 150


def report_console() -> Console:
    """A console on stdout: the terminal's width, or :data:`REPORT_WIDTH` columns when
    stdout is not a terminal (``$COLUMNS`` still wins when set)."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=REPORT_WIDTH)
    return console


def render_micro(result: MicroResult, console: Console) -> None:
    """Print the micro tables on ``console``."""
    console.print(build_micro_tables(result))


def _ops_run(ran: frozenset[str] | None) -> str:
    if ran is None or ran >= set(OPERATIONS):
        return "all"
    missing = [op for op in OPERATIONS if op not in ran]
    if len(missing) <= 2:
        return "all but " + ", ".join(missing)
    return ", ".join(op for op in OPERATIONS if op in ran)
