"""``shardmem bench durable``: what group commit buys, measured in one run.

N writers (trio tasks) each make acknowledged writes, one after the other, to a durable
engine: ``mem.working.store(<a new conversation id>, <payload>)``. Two variants run
back to back in the same process, each on a new, empty data directory and for the same
time budget:

- **group commit** — the engine's default: a shard serves every request queued when it
  wakes up, journals them with one ``write`` and (with ``fsync="always"``) one
  ``fsync``, then replies to all of them;
- **one fsync per write** — ``EngineConfig(max_batch=1)``: a shard serves one request
  per wake-up, so every write pays its own commit.

A variant stops issuing writes when its time budget (or its write cap) is spent; the
writes in flight then finish and count: every counted write was acknowledged, so it
was on disk (with ``always``) when its writer heard back. Throughput is acknowledged
writes over the variant's wall time (first write issued to last reply).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter, process_time
from typing import Any, Final

import attrs
import trio

from bench._measure._environment import directory_bytes, filesystem_type, load_average, machine
from bench._measure._latency import LatencyRecorder, OpLatency
from engine import EngineConfig, MemoryEngine, open_memory_engine

__all__ = [
    "DURABLE_SCHEMA",
    "GOAL_RATIO",
    "GOAL_WRITES_PER_SECOND",
    "DurableOptions",
    "DurableResult",
    "Goal",
    "VariantResult",
    "run_durable",
]

#: The ``"schema"`` value of ``shardmem bench durable --json``.
DURABLE_SCHEMA: Final = "shardmem.bench.durable/1"
#: Issue 4's goals, defined for ``fsync="always"`` and 100 writers.
GOAL_RATIO: Final = 10.0
GOAL_WRITES_PER_SECOND: Final = 20_000.0
_GOAL_FSYNC: Final = "always"
_GOAL_WRITERS: Final = 100

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
class Goal:
    """One of the issue's goals and whether this run met it.

    Attributes:
        name: What is measured, e.g. ``"group commit / one fsync per write"``.
        target: The goal (a ratio or writes per second).
        measured: This run's value.
        unit: ``"x"`` or ``"writes/s"``.
        applies: Whether the run used the goal's settings (``fsync="always"``, 100
            writers); the verdict of a run with other settings says nothing.
    """

    name: str
    target: float
    measured: float
    unit: str
    applies: bool

    @property
    def met(self) -> bool:
        """``measured >= target``."""
        return self.measured >= self.target

    @property
    def fraction(self) -> float:
        """``measured / target`` (1.0 = exactly met)."""
        return self.measured / self.target


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
        applies = self.options.fsync == _GOAL_FSYNC and self.options.writers == _GOAL_WRITERS
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


def run_durable(
    options: DurableOptions, *, announce: Callable[[str], object] | None = None
) -> DurableResult:
    """Measure both variants (blocking: runs its own trio loop per variant).

    Args:
        options: What to run.
        announce: Called with a one-line description before each variant starts
            (e.g. ``print`` to stderr); ``None``: silent.

    Returns:
        The measurements.

    Raises:
        OSError: if a data directory cannot be created or written.
        Exception: whatever the engine raised (the run stops).
    """
    with _parent_dir(options.data_dir) as parent:
        environment = _environment(parent)
        results = []
        for name, subdir, max_batch in VARIANTS:
            if announce is not None:
                announce(
                    f"{name}: {options.writers} writers, fsync {options.fsync}, "
                    f"{options.seconds:g} s..."
                )
            results.append(trio.run(_measure, options, name, parent / subdir, max_batch))
    group, single = results
    return DurableResult(options=options, group=group, single=single, environment=environment)


@contextmanager
def _parent_dir(data_dir: str | None) -> Iterator[Path]:
    if data_dir is not None:
        yield Path(data_dir)
        return
    with tempfile.TemporaryDirectory(prefix="shardmem-durable-") as temporary:
        yield Path(temporary)


def _environment(parent: Path) -> dict[str, Any]:
    load = load_average()
    environment = machine()
    started_at = environment.pop("started_at")
    environment["load_average_1m"] = None if load is None else load[0]
    environment["filesystem"] = filesystem_type(parent)
    environment["started_at"] = started_at
    return environment


@attrs.define(eq=False)
class _Budget:
    """Hands out write tickets until the deadline passes or the cap is reached."""

    deadline: float
    cap: float
    issued: int = 0

    def take(self) -> bool:
        if self.issued >= self.cap or perf_counter() >= self.deadline:
            return False
        self.issued += 1
        return True


async def _measure(
    options: DurableOptions, name: str, data_dir: Path, max_batch: int | None
) -> VariantResult:
    config = EngineConfig(shards=options.shards, fsync=options.fsync, max_batch=max_batch)
    recorder = LatencyRecorder()
    payload = ("shardmem durable bench " * (options.value_bytes // 23 + 1))[: options.value_bytes]
    async with open_memory_engine(config=config, data_dir=data_dir) as mem:
        before = mem.statistics()
        cap = float("inf") if options.writes is None else options.writes
        cpu_start = process_time()
        start = perf_counter()
        budget = _Budget(deadline=start + options.seconds, cap=cap)
        async with trio.open_nursery() as nursery:
            for writer in range(options.writers):
                nursery.start_soon(_writer, mem, writer, payload, budget, recorder)
        wall = perf_counter() - start
        cpu = process_time() - cpu_start
        after = mem.statistics()
        close_start = perf_counter()
    close_seconds = perf_counter() - close_start
    (latency,) = recorder.summary() or (_empty_latency(),)
    return VariantResult(
        name=name,
        max_batch=max_batch,
        data_dir=str(data_dir),
        writes=budget.issued,
        wall_seconds=wall,
        latency=latency,
        requests=after.requests - before.requests,
        commits=sum(s.batches for s in after.shards) - sum(s.batches for s in before.shards),
        close_seconds=close_seconds,
        data_dir_bytes=directory_bytes(data_dir),
        cpu_seconds=cpu,
    )


async def _writer(
    mem: MemoryEngine, writer: int, payload: str, budget: _Budget, recorder: LatencyRecorder
) -> None:
    """One writer: acknowledged writes one after the other, each to a new id."""
    index = 0
    while budget.take():
        key = f"durable-{writer:05d}-{index:09d}"
        start = perf_counter()
        await mem.working.store(key, payload)
        recorder.record("write", perf_counter() - start)
        index += 1


def _empty_latency() -> OpLatency:
    return OpLatency(op="write", count=0, mean_us=0.0, p50_us=0, p95_us=0, p99_us=0, max_us=0)
