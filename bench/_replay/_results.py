"""The outcome of a benchmark run, as frozen values, and its JSON-safe form."""

from __future__ import annotations

from typing import Any, Final

import attrs

from bench._measure._latency import OpLatency
from bench._targets._protocol import PIPELINE_BATCHES, TargetCounts

__all__ = [
    "BenchOptions",
    "BenchResult",
    "DatasetInfo",
    "DurabilityInfo",
    "ProcessInfo",
    "RESULT_SCHEMA",
]

#: The ``"schema"`` value of the JSON document; bump it when keys change meaning.
RESULT_SCHEMA: Final = "shardmem.bench.chitchat/1"


@attrs.frozen(kw_only=True)
class BenchOptions:
    """The settings of one ``shardmem bench`` run (validated by the CLI).

    Attributes:
        target: The store under test (only ``"engine"`` so far).
        agents: Concurrent agents, >= 1.
        shards: Engine shards, >= 1.
        limit: Replay only the first ``limit`` conversations (file order); ``None``: all.
        seed: Seeds the order in which conversations are dealt to agents.
        working_ttl: Working-memory TTL, seconds (> 0).
        memory_every: A user memory every this many turns, >= 1.
        pipeline: Batch each turn's reads, and its writes, on targets that can
            (``bench.PipelinedTarget``); ``False``: one awaited call per operation.
        dataset: The corpus file; ``None`` for the one in ``chitchat-dataset``.
        progress: Show a progress bar (on stderr).
        data_dir: Run the engine durable, journaling into this (new or empty)
            directory; ``None``: in memory only.
        fsync: The journal's fsync policy with ``data_dir`` (``"always"``,
            ``"everysec"``, ``"no"``); ``None`` without ``data_dir``.
        redis_url: The server of the ``redis`` and ``redis-naive`` targets;
            ``None``: ``$SHARDMEM_REDIS_URL``, else ``redis://127.0.0.1:6379``.
        redis_cluster_url: A node of the ``redis-cluster`` target's cluster; ``None``:
            ``$SHARDMEM_REDIS_CLUSTER_URL``, else ``redis://127.0.0.1:6379``.
    """

    target: str = "engine"
    agents: int = 100
    shards: int = 4
    limit: int | None = None
    seed: int = 0
    working_ttl: float = 5.0
    memory_every: int = 4
    pipeline: bool = True
    dataset: str | None = None
    progress: bool = True
    data_dir: str | None = None
    fsync: str | None = None
    redis_url: str | None = None
    redis_cluster_url: str | None = None


@attrs.frozen(kw_only=True)
class DatasetInfo:
    """What was replayed.

    Attributes:
        path: The corpus file.
        conversations: Conversations replayed (= sessions).
        turns: Turns over those conversations (= runs).
        messages: Utterances over those turns (= stored messages).
        users: Distinct senders.
        load_seconds: Time to read and validate the file, seconds.
    """

    path: str
    conversations: int
    turns: int
    messages: int
    users: int
    load_seconds: float


@attrs.frozen(kw_only=True)
class ProcessInfo:
    """Process health during the replay.

    Attributes:
        peak_rss_bytes: Peak resident set size of the process (includes the corpus), bytes.
        max_loop_lag_seconds: Longest observed event-loop stall, seconds (see
            ``bench._measure._monitor.LoopLagMonitor``).
        gc_collections: Garbage collections during the replay (all generations).
        gc_full_collections: Generation-2 collections during the replay.
        gc_max_pause_seconds: Longest single collection, seconds.
        gc_total_pause_seconds: Time spent collecting, seconds.
    """

    peak_rss_bytes: int
    max_loop_lag_seconds: float
    gc_collections: int
    gc_full_collections: int
    gc_max_pause_seconds: float
    gc_total_pause_seconds: float


@attrs.frozen(kw_only=True)
class DurabilityInfo:
    """How a durable run (``--data-dir``) persisted its writes.

    Attributes:
        data_dir: The engine's data directory.
        fsync: The journal's fsync policy.
        writes: Acknowledged writes during the replay (every operation of
            :data:`bench.WRITE_OPERATIONS`); each was journaled before its reply.
        close_seconds: Time to close the target after the replay (final fsyncs and
            snapshot writes), seconds; not part of ``wall_seconds``.
        data_dir_bytes: Size of the data directory after the close, bytes.
    """

    data_dir: str
    fsync: str
    writes: int
    close_seconds: float
    data_dir_bytes: int


@attrs.frozen(kw_only=True)
class BenchResult:
    """Everything a run measured.

    Attributes:
        options: The run's settings.
        dataset: What was replayed.
        wall_seconds: Wall time of the replay (first call to last reply), seconds.
        ops: Latency per operation (in workload order).
        history_messages: Messages returned by all history reads.
        memory_hits: Memories returned by all searches.
        store: What the target held when the replay ended.
        process: Process health.
        target_details: Target-specific statistics (JSON-safe).
        environment: Python version, platform, CPU count, start time.
        durability: For a durable run, how it persisted; ``None`` otherwise.
        pipelined: Whether turns went as batches (``bench.PipelinedTarget`` with
            ``options.pipeline``): the operations of one batch of
            :data:`bench._targets._protocol.PIPELINE_BATCHES` then share each latency.
    """

    options: BenchOptions
    dataset: DatasetInfo
    wall_seconds: float
    ops: tuple[OpLatency, ...]
    history_messages: int
    memory_hits: int
    store: TargetCounts
    process: ProcessInfo
    target_details: dict[str, Any]
    environment: dict[str, Any]
    durability: DurabilityInfo | None = None
    pipelined: bool = False

    def batch_of(self, op: str) -> str | None:
        """The pipelined call ``op`` was timed in (``"read_turn"``, ``"write_turn"``), or
        ``None`` if it was timed alone."""
        if self.pipelined:
            for batch, ops in PIPELINE_BATCHES.items():
                if op in ops:
                    return batch
        return None

    @property
    def total_ops(self) -> int:
        """All calls of all operations."""
        return sum(op.count for op in self.ops)

    def ops_per_second(self, count: int) -> float:
        """``count`` calls over the replay's wall time, per second (0 if no time passed)."""
        return count / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form written by ``--json`` (keys carry their units)."""
        return {
            "schema": RESULT_SCHEMA,
            "target": self.options.target,
            "options": attrs.asdict(self.options),
            "environment": dict(self.environment),
            "dataset": attrs.asdict(self.dataset),
            "wall_seconds": self.wall_seconds,
            "total": {
                "ops": self.total_ops,
                "ops_per_second": self.ops_per_second(self.total_ops),
            },
            "pipeline_batches": {
                batch: [op for op in ops if any(o.op == op for o in self.ops)]
                for batch, ops in PIPELINE_BATCHES.items()
            }
            if self.pipelined
            else {},
            "ops": {
                op.op: {
                    "batch": self.batch_of(op.op),
                    "count": op.count,
                    "ops_per_second": self.ops_per_second(op.count),
                    "mean_us": op.mean_us,
                    "p50_us": op.p50_us,
                    "p95_us": op.p95_us,
                    "p99_us": op.p99_us,
                    "max_us": op.max_us,
                }
                for op in self.ops
            },
            "reads": {
                "history_messages": self.history_messages,
                "memory_hits": self.memory_hits,
            },
            "store": attrs.asdict(self.store),
            "process": attrs.asdict(self.process),
            "target_details": self.target_details,
            "durability": None
            if self.durability is None
            else {
                **attrs.asdict(self.durability),
                "writes_per_second": self.ops_per_second(self.durability.writes),
            },
        }
