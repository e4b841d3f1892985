"""The outcome of ``shardmem bench durable`` as frozen values: options, variants, goals."""

from __future__ import annotations

from typing import Any, Final

import attrs

from bench._measure._goals import Goal
from bench._measure._latency import OpLatency

__all__ = [
    "DURABLE_SCHEMA",
    "GOAL_FSYNC",
    "GOAL_RATIO",
    "GOAL_WRITERS",
    "GOAL_WRITES_PER_SECOND",
    "VARIANTS",
    "DurableOptions",
    "DurableResult",
    "VariantResult",
]

#: The ``"schema"`` value of ``shardmem bench durable --json``.
DURABLE_SCHEMA: Final = "shardmem.bench.durable/1"
#: Issue 4's goals, defined for ``fsync="always"`` and 100 writers.
GOAL_RATIO: Final = 10.0
GOAL_WRITES_PER_SECOND: Final = 20_000.0
GOAL_FSYNC: Final = "always"
GOAL_WRITERS: Final = 100

#: The variants: (name, subdirectory, ``EngineConfig.max_batch``).
VARIANTS: Final = (
    ("group commit", "group-commit", None),
    ("one fsync per write", "one-fsync-per-write", 1),
)


@attrs.frozen(kw_only=True)
class DurableOptions:
    """The settings of one ``shardmem bench durable`` run (validated by the CLI).

    Attributes:
        writers: Concurrent writers (trio tasks), >= 1.
        seconds: Time budget of each variant, seconds (> 0).
        writes: Also stop a variant after this many writes (``None``: time only).
        fsync: The journal's fsync policy: ``"always"``, ``"everysec"`` or ``"no"``.
        shards: Engine shards, >= 1.
        value_bytes: Size of each write's payload (ASCII characters), >= 1.
        data_dir: Parent of the variants' data directories (kept after the run);
            ``None``: temporary directories, deleted after the run.
    """

    writers: int = 100
    seconds: float = 5.0
    writes: int | None = None
    fsync: str = "always"
    shards: int = 4
    value_bytes: int = 100
    data_dir: str | None = None


@attrs.frozen(kw_only=True)
class VariantResult:
    """One variant's measurements.

    Attributes:
        name: ``"group commit"`` or ``"one fsync per write"``.
        max_batch: The engine's ``max_batch`` (``None``: unbounded).
        data_dir: Where its data directory was.
        writes: Acknowledged writes.
        wall_seconds: First write issued to last reply, seconds.
        latency: Per-write latency as the writer saw it.
        requests: Requests the shards served during the measurement (= ``writes``).
        commits: Batches the shards served (one journal commit each; under
            ``fsync="always"`` one fsync each), from ``mem.statistics()``.
        close_seconds: Time to close the engine (final fsyncs, snapshot writes).
        data_dir_bytes: Size of the data directory after the close, bytes.
        cpu_seconds: CPU time of the process (all threads) during the measurement,
            seconds: close to ``wall_seconds`` means CPU-bound; far below it, waiting
            on fsyncs — or starved by other processes (compare the load average).
    """

    name: str
    max_batch: int | None
    data_dir: str
    writes: int
    wall_seconds: float
    latency: OpLatency
    requests: int
    commits: int
    close_seconds: float
    data_dir_bytes: int
    cpu_seconds: float

    @property
    def writes_per_second(self) -> float:
        """Acknowledged writes per second of wall time (0 if no time passed)."""
        return self.writes / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def cpu_share(self) -> float:
        """Process CPU time over wall time (1.0 = one CPU busy the whole time)."""
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def commits_per_write(self) -> float:
        """Journal commits per served request (1.0 without group commit)."""
        return self.commits / self.requests if self.requests else 0.0

    @property
    def writes_per_commit(self) -> float:
        """Mean group size: requests served per journal commit."""
        return self.requests / self.commits if self.commits else 0.0

    def to_dict(self, fsync: str) -> dict[str, Any]:
        """The JSON-safe form (keys carry their units)."""
        return {
            "name": self.name,
            "max_batch": self.max_batch,
            "data_dir": self.data_dir,
            "writes": self.writes,
            "wall_seconds": self.wall_seconds,
            "writes_per_second": self.writes_per_second,
            "commits": self.commits,
            "commits_per_write": self.commits_per_write,
            "writes_per_commit": self.writes_per_commit,
            "fsyncs_per_write": self.commits_per_write if fsync == "always" else None,
            "latency": {
                "mean_us": self.latency.mean_us,
                "p50_us": self.latency.p50_us,
                "p95_us": self.latency.p95_us,
                "p99_us": self.latency.p99_us,
                "max_us": self.latency.max_us,
            },
            "close_seconds": self.close_seconds,
            "data_dir_bytes": self.data_dir_bytes,
            "cpu_seconds": self.cpu_seconds,
        }


@attrs.frozen(kw_only=True)
class DurableResult:
    """Both variants of one run, and the environment.

    Attributes:
        options: The run's settings.
        group: The group-commit variant (a).
        single: The one-fsync-per-write variant (b).
        environment: Python, platform, CPUs, load average, filesystem, start time.
    """

    options: DurableOptions
    group: VariantResult
    single: VariantResult
    environment: dict[str, Any]

    @property
    def variants(self) -> tuple[VariantResult, VariantResult]:
        """``(group, single)``."""
        return (self.group, self.single)

    @property
    def ratio(self) -> float:
        """Throughput of (a) over (b) (``inf`` if (b) made no write)."""
        single = self.single.writes_per_second
        return self.group.writes_per_second / single if single > 0 else float("inf")

    def goals(self) -> tuple[Goal, Goal]:
        """The issue's two goals, checked against this run."""
        applies = self.options.fsync == GOAL_FSYNC and self.options.writers == GOAL_WRITERS
        return (
            Goal(
                name="group commit / one fsync per write",
                target=GOAL_RATIO,
                measured=self.ratio,
                unit="x",
                applies=applies,
            ),
            Goal(
                name="acknowledged writes/s with group commit",
                target=GOAL_WRITES_PER_SECOND,
                measured=self.group.writes_per_second,
                unit="writes/s",
                applies=applies,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form written by ``--json``."""
        fsync = self.options.fsync
        return {
            "schema": DURABLE_SCHEMA,
            "options": attrs.asdict(self.options),
            "environment": dict(self.environment),
            "variants": {
                "group_commit": self.group.to_dict(fsync),
                "one_fsync_per_write": self.single.to_dict(fsync),
            },
            "ratio": self.ratio,
            "goals": [
                {
                    "name": goal.name,
                    "target": goal.target,
                    "measured": goal.measured,
                    "unit": goal.unit,
                    "met": goal.met,
                    "applies": goal.applies,
                }
                for goal in self.goals()
            ],
        }
