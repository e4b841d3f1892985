"""The outcome of ``shardmem bench micro`` as frozen values, and the goals checked on it."""

from __future__ import annotations

import random
from typing import Any, Final, Protocol

import attrs

from bench._measure._goals import Goal
from bench._targets._peers import PEERS

__all__ = [
    "GROWTH_OPS",
    "SESSIONS_PER_USER",
    "GrowthAdapter",
    "Layout",
    "Unsupported",
    "MICRO_SCHEMA",
    "PIPELINE_MIXES",
    "SCALING_TARGETS",
    "GrowthPoint",
    "MicroOptions",
    "MicroResult",
    "ScalingPoint",
    "check_goals",
]

MICRO_SCHEMA: Final = "shardmem.bench.micro/1"

#: The designs the scaling experiment compares.
SCALING_TARGETS: Final = ("engine", "lock", "ceiling")

#: The operation mixes of the pipelined experiment: gets only, and get/upsert 50:50.
PIPELINE_MIXES: Final = ("get", "get/upsert")


#: Sessions (and memories) per user in the synthetic records.
SESSIONS_PER_USER: Final = 20

GROWTH_OPS: Final = (
    "get",
    "upsert",
    "list_user_sessions",
    "recent",
    "search_memories",
    "expiry",
)


class Unsupported(Exception):
    """The store has no such operation (the message says why, one line)."""


