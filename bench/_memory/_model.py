"""The options and results of ``shardmem bench memory`` (frozen values)."""

from __future__ import annotations

from typing import Any, Final

import attrs

from bench._measure._goals import Goal

__all__ = ["MEMORY_SCHEMA", "MemoryOptions", "MemoryResult", "memory_goals"]

#: The ``"schema"`` value of ``shardmem bench memory --json``.
MEMORY_SCHEMA: Final = "shardmem.bench.memory/1"


@attrs.frozen(kw_only=True)
class MemoryOptions:
    """The settings of one run (validated by the CLI).

    Attributes:
        gc_records: records stored before timing ``gc.collect()`` (0: skip).
        size_records: records for the ``tracemalloc`` measurement (0: skip).
        reopen_records: data-directory sizes to reopen, records (empty: skip).
        replay: also replay the ChitChat corpus and report its GC pauses.
        shards: engine shards.
        repeats: timed full collections (the median and the maximum are reported).
    """

    gc_records: int = 1_000_000
    size_records: int = 100_000
    reopen_records: tuple[int, ...] = (200_000, 1_000_000)
    replay: bool = False
    shards: int = 4
    repeats: int = 5


@attrs.frozen(kw_only=True)
class MemoryResult:
    """What one run measured (seconds, bytes; ``None`` where skipped).

    Attributes:
        gc: ``{"records", "tracked_objects", "median_seconds", "max_seconds",
            "median_cpu_seconds"}`` of full collections with the records stored.
        size: ``{"records", "traced_bytes", "payload_bytes", "bytes_per_record",
            "overhead_bytes_per_record"}``.
        reopen: per size, ``{"records", "journal_seconds", "snapshot_seconds",
            "write_seconds"}``.
        replay: ``{"wall_seconds", "max_gc_pause_seconds", "max_gc_cpu_seconds",
            "gc_collections", "gc_full_collections", "gc_total_seconds"}``.
        environment: the machine description.
    """

    options: MemoryOptions
    gc: dict[str, Any] | None
    size: dict[str, Any] | None
    reopen: tuple[dict[str, Any], ...]
    replay: dict[str, Any] | None
    environment: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``--json``)."""
        return {
            "schema": MEMORY_SCHEMA,
            "options": {
                **attrs.asdict(self.options),
                "reopen_records": list(self.options.reopen_records),
            },
            "gc": self.gc,
            "size": self.size,
            "reopen": list(self.reopen),
            "replay": self.replay,
            "goals": [goal.to_dict() for goal in memory_goals(self)],
            "environment": self.environment,
        }


def memory_goals(result: MemoryResult) -> list[Goal]:
    """Issue 15's goals, as far as this run measured them."""
    goals: list[Goal] = []
    if result.gc is not None:
        goals.append(
            Goal(
                name=f"full gc.collect() with {result.gc['records']:,} records (ms)",
                measured=result.gc["max_seconds"] * 1e3,
                target=50,
                at_least=False,
            )
        )
    if result.size is not None:
        goals.append(
            Goal(
                name="bytes per record beyond payload",
                measured=result.size["overhead_bytes_per_record"],
                target=400,
                at_least=False,
            )
        )
    for reopen in result.reopen:
        wanted = 2.0 if reopen["records"] <= 200_000 else 10.0
        for source in ("journal", "snapshot"):
            goals.append(
                Goal(
                    name=f"reopen {reopen['records']:,} records from the {source} (s)",
                    measured=reopen[f"{source}_seconds"],
                    target=wanted,
                    at_least=False,
                )
            )
    if result.replay is not None:
        goals.append(
            Goal(
                name="longest GC pause in the ChitChat replay, CPU (ms)",
                measured=result.replay["max_gc_cpu_seconds"] * 1e3,
                target=50,
                at_least=False,
            )
        )
    return goals
