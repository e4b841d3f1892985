"""One open-loop run: load the corpus, then per target and per rate of the sweep (or the
one rate) open a fresh store, create the sessions and measure, one rate after another."""

from __future__ import annotations

import gc
import random
from collections.abc import Sequence

import attrs
import trio
from rich.console import Console

from bench._load._model import LoadOptions, LoadPoint, LoadResult, TargetLoad
from bench._load._open_loop import run_open_loop
from bench._load._requests import LoadDeck, create_sessions
from bench._measure._environment import machine, now_iso
from bench._measure._format import format_latency
from bench._measure._latency import LatencyRecorder
from bench._measure._monitor import GcPauses
from bench._replay._dataset import Conversation, default_dataset_path, load_chitchat
from bench._replay._workload import WorkloadConfig
from bench._targets._peers import PeerUnavailable
from bench._targets._protocol import OPERATIONS
from bench._targets._registry import TARGETS

__all__ = ["WARMUP_ARRIVALS", "run_load"]

#: Arrivals played one after another on a throwaway store before a target's first rate.
WARMUP_ARRIVALS = 200


def run_load(options: LoadOptions, *, console: Console | None = None) -> LoadResult:
    """Run the open-loop benchmark described by ``options`` (blocking: one trio run per
    target).

    A target whose package is missing is recorded as skipped with its reason.

    Args:
        options: What to run; ``options.rate`` or ``options.sweep`` must be set.
        console: Where each rate's one-line progress goes (default: stderr).

    Returns:
        The measurements, per target.

    Raises:
        bench.DatasetError: if the corpus cannot be loaded.
        ValueError: if neither a rate nor a sweep is given, or the corpus has no turn.
        Exception: whatever a target raised (the run stops).
    """
    if options.rate is None and options.sweep is None:
        raise ValueError("expected a rate or a sweep, got neither")
    out = console if console is not None else Console(stderr=True)
    bench = options.bench
    path = bench.dataset if bench.dataset is not None else str(default_dataset_path())
    conversations = load_chitchat(path, limit=bench.limit)
    order = list(conversations)
    random.Random(bench.seed).shuffle(order)
    config = WorkloadConfig(
        working_ttl=bench.working_ttl, memory_every=bench.memory_every, pipeline=bench.pipeline
    )
    environment = machine(started_at=now_iso())
    loads: list[TargetLoad] = []
    deck = LoadDeck.deal(order, config, unit=options.unit)
    gc.collect()
    gc.freeze()  # the corpus and the deck are the benchmark's baggage, not the target's
    try:
        for name in options.targets:
            try:
                points = trio.run(_load_target, name, options, order, config, deck, out)
            except PeerUnavailable as exc:
                out.print(f"shardmem bench: skipped {name}: {exc}")
                loads.append(TargetLoad(target=name, skipped=str(exc)))
                continue
            loads.append(TargetLoad(target=name, points=points))
    finally:
        gc.unfreeze()
    return LoadResult(
        options=options,
        targets=tuple(loads),
        environment=environment,
        conversations=len(order),
        turns=sum(len(c.turns) for c in order),
    )


async def _load_target(
    name: str,
    options: LoadOptions,
    conversations: Sequence[Conversation],
    config: WorkloadConfig,
    deck: LoadDeck,
    out: Console,
) -> tuple[LoadPoint, ...]:
    bound = None if options.p99_max is None else options.p99_max * 1e6
    points: list[LoadPoint] = []
    history: list[tuple[float, bool]] = []
    # Warm-up, untimed, on a store of its own (in memory: the data directory, if any, is
    # for the measured run): the first calls of a target pay for lazy imports and caches,
    # which must not land in the first rate's tail.
    in_memory = attrs.evolve(options.bench, data_dir=None, fsync=None)
    async with TARGETS[name](in_memory) as target:
        await create_sessions(target, conversations, config)
        warm = deck.request(target, config, LatencyRecorder())
        for index in range(min(WARMUP_ARRIVALS, len(deck.turns))):
            await warm(index)
    while True:
        if options.sweep is None:
            rate = options.rate if not history else None
        else:
            rate = options.sweep.next_rate(history)
        if rate is None:
            break
        # A fresh store per rate: every rate starts from the same state, so the order in
        # which a sweep visits rates does not change what each one measures.
        gc.collect()  # the previous rate's store is garbage now: collect it untimed
        service = LatencyRecorder()
        async with TARGETS[name](options.bench) as target:
            await create_sessions(target, conversations, config)
            with GcPauses() as pauses:
                point = await run_open_loop(
                    deck.request(target, config, service),
                    rate=rate,
                    duration=options.duration,
                    arrival=options.arrival,
                    seed=options.bench.seed,
                    max_in_flight=options.max_in_flight,
                    drain=options.drain,
                )
        point = attrs.evolve(
            point,
            gc_full_collections=pauses.full_collections,
            gc_max_pause_us=pauses.max_pause * 1e6,
            service_by_operation={op.op: op for op in service.summary(OPERATIONS)},
        )
        points.append(point)
        history.append((rate, point.passes(bound)))
        verdict = "" if bound is None else (" pass" if history[-1][1] else " FAIL")
        out.print(
            f"{name}: {rate:,.0f}/s offered, {point.achieved:,.0f}/s done, "
            f"p99 {format_latency(point.latency.p99_us)}"
            + (f", {point.unfinished:,} unfinished" if point.unfinished else "")
            + verdict
        )
    return tuple(points)
