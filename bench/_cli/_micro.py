"""Command-line glue for ``shardmem bench micro``: :func:`add_micro_parser` adds the
``micro`` mode under ``bench`` (called by ``bench._cli._replay``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench._cli._args import (
    add_redis_url_options,
    count,
    int_list,
    parse_targets,
    positive_int,
    positive_seconds,
)
from bench._micro._model import MicroOptions
from bench._micro._report import (
    render_micro,
    report_console,
    write_micro_json,
    write_micro_plots,
)
from bench._micro._run import run_micro
from bench._targets._redis import REDIS_TARGETS

__all__ = ["add_micro_parser", "run_bench_micro"]


def add_micro_parser(modes: argparse._SubParsersAction[Any]) -> None:
    """Add ``micro`` to the ``bench`` modes; its handler is :func:`run_bench_micro`."""
    defaults = MicroOptions()
    parser = modes.add_parser(
        "micro",
        help="single-op scaling (1..10,000 clients) and cost growth (10k..1M records)",
        description=(
            "Single-operation throughput and p50/p99 at each client count for the engine, "
            "a trio.Lock store with the same indexes, and a one-checkpoint-per-op ceiling "
            "(medians of repeated runs); then the cost of get, upsert, listing a user's "
            "sessions, recent-N, memory search and expiry at each store size, for the "
            "engine and each installed peer; memory per record (tracemalloc); the goals."
        ),
    )
    parser.add_argument(
        "--clients",
        type=int_list,
        default=defaults.clients,
        metavar="N,N,...",
        help="client counts (default 1,10,100,1000,10000)",
    )
    parser.add_argument(
        "--records",
        type=int_list,
        default=defaults.records,
        metavar="N,N,...",
        help="store sizes of the cost-growth experiment (default 10000,100000,1000000)",
    )
    parser.add_argument(
        "--targets",
        default=",".join(defaults.targets),
        metavar="A,B,...",
        help=f"cost-growth targets (default {','.join(defaults.targets)})",
    )
    parser.add_argument(
        "--duration",
        type=positive_seconds,
        default=defaults.duration,
        metavar="SECONDS",
        help=f"length of each scaling run (default {defaults.duration:g})",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=defaults.repeats,
        metavar="N",
        help=f"runs per scaling point, median reported (default {defaults.repeats})",
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=defaults.samples,
        metavar="N",
        help=f"calls per growth op and size (default {defaults.samples})",
    )
    parser.add_argument(
        "--load-budget",
        type=positive_seconds,
        default=defaults.load_budget,
        metavar="SECONDS",
        help=f"time a target may take to load one size (default {defaults.load_budget:g})",
    )
    parser.add_argument(
        "--memory-records",
        type=count,
        default=defaults.memory_records,
        metavar="N",
        help=f"records for the tracemalloc measurement, 0 to skip (default "
        f"{defaults.memory_records})",
    )
    parser.add_argument(
        "--pipeline-depth",
        type=count,
        default=defaults.pipeline_depth,
        metavar="N",
        help=f"operations per pipeline in the pipelined experiment, 0 to skip (default "
        f"{defaults.pipeline_depth})",
    )
    parser.add_argument(
        "--pipeline-clients",
        type=positive_int,
        default=defaults.pipeline_clients,
        metavar="N",
        help=f"clients of the pipelined experiment (default {defaults.pipeline_clients})",
    )
    parser.add_argument(
        "--shards", type=positive_int, default=defaults.shards, metavar="N", help="engine shards"
    )
    parser.add_argument(
        "--redis-targets",
        type=lambda text: parse_targets(text, tuple(REDIS_TARGETS)),
        default=(),
        metavar="A,B,...",
        help=f"also measure these Redis targets in both experiments, from "
        f"{','.join(REDIS_TARGETS)} (skipped when their server is unreachable)",
    )
    add_redis_url_options(parser)
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    parser.add_argument(
        "--plot", metavar="DIR", default=None, help="also write log-log PNG plots into DIR"
    )
    parser.add_argument("--no-progress", action="store_true", help="do not announce each step")
    parser.set_defaults(handler=run_bench_micro, parser=parser)


def run_bench_micro(args: argparse.Namespace) -> int:
    """The ``shardmem bench micro`` handler: run, print tables, write JSON and plots.

    Returns:
        0, 1 if the JSON or plots cannot be written (one line on stderr), 130 on Ctrl-C.
    """
    targets = tuple(t for t in args.targets.split(",") if t)
    options = MicroOptions(
        clients=args.clients,
        records=args.records,
        targets=targets,
        duration=args.duration,
        repeats=args.repeats,
        samples=args.samples,
        load_budget=args.load_budget,
        memory_records=args.memory_records,
        pipeline_depth=args.pipeline_depth,
        pipeline_clients=args.pipeline_clients,
        shards=args.shards,
        redis_targets=args.redis_targets,
        redis_url=args.redis_url,
        redis_cluster_url=args.redis_cluster_url,
    )
    progress = None if args.no_progress else _announce
    try:
        result = run_micro(options, progress=progress)
    except KeyboardInterrupt:
        print("shardmem bench micro: interrupted", file=sys.stderr)
        return 130
    render_micro(result, report_console())
    try:
        if args.json is not None:
            write_micro_json(result, args.json)
        if args.plot is not None:
            write_micro_plots(result, args.plot)
    except (OSError, ImportError) as exc:
        print(f"shardmem bench micro: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _announce(line: str) -> None:
    print(f"shardmem bench micro: {line}", file=sys.stderr, flush=True)
