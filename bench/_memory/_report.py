"""``shardmem bench memory``'s report: one table per measurement, then the goals."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table

from bench._memory._model import MemoryResult, memory_goals
from bench._memory._records import MIX

__all__ = ["memory_tables"]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def memory_tables(result: MemoryResult) -> Group:
    """The report as rich renderables."""
    parts: list[Table] = []
    measured = Table(title=f"shardmem bench memory ({MIX})", box=box.SIMPLE, show_header=False)
    measured.add_column("what")
    measured.add_column("value", justify="right")
    if result.gc is not None:
        g = result.gc
        measured.add_row("records stored", f"{g['records']:,}")
        measured.add_row("objects the GC tracks", f"{g['tracked_objects']:,}")
        measured.add_row(
            "full gc.collect(), median / max",
            f"{_ms(g['median_seconds'])} / {_ms(g['max_seconds'])}",
        )
        measured.add_row("full gc.collect(), median CPU", _ms(g["median_cpu_seconds"]))
    if result.size is not None:
        s = result.size
        measured.add_row("tracemalloc records", f"{s['records']:,}")
        measured.add_row("bytes per record", f"{s['bytes_per_record']:,.0f}")
        measured.add_row("payload bytes per record", f"{s['payload_bytes'] / s['records']:,.0f}")
        measured.add_row(
            "bytes per record beyond payload", f"{s['overhead_bytes_per_record']:,.0f}"
        )
    for r in result.reopen:
        measured.add_row(
            f"write {r['records']:,} records (durable, fsync no)", f"{r['write_seconds']:.2f} s"
        )
        measured.add_row(
            f"reopen {r['records']:,} from the journal", f"{r['journal_seconds']:.2f} s"
        )
        measured.add_row(
            f"reopen {r['records']:,} from the snapshot", f"{r['snapshot_seconds']:.2f} s"
        )
    if result.replay is not None:
        r = result.replay
        measured.add_row("ChitChat replay wall time", f"{r['wall_seconds']:.1f} s")
        measured.add_row("longest GC pause in the replay (wall)", _ms(r["max_gc_pause_seconds"]))
        measured.add_row("longest GC pause in the replay (CPU)", _ms(r["max_gc_cpu_seconds"]))
        measured.add_row(
            "GC in the replay",
            f"{r['gc_collections']:,} ({r['gc_full_collections']:,} full), "
            f"{r['gc_total_seconds']:.2f} s",
        )
    parts.append(measured)
    goals = Table(title="goals (issue 15)", box=box.SIMPLE_HEAVY)
    for heading in ("goal", "value", "wanted", "met"):
        goals.add_column(heading, justify="left" if heading == "goal" else "right")
    for goal in memory_goals(result):
        value = "-" if goal.measured is None else f"{goal.measured:,.3g}"
        goals.add_row(goal.name, value, goal.threshold, "yes" if goal.met else "NO")
    parts.append(goals)
    return Group(*parts)