@attrs.frozen
class Layout:
    """Which record index is what: even indexes sessions, odd ones memories.

    ``records // 2`` sessions and as many memories, ``SESSIONS_PER_USER`` of each per
    user. Session ``k`` is ``s{k}`` of user ``u{k % users}``; memory ``k`` is ``m{k}`` of
    the same user, with text drawn from a small vocabulary.
    """

    records: int

    @property
    def sessions(self) -> int:
        return max(1, self.records // 2)

    @property
    def users(self) -> int:
        return max(1, self.sessions // SESSIONS_PER_USER)


class GrowthAdapter(Protocol):
    """A store under the cost-growth experiment."""

    async def load(self, layout: Layout, index: int) -> int:
        """Store record ``index`` of ``layout``; return its payload in bytes (UTF-8)."""
        ...

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        """Run ``op`` once (sample ``n``); return its latencies in seconds.

        Raises:
            Unsupported: if the store has no such operation.
        """
        ...


@attrs.frozen(kw_only=True)
class MicroOptions:
    """Settings of one ``shardmem bench micro`` run.

    Attributes:
        clients: Concurrency levels of the scaling experiment.
        scaling_records: Sessions preloaded for the scaling experiment.
        duration: Seconds each scaling run lasts.
        repeats: Runs per scaling point; the median is reported.
        records: Store sizes of the cost-growth experiment.
        targets: Targets of the cost-growth experiment (``engine`` and peers).
        samples: Calls per operation and size (fewer if ``op_budget`` runs out).
        op_budget: Seconds one operation may take to be measured at one size.
        load_budget: Seconds a target may take to load one size; past it, it stops.
        memory_records: Records loaded for the per-record memory measurement (0: skip).
        pipeline_depth: Operations per ``mem.pipeline()`` in the pipelined experiment
            (0: skip it).
        pipeline_clients: Concurrent clients of the pipelined experiment.
        shards: Engine shards.
        seed: Seeds key choices.
        redis_targets: Redis targets (``redis``, ``redis-cluster``, ``redis-naive``)
            added to both experiments; one whose server is unreachable is skipped.
        redis_url, redis_cluster_url: Their servers (``None``: the environment's
            ``SHARDMEM_REDIS_URL`` / ``SHARDMEM_REDIS_CLUSTER_URL``, else
            ``redis://127.0.0.1:6379``).
    """

    clients: tuple[int, ...] = (1, 10, 100, 1_000, 10_000)
    scaling_records: int = 10_000
    duration: float = 1.0
    repeats: int = 3
    records: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    targets: tuple[str, ...] = ("engine", *PEERS)
    samples: int = 200
    op_budget: float = 5.0
    load_budget: float = 120.0
    memory_records: int = 100_000
    pipeline_depth: int = 100
    pipeline_clients: int = 10
    shards: int = 4
    seed: int = 0
    redis_targets: tuple[str, ...] = ()
    redis_url: str | None = None
    redis_cluster_url: str | None = None

    @property
    def scaling_targets(self) -> tuple[str, ...]:
        """The scaling experiment's targets: :data:`SCALING_TARGETS` + ``redis_targets``."""
        return (*SCALING_TARGETS, *self.redis_targets)

    def redis_url_of(self, target: str) -> str | None:
        """The URL option of a Redis target (``None``: its default)."""
        return self.redis_cluster_url if target == "redis-cluster" else self.redis_url


@attrs.frozen(kw_only=True)
class ScalingPoint:
    """One scaling measurement (medians over the repeats).

    Attributes:
        target: ``"engine"``, ``"lock"`` or ``"ceiling"``; in the pipelined experiment,
            the operation mix (one of :data:`PIPELINE_MIXES`).
        clients: Concurrent clients.
        ops_per_second: Median throughput over the repeats (operations, not pipelines).
        p50_us, p99_us, max_us: Latency of the median-throughput run, microseconds
            (of one pipeline, in the pipelined experiment).
        runs: Throughput of every repeat, in run order.
    """

    target: str
    clients: int
    ops_per_second: float
    p50_us: int
    p99_us: int
    max_us: int
    runs: tuple[float, ...]


@attrs.frozen(kw_only=True)
class GrowthPoint:
    """One operation of one target at one store size.

    Attributes:
        target: ``"engine"`` or a peer.
        records: The store size asked for.
        op: One of :data:`GROWTH_OPS`.
        status: ``"ok"``; ``"n/a: ..."`` (the peer has no such operation);
            ``"stopped: ..."`` (over the time budget); ``"skipped: ..."`` (not installed).
        samples: Calls measured.
        p50_us, p99_us: Latency, microseconds (``None`` unless measured).
    """

    target: str
    records: int
    op: str
    status: str
    samples: int = 0
    p50_us: float | None = None
    p99_us: float | None = None


@attrs.frozen(kw_only=True)
class MicroResult:
    """Everything ``shardmem bench micro`` measured."""

    options: MicroOptions
    scaling: tuple[ScalingPoint, ...]
    growth: tuple[GrowthPoint, ...]
    memory: dict[str, Any]
    goals: tuple[Goal, ...]
    environment: dict[str, Any]
    pipelined: tuple[ScalingPoint, ...] = ()

    def scaling_point(self, target: str, clients: int) -> ScalingPoint | None:
        """The scaling point of ``target`` at ``clients``, if measured."""
        for point in self.scaling:
            if point.target == target and point.clients == clients:
                return point
        return None

    def growth_point(self, target: str, records: int, op: str) -> GrowthPoint | None:
        """The growth point, if measured."""
        for point in self.growth:
            if (point.target, point.records, point.op) == (target, records, op):
                return point
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form written by ``--json``."""
        return {
            "schema": MICRO_SCHEMA,
            "options": attrs.asdict(self.options),
            "environment": dict(self.environment),
            "scaling": [attrs.asdict(p) for p in self.scaling],
            "growth": [attrs.asdict(p) for p in self.growth],
            "pipelined": [attrs.asdict(p) for p in self.pipelined],
            "memory": dict(self.memory),
            "goals": [
                {
                    "name": g.name,
                    "value": g.measured,
                    "threshold": g.threshold,
                    "passed": g.met,
                }
                for g in self.goals
            ],
        }


def check_goals(result: MicroResult) -> tuple[Goal, ...]:
    """The issue's goals, as ratios from this run (``met`` is ``None`` if unmeasured)."""
    goals: list[Goal] = []

    def rate(target: str, clients: int) -> float | None:
        point = result.scaling_point(target, clients)
        return None if point is None else point.ops_per_second

    def add(name: str, value: float | None, target: float, *, at_least: bool = True) -> None:
        goals.append(Goal(name=name, target=target, measured=value, at_least=at_least))

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else a / b

    engine_100 = rate("engine", 100)
    add("engine / lock at 100 clients", ratio(engine_100, rate("lock", 100)), 2.5)
    add(
        "engine / ceiling at 100 clients",
        ratio(engine_100, rate("ceiling", 100)),
        0.8,
    )
    add(
        "engine at 10,000 / at 100 clients",
        ratio(rate("engine", 10_000), engine_100),
        0.7,
    )
    point = result.scaling_point("engine", 10_000)
    add(
        "engine p99 at 10,000 clients (ms)",
        None if point is None else point.p99_us / 1000,
        50,
        at_least=False,
    )
    for point in result.pipelined:
        add(
            f"pipelined ops/s ({point.target}, {point.clients} clients x "
            f"{result.options.pipeline_depth} ops)",
            point.ops_per_second,
            1_000_000,
        )
    sizes = result.options.records
    if sizes:
        small, large = min(sizes), max(sizes)
        for op in GROWTH_OPS:
            a = result.growth_point("engine", large, op)
            b = result.growth_point("engine", small, op)
            value = None
            if a is not None and b is not None and a.p50_us and b.p50_us:
                value = a.p50_us / b.p50_us
            add(f"engine {op}: p50 at {large:,} / at {small:,}", value, 2, at_least=False)
    agno = result.growth_point("agno", 100_000, "list_user_sessions")
    engine = result.growth_point("engine", 100_000, "list_user_sessions")
    value = None
    if agno is not None and engine is not None and agno.p50_us and engine.p50_us:
        value = agno.p50_us / engine.p50_us
    add("list a user's sessions at 100,000: agno / engine", value, 1000)
    overhead = result.memory.get("overhead_bytes_per_record")
    add("engine bytes per record beyond payload", overhead, 250, at_least=False)
    return tuple(goals)
