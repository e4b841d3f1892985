"""Reporting a :class:`~bench.BenchResult`: a rich table on a console, or a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from rich import box
from rich.console import Console, Group
from rich.table import Table

from bench._measure._format import format_latency
from bench._replay._results import BenchResult

__all__ = ["build_tables", "render_report", "write_json"]

_MIB = 1024 * 1024


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def build_tables(result: BenchResult) -> Group:
    """The report as rich renderables: per-operation latencies, then the totals."""
    durability = result.durability
    ops = Table(
        title=(
            f"shardmem bench: {result.dataset.conversations:,} conversations, "
            f"{result.options.agents} agents, target {result.options.target} "
            f"({result.options.shards} shards"
            + ("" if durability is None else f", durable, fsync {durability.fsync}")
            + ")"
        ),
        box=box.SIMPLE_HEAVY,
    )
    ops.add_column("operation", no_wrap=True)
    for heading in ("ops", "ops/s", "p50", "p95", "p99", "max"):
        ops.add_column(heading, justify="right", no_wrap=True)
    if result.pipelined:
        ops.add_column("timed in", no_wrap=True)
        ops.caption = (
            "Operations timed in the same pipelined call (read_turn: a turn's reads, "
            "write_turn: its writes) share that call's latency; --no-pipeline times each alone."
        )
    for op in result.ops:
        batch = result.batch_of(op.op)
        ops.add_row(
            op.op,
            f"{op.count:,}",
            _rate(result.ops_per_second(op.count)),
            format_latency(op.p50_us),
            format_latency(op.p95_us),
            format_latency(op.p99_us),
            format_latency(op.max_us),
            *(() if not result.pipelined else (batch or "alone",)),
        )
    ops.add_section()
    ops.add_row(
        "total",
        f"{result.total_ops:,}",
        _rate(result.ops_per_second(result.total_ops)),
        style="bold",
    )

    totals = Table(box=box.SIMPLE, show_header=False)
    totals.add_column("what", no_wrap=True)
    totals.add_column("value", justify="right")
    store = result.store
    process = result.process
    dataset = result.dataset
    rows = [
        ("wall time", f"{result.wall_seconds:.2f} s"),
        ("total ops", f"{result.total_ops:,}"),
        ("total ops/s", _rate(result.ops_per_second(result.total_ops))),
        ("replayed", f"{dataset.turns:,} turns, {dataset.messages:,} messages"),
        ("records at end", f"{store.records:,}"),
        ("  sessions (runs)", f"{store.sessions:,} ({store.runs:,})"),
        ("  user memories", f"{store.memories:,}"),
        ("  working memory", f"{store.working:,}"),
        ("expired records", f"{store.expired:,}"),
        ("peak RSS", f"{process.peak_rss_bytes / _MIB:,.1f} MiB"),
        ("longest loop stall", format_latency(process.max_loop_lag_seconds * 1e6)),
        ("longest GC pause", format_latency(process.gc_max_pause_seconds * 1e6)),
        (
            "GC collections",
            f"{process.gc_collections:,} ({process.gc_full_collections:,} full), "
            f"{process.gc_total_pause_seconds:.2f} s",
        ),
        ("dataset load", f"{dataset.load_seconds:.2f} s"),
    ]
    if durability is not None:
        filesystem = result.environment.get("filesystem") or "unknown filesystem"
        rows[3:3] = [
            ("durable writes", f"{durability.writes:,}"),
            (
                "durable writes/s",
                f"{_rate(result.ops_per_second(durability.writes))} (fsync {durability.fsync})",
            ),
            ("data dir", f"{durability.data_dir} ({filesystem})"),
            (
                "engine close",
                f"{durability.close_seconds:.2f} s, "
                f"{durability.data_dir_bytes / _MIB:,.1f} MiB on disk",
            ),
        ]
    for what, value in rows:
        totals.add_row(what, value)
    return Group(ops, totals)


def render_report(result: BenchResult, console: Console) -> None:
    """Print the report tables on ``console``."""
    console.print(build_tables(result))


def write_json(result: BenchResult, path: Path | str) -> None:
    """Write ``result.to_dict()`` to ``path`` as indented JSON (parent folders created).

    Raises:
        OSError: if the file cannot be written.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.to_dict(), indent=2, sort_keys=False, default=str)
    file.write_text(text + "\n", encoding="utf-8")
