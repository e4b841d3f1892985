"""One ``shardmem bench`` run: load the corpus, open the target, replay, measure."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Sequence
from typing import Any

import trio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench._measure._environment import directory_bytes, filesystem_type, machine, now_iso
from bench._measure._latency import LatencyRecorder
from bench._measure._monitor import GcPauses, LoopLagMonitor, peak_rss_bytes
from bench._replay._dataset import Conversation, default_dataset_path, load_chitchat
from bench._replay._results import (
    BenchOptions,
    BenchResult,
    DatasetInfo,
    DurabilityInfo,
    ProcessInfo,
)
from bench._replay._workload import WorkloadConfig, WorkloadTally, run_agents
from bench._targets._protocol import OPERATIONS, WRITE_OPERATIONS, PipelinedTarget
from bench._targets._registry import TARGETS, TargetFactory

__all__ = ["run_bench"]

_PROGRESS_INTERVAL = 0.1  # seconds between progress-bar refreshes


def run_bench(options: BenchOptions, *, console: Console | None = None) -> BenchResult:
    """Run the ChitChat replay described by ``options`` (blocking: runs its own trio loop).

    Args:
        options: What to run; see :class:`BenchOptions`.
        console: Where the progress bar goes (default: stderr). Ignored without
            ``options.progress``.

    Returns:
        The measurements.

    Raises:
        bench.DatasetError: if the corpus cannot be loaded.
        KeyError: if ``options.target`` is not a known target.
        Exception: whatever the target raised during the replay (the run stops).
    """
    factory = TARGETS[options.target]
    started_at = now_iso()
    load_start = time.perf_counter()
    path = options.dataset if options.dataset is not None else str(default_dataset_path())
    conversations = load_chitchat(path, limit=options.limit)
    load_seconds = time.perf_counter() - load_start
    dataset = DatasetInfo(
        path=path,
        conversations=len(conversations),
        turns=sum(len(c.turns) for c in conversations),
        messages=sum(c.message_count for c in conversations),
        users=len({turn.sender for c in conversations for turn in c.turns}),
        load_seconds=load_seconds,
    )
    order = list(conversations)
    random.Random(options.seed).shuffle(order)
    config = WorkloadConfig(
        agents=options.agents,
        working_ttl=options.working_ttl,
        memory_every=options.memory_every,
        pipeline=options.pipeline,
    )
    environment = machine(started_at=started_at)
    if options.data_dir is not None:
        environment["filesystem"] = filesystem_type(options.data_dir)
    # The corpus is the benchmark's baggage, not the target's: move it out of the
    # collector's sight so full collections measure the store's own objects.
    gc.collect()
    gc.freeze()
    try:
        return trio.run(_replay, factory, options, dataset, environment, order, config, console)
    finally:
        gc.unfreeze()


async def _replay(
    factory: TargetFactory,
    options: BenchOptions,
    dataset: DatasetInfo,
    environment: dict[str, Any],
    conversations: Sequence[Conversation],
    config: WorkloadConfig,
    console: Console | None,
) -> BenchResult:
    recorder = LatencyRecorder()
    tally = WorkloadTally()
    lag = LoopLagMonitor()
    async with factory(options) as target:
        async with trio.open_nursery() as helpers:
            await helpers.start(lag.run)
            if options.progress:
                await helpers.start(_show_progress, tally, dataset.turns, console)
            with GcPauses() as pauses:
                start = time.perf_counter()
                await run_agents(target, conversations, config, recorder, tally)
                wall = time.perf_counter() - start
            helpers.cancel_scope.cancel()
        refresh = getattr(target, "refresh_counts", None)
        if refresh is not None:  # a server-backed target reads its counts (untimed)
            await refresh()
        store = target.counts()
        details = target.details()
        close_start = time.perf_counter()
    close_seconds = time.perf_counter() - close_start
    durability = None
    if options.data_dir is not None:
        durability = DurabilityInfo(
            data_dir=options.data_dir,
            fsync=str(options.fsync),
            writes=sum(recorder.count(op) for op in WRITE_OPERATIONS),
            close_seconds=close_seconds,
            data_dir_bytes=directory_bytes(options.data_dir),
        )
    return BenchResult(
        options=options,
        dataset=dataset,
        wall_seconds=wall,
        ops=recorder.summary(OPERATIONS),
        history_messages=tally.history_messages,
        memory_hits=tally.memory_hits,
        store=store,
        process=ProcessInfo(
            peak_rss_bytes=peak_rss_bytes(),
            max_loop_lag_seconds=lag.max_lag,
            gc_collections=pauses.collections,
            gc_full_collections=pauses.full_collections,
            gc_max_pause_seconds=pauses.max_pause,
            gc_total_pause_seconds=pauses.total_pause,
        ),
        target_details=details,
        environment=environment,
        durability=durability,
        pipelined=config.pipeline and isinstance(target, PipelinedTarget),
    )


async def _show_progress(
    tally: WorkloadTally,
    total_turns: int,
    console: Console | None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Refresh a progress bar of turns replayed until cancelled (no thread involved)."""
    progress = Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("turns"),
        TimeElapsedColumn(),
        console=console if console is not None else Console(stderr=True),
        auto_refresh=False,
    )
    bar = progress.add_task("turns", total=total_turns)
    with progress:
        task_status.started()
        try:
            while True:
                progress.update(bar, completed=tally.turns, refresh=True)
                await trio.sleep(_PROGRESS_INTERVAL)
        finally:
            progress.update(bar, completed=tally.turns, refresh=True)
