"""The ``shardmem`` command line: ``shardmem bench|inspect|compact [options]``.

Each subcommand has an ``_add_<name>(subparsers)`` function that adds its parser and sets
``handler`` (a function of the parsed namespace returning the exit status).
``shardmem bench durable`` is a subparser of ``bench`` whose absence means the replay
(``shardmem bench micro`` will be added the same way). The handlers of ``inspect``,
``compact`` and ``bench durable`` live in ``bench._cli._data_dir``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

from rich.console import Console

from bench._bridge._run import add_bridge_parser
from bench._cli._data_dir import (
    check_output,
    prepare_new_data_dir,
    run_bench_durable,
    run_compact,
    run_inspect,
)
from bench._cli._micro import (
    add_micro_parser,
    parse_targets,
    run_comparison,
    write_comparison_json,
)
from bench._durable._run import DurableOptions
from bench._micro._report import report_console
from bench._replay._dataset import DatasetError
from bench._replay._report import render_report, write_json
from bench._replay._results import BenchOptions
from bench._replay._runner import run_bench
from bench._targets._peer_targets import PeerUnavailable
from bench._targets._redis import add_redis_url_options
from bench._targets._registry import TARGETS

__all__ = ["build_parser", "main"]

_Handler = Callable[[argparse.Namespace], int]

FSYNC_POLICIES: Final = ("always", "everysec", "no")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds > 0, got {text!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _add_bench(subparsers: argparse._SubParsersAction[_Parser]) -> None:
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
        type=_positive_int,
        default=defaults.agents,
        metavar="N",
        help=f"concurrent agents (default {defaults.agents})",
    )
    parser.add_argument(
        "--shards",
        type=_positive_int,
        default=defaults.shards,
        metavar="N",
        help=f"engine shards (default {defaults.shards})",
    )
    parser.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="replay only the first N conversations of the corpus (default: all)",
    )
    parser.add_argument(
        "--seed",
        type=_integer,
        default=defaults.seed,
        help=f"seed of the order conversations are dealt to agents (default {defaults.seed})",
    )
    parser.add_argument(
        "--working-ttl",
        type=_positive_seconds,
        default=defaults.working_ttl,
        metavar="SECONDS",
        help=f"working-memory TTL in seconds (default {defaults.working_ttl})",
    )
    parser.add_argument(
        "--memory-every",
        type=_positive_int,
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
    parser.set_defaults(handler=_run_bench, parser=parser)
    modes = parser.add_subparsers(
        title="modes (default: the ChitChat replay)", metavar="MODE", dest="mode"
    )
    _add_bench_durable(modes)
    add_micro_parser(modes)
    add_bridge_parser(modes)


def _add_bench_durable(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    defaults = DurableOptions()
    parser = subparsers.add_parser(
        "durable",
        help="measure group commit: acknowledged writes/s with and without it",
        description=(
            "N concurrent writers make acknowledged writes to a durable engine, twice in "
            "the same run: (a) with group commit (the default), (b) with max_batch=1 "
            "(one fsync per write). Reports writes/s of both, the ratio (a)/(b), "
            "fsyncs per write and latency percentiles."
        ),
    )
    parser.add_argument(
        "--writers",
        type=_positive_int,
        default=defaults.writers,
        metavar="N",
        help=f"concurrent writers (default {defaults.writers})",
    )
    parser.add_argument(
        "--seconds",
        type=_positive_seconds,
        default=defaults.seconds,
        metavar="SECONDS",
        help=f"time budget of each variant (default {defaults.seconds:g})",
    )
    parser.add_argument(
        "--writes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="also stop each variant after N writes (default: the time budget only)",
    )
    parser.add_argument(
        "--fsync",
        choices=FSYNC_POLICIES,
        default=defaults.fsync,
        help=f"when the journal is fsynced (default {defaults.fsync})",
    )
    parser.add_argument(
        "--shards",
        type=_positive_int,
        default=defaults.shards,
        metavar="N",
        help=f"engine shards (default {defaults.shards})",
    )
    parser.add_argument(
        "--value-bytes",
        type=_positive_int,
        default=defaults.value_bytes,
        metavar="N",
        help=f"payload size of each write (default {defaults.value_bytes})",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help=(
            "keep the variants' data directories in DIR/group-commit and "
            "DIR/one-fsync-per-write (default: temporary directories, deleted)"
        ),
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="with --data-dir: first delete what a previous run left there",
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    parser.add_argument(
        "--no-progress", action="store_true", help="do not announce each variant on stderr"
    )
    parser.set_defaults(handler=run_bench_durable, parser=parser)


def _add_inspect(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="report what a durable engine's data directory holds (read-only)",
        description=(
            "Recover every shard of a data directory in memory, without changing it, and "
            "print per shard and in total: live records, snapshot and journal sizes, "
            "journal entries to replay, the last sequence number and torn bytes."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="a data directory")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write it as JSON")
    parser.set_defaults(handler=run_inspect, parser=parser)


def _add_compact(subparsers: argparse._SubParsersAction[_Parser]) -> None:
    parser = subparsers.add_parser(
        "compact",
        help="compact every shard's journal of a data directory into a snapshot",
        description=(
            "Open a durable engine on DIR, compact every shard (snapshot, then drop the "
            "replayed journal segments), close it, and print the directory's report. "
            "The directory must not be in use by a running engine."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="a data directory")
    parser.add_argument(
        "--shards",
        type=_positive_int,
        default=None,
        metavar="N",
        help="re-shard to N shards first (default: keep the directory's count)",
    )
    parser.add_argument(
        "--json", metavar="PATH", default=None, help="also write the before/after reports"
    )
    parser.set_defaults(handler=run_compact, parser=parser)


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


def build_parser() -> argparse.ArgumentParser:
    """The ``shardmem`` parser with all subcommands."""
    parser = _Parser(
        prog="shardmem", description="shardmem: an in-memory memory engine for AI agents"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    _add_bench(subparsers)
    _add_inspect(subparsers)
    _add_compact(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``shardmem`` command line.

    Args:
        argv: The arguments (without the program name); ``None`` for ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success; 1 if the run failed (e.g. the corpus cannot be
        loaded, a data directory is corrupt or in use; one line on stderr); 2 if a data
        directory cannot be used as asked (missing, not a data directory, or not empty
        for a new run; one line on stderr); 130 if interrupted with Ctrl-C.

    Raises:
        SystemExit: with status 2 for a missing command or a bad option or value (one
            line on stderr), or 0 after ``--help``.
    """
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.error("a command is required")
    mode = getattr(args, "mode", None)
    if mode is not None and arguments[1:2] != [mode]:
        # argparse would silently drop the replay's options given before the mode.
        args.parser.error(f"options of 'shardmem bench {mode}' go after '{mode}'")
    handler: _Handler = args.handler
    return handler(args)
