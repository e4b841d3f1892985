"""Command-line glue for ``shardmem bench micro`` and ``shardmem bench --target a,b,c``.

``_cli.py`` calls :func:`add_micro_parser` to add the ``micro`` mode under ``bench``, and
:func:`run_comparison` / :func:`parse_targets` when ``--target`` names several stores.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from rich.console import Console

from bench._micro._model import MicroOptions
from bench._micro._report import (
    build_comparison_table,
    render_micro,
    report_console,
    write_micro_json,
    write_micro_plots,
)
from bench._micro._run import run_micro
from bench._replay._results import BenchOptions, BenchResult
from bench._targets._peer_targets import PeerUnavailable
from bench._targets._redis import REDIS_TARGETS, add_redis_url_options

__all__ = [
    "add_micro_parser",
    "parse_targets",
    "run_bench_micro",
    "run_comparison",
    "write_comparison_json",
]


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part.replace("_", "")) for part in text.split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 1,10,100, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected integers >= 1, got {text!r}")
    return values


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def parse_targets(text: str, known: Sequence[str]) -> tuple[str, ...]:
    """``"engine,lock,agno"`` -> ``("engine", "lock", "agno")``, each checked against
    ``known``; raises :class:`argparse.ArgumentTypeError` for an unknown or repeated name."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected one or more targets, e.g. engine,lock")
    for name in names:
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown target {name!r} (choose from {', '.join(sorted(known))})"
            )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a target is repeated in {text!r}")
    return names


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
        type=_int_list,
        default=defaults.clients,
        metavar="N,N,...",
        help="client counts (default 1,10,100,1000,10000)",
    )
    parser.add_argument(
        "--records",
        type=_int_list,
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
        type=_seconds,
        default=defaults.duration,
        metavar="SECONDS",
        help=f"length of each scaling run (default {defaults.duration:g})",
    )
    parser.add_argument(
        "--repeats",
        type=_positive,
        default=defaults.repeats,
        metavar="N",
        help=f"runs per scaling point, median reported (default {defaults.repeats})",
    )
    parser.add_argument(
        "--samples",
        type=_positive,
        default=defaults.samples,
        metavar="N",
        help=f"calls per growth op and size (default {defaults.samples})",
    )
    parser.add_argument(
        "--load-budget",
        type=_seconds,
        default=defaults.load_budget,
        metavar="SECONDS",
        help=f"time a target may take to load one size (default {defaults.load_budget:g})",
    )
    parser.add_argument(
        "--memory-records",
        type=_count,
        default=defaults.memory_records,
        metavar="N",
        help=f"records for the tracemalloc measurement, 0 to skip (default "
        f"{defaults.memory_records})",
    )
    parser.add_argument(
        "--pipeline-depth",
        type=_count,
        default=defaults.pipeline_depth,
        metavar="N",
        help=f"operations per pipeline in the pipelined experiment, 0 to skip (default "
        f"{defaults.pipeline_depth})",
    )
    parser.add_argument(
        "--pipeline-clients",
        type=_positive,
        default=defaults.pipeline_clients,
        metavar="N",
        help=f"clients of the pipelined experiment (default {defaults.pipeline_clients})",
    )
    parser.add_argument(
        "--shards", type=_positive, default=defaults.shards, metavar="N", help="engine shards"
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


def run_comparison(
    options: BenchOptions, targets: Sequence[str], *, console: Console | None = None
) -> dict[str, BenchResult | str]:
    """Run the same replay against each target in turn and print one comparison table.

    A target whose package is missing is skipped with its one-line reason (never faked).
    ``TARGETS`` must hold every name (see ``bench._targets._peer_targets.register_peer_targets``).

    Returns:
        By target, in the given order: its result, or the reason it was skipped.
    """
    from bench._replay._runner import run_bench

    out = console if console is not None else report_console()
    results: dict[str, BenchResult | str] = {}
    for name in targets:
        try:
            results[name] = run_bench(
                attrs.evolve(options, target=name), console=Console(stderr=True)
            )
        except PeerUnavailable as exc:
            results[name] = str(exc)
            print(f"shardmem bench: skipped {name}: {exc}", file=sys.stderr)
    out.print(build_comparison_table(results))
    return results


def write_comparison_json(results: Mapping[str, BenchResult | str], path: Path | str) -> None:
    """Write a comparison run as JSON: ``{"schema", "targets": {name: result or skip}}``.

    Each ran target holds its ``BenchResult.to_dict()``; a skipped one ``{"skipped":
    reason}``. Raises ``OSError`` if the file cannot be written.
    """
    document = {
        "schema": "shardmem.bench.compare/1",
        "targets": {
            name: {"skipped": result} if isinstance(result, str) else result.to_dict()
            for name, result in results.items()
        },
    }
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
