"""``shardmem bench``: the replay's parser and handler, ``--target a,b,c`` comparisons,
and the ``bench`` modes (``durable``, ``micro``, ``bridge``) hung under it.

Importing this module imports the bench extras (rich, hdrhistogram, chitchat); the command
line imports it only to build the ``bench`` parser.
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

from bench._cli._args import (
    FSYNC_POLICIES,
    add_redis_url_options,
    integer,
    parse_targets,
    positive_int,
    positive_seconds,
)
from bench._cli._bridge import add_bridge_parser
from bench._cli._data_dir import check_output, prepare_new_data_dir
from bench._cli._durable import add_durable_parser
from bench._cli._load import add_compare_parser, add_load_options, is_open_loop, run_load_command
from bench._cli._memory import add_memory_parser
from bench._cli._micro import add_micro_parser
from bench._micro._report import build_comparison_table, report_console
from bench._replay._dataset import DatasetError
from bench._replay._report import render_report, write_json
from bench._replay._results import BenchOptions, BenchResult
from bench._replay._runner import run_bench
from bench._targets._peers import PeerUnavailable
from bench._targets._registry import TARGETS

__all__ = ["add_bench_parser", "run_comparison", "write_comparison_json"]


def add_bench_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``bench`` (the replay) and its modes ``durable``, ``micro`` and ``bridge``."""
    defaults = BenchOptions()
    parser = subparsers.add_parser(
        "bench",
        help="replay the ChitChat corpus as concurrent agents and report latencies",
        description=(
            "Replay the ChitChat corpus (7,168 conversations, 138,737 turns) as concurrent "
            "agents against a memory store, then print throughput and latency percentiles "
            "per operation."
        ),
    )
    parser.add_argument(
        "--agents",
        type=positive_int,
        default=defaults.agents,
        metavar="N",
        help=f"concurrent agents (default {defaults.agents})",
    )
    parser.add_argument(
        "--shards",
        type=positive_int,
        default=defaults.shards,
        metavar="N",
        help=f"engine shards (default {defaults.shards})",
    )
    parser.add_argument(
        "--limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="replay only the first N conversations of the corpus (default: all)",
    )
    parser.add_argument(
        "--seed",
        type=integer,
        default=defaults.seed,
        help=f"seed of the order conversations are dealt to agents (default {defaults.seed})",
    )
    parser.add_argument(
        "--working-ttl",
        type=positive_seconds,
        default=defaults.working_ttl,
        metavar="SECONDS",
        help=f"working-memory TTL in seconds (default {defaults.working_ttl})",
    )
    parser.add_argument(
        "--memory-every",
        type=positive_int,
        default=defaults.memory_every,
        metavar="N",
        help=f"upsert a user memory every N turns (default {defaults.memory_every})",
    )
    parser.add_argument(
        "--no-pipeline",
        dest="pipeline",
        action="store_false",
        help=(
            "one awaited call per operation; by default a turn's reads, and its writes, "
            "go as one batch each to targets that have one (engine: mem.pipeline(), "
            "lock: one acquisition)"
        ),
    )
    parser.add_argument(
        "--target",
        type=lambda text: parse_targets(text, sorted(TARGETS)),
        default=(defaults.target,),
        metavar="A,B,...",
        help=(
            f"store(s) under test, comma-separated, from {','.join(sorted(TARGETS))} "
            f"(default {defaults.target}); several print one comparison table"
        ),
    )
    parser.add_argument(
        "--dataset",
        metavar="PATH",
        default=None,
        help="corpus JSON file (default: dataset.json of the chitchat-dataset package)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="run the engine durable, journaling into DIR (new or empty; see --fresh)",
    )
    parser.add_argument(
        "--fsync",
        choices=FSYNC_POLICIES,
        default=None,
        help="with --data-dir: when the journal is fsynced (default everysec)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="with --data-dir: first delete the shardmem files a previous run left in DIR",
    )
    add_redis_url_options(parser)
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    add_load_options(parser)
    parser.set_defaults(handler=_run_bench, parser=parser)
    modes = parser.add_subparsers(
        title="modes (default: the ChitChat replay)", metavar="MODE", dest="mode"
    )
    add_durable_parser(modes)
    add_micro_parser(modes)
    add_bridge_parser(modes)
    add_compare_parser(modes)
    add_memory_parser(modes)


def _run_comparison(
    args: argparse.Namespace, options: BenchOptions, targets: tuple[str, ...]
) -> int:
    """``--target a,b,c``: the same replay against each target, one comparison table."""
    try:
        results = run_comparison(options, targets, console=report_console())
    except DatasetError as exc:
        print(f"shardmem bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("shardmem bench: interrupted", file=sys.stderr)
        return 130
    if args.json is not None:
        try:
            write_comparison_json(results, args.json)
        except OSError as exc:
            print(f"shardmem bench: error: cannot write {args.json}: {exc}", file=sys.stderr)
            return 1
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    open_loop = is_open_loop(args)
    if args.json is not None:
        check_output(args.parser, args.json)
    fsync = args.fsync
    if args.data_dir is None:
        for name, given in (("--fsync", args.fsync is not None), ("--fresh", args.fresh)):
            if given:
                args.parser.error(f"argument {name}: only with --data-dir")
    else:
        fsync = fsync or "everysec"
        status = prepare_new_data_dir("bench", args.data_dir, fresh=args.fresh)
        if status:
            return status
    targets: tuple[str, ...] = args.target
    if args.data_dir is not None and targets != ("engine",):
        args.parser.error("argument --data-dir: only with --target engine")
    options = BenchOptions(
        target=targets[0],
        agents=args.agents,
        shards=args.shards,
        limit=args.limit,
        seed=args.seed,
        working_ttl=args.working_ttl,
        memory_every=args.memory_every,
        pipeline=args.pipeline,
        dataset=args.dataset,
        progress=not args.no_progress,
        data_dir=args.data_dir,
        fsync=fsync,
        redis_url=args.redis_url,
        redis_cluster_url=args.redis_cluster_url,
    )
    if open_loop:
        return run_load_command(args, options, targets)
    if len(targets) > 1:
        return _run_comparison(args, options, targets)
    try:
        result = run_bench(options, console=Console(stderr=True))
    except PeerUnavailable as exc:
        print(f"shardmem bench: skipped {targets[0]}: {exc}", file=sys.stderr)
        return 1
    except DatasetError as exc:
        print(f"shardmem bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("shardmem bench: interrupted", file=sys.stderr)
        return 130
    render_report(result, Console())
    if args.json is not None:
        try:
            write_json(result, args.json)
        except OSError as exc:
            print(
                f"shardmem bench: error: cannot write {args.json}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
    return 0


def run_comparison(
    options: BenchOptions, targets: Sequence[str], *, console: Console | None = None
) -> dict[str, BenchResult | str]:
    """Run the same replay against each target in turn and print one comparison table.

    A target whose package is missing is skipped with its one-line reason (never faked).
    Every name must be in ``bench._targets._registry.TARGETS``.

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
