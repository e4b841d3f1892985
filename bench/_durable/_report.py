"""``shardmem bench durable``'s report: the variants, the ratio, the goals."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Group
from rich.table import Table

from bench._durable._model import DurableResult
from bench._measure._format import format_bytes, format_latency
from bench._measure._goals import Goal

__all__ = ["durable_tables", "goal_verdict"]


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.1f}x"
    return f"{value:,.0f} {unit}"


def goal_verdict(goal: Goal) -> str:
    """E.g. ``"met: 24.1x (241% of the goal)"`` or ``"MISSED: 5.0x (50% of the goal)"``.

    Runs with other settings than the goal's say so; an unmeasured goal says ``"not measured"``.
    """
    if goal.measured is None or goal.fraction is None:
        return "not measured"
    verdict = "met" if goal.met else "MISSED"
    text = f"{verdict}: {_number(goal.measured, goal.unit)} ({goal.fraction:.0%} of the goal)"
    if not goal.applies:
        text += "; not the goal's settings (fsync always, 100 writers)"
    return text


def durable_tables(result: DurableResult) -> Group:
    """The report as rich renderables: one row per variant, then ratio, goals, setup."""
    options = result.options
    always = options.fsync == "always"
    variants = Table(
        title=(
            f"shardmem bench durable: {options.writers} writers, fsync {options.fsync}, "
            f"{options.shards} shards, {options.seconds:g} s per variant"
        ),
        box=box.SIMPLE_HEAVY,
        padding=0,
    )
    per = "fsync" if always else "commit"
    variants.add_column("variant", no_wrap=True)
    for heading in ("writes", "writes/s", f"{per}s\n/write", f"writes\n/{per}"):
        variants.add_column(heading, justify="right", no_wrap=True)
    for heading in ("p50", "p99", "max"):
        variants.add_column(heading, justify="right", no_wrap=True)
    for label, variant in zip(
        ("(a) group commit", "(b) max_batch=1"), result.variants, strict=True
    ):
        variants.add_row(
            label,
            f"{variant.writes:,}",
            f"{variant.writes_per_second:,.0f}",
            f"{variant.commits_per_write:.3f}",
            f"{variant.writes_per_commit:.1f}",
            format_latency(variant.latency.p50_us),
            format_latency(variant.latency.p99_us),
            format_latency(variant.latency.max_us),
        )

    summary = Table(box=box.SIMPLE, show_header=False)
    summary.add_column("what", no_wrap=True)
    summary.add_column("value")
    ratio, throughput = result.goals()
    environment = result.environment
    load = environment.get("load_average_1m")
    kept = options.data_dir is not None
    rows = [
        ("ratio (a)/(b)", f"{result.ratio:.1f}x"),
        ("goal: ratio >= 10x", goal_verdict(ratio)),
        ("goal: >= 20,000 writes/s", goal_verdict(throughput)),
        ("each write", f"mem.working.store(<new id>, <{options.value_bytes} B>)"),
        (
            "data dirs",
            str(options.data_dir) if kept else f"{Path(result.group.data_dir).parent} (deleted)",
        ),
        ("on disk at close", " / ".join(format_bytes(v.data_dir_bytes) for v in result.variants)),
        ("close", " / ".join(f"{v.close_seconds:.2f} s" for v in result.variants)),
        (
            "process CPU / wall",
            " / ".join(f"{v.cpu_share:.0%}" for v in result.variants),
        ),
        ("filesystem", str(environment.get("filesystem") or "unknown")),
        (
            "machine",
            f"{environment.get('cpus')} CPUs, load average "
            f"{'unknown' if load is None else f'{load:.2f}'} at start",
        ),
    ]
    if not always:
        rows.insert(3, ("note", "fsync is not per commit with this policy"))
    for what, value in rows:
        summary.add_row(what, value)
    return Group(variants, summary)
