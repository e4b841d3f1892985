"""The ``shardmem`` command line: ``shardmem bench [options]``.

Each subcommand has an ``_add_<name>(subparsers)`` function that adds its parser and sets
``handler`` (a function of the parsed namespace returning the exit status).
``shardmem inspect DIR`` and ``shardmem compact DIR`` will be added the same way;
``shardmem bench micro`` as a subparser of ``bench`` whose absence means the replay.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from bench._dataset import DatasetError
from bench._report import render_report, write_json
from bench._results import BenchOptions
from bench._runner import TARGETS, run_bench

__all__ = ["build_parser", "main"]

_Handler = Callable[[argparse.Namespace], int]


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
        "--target",
        choices=sorted(TARGETS),
        default=defaults.target,
        help=f"store under test (default {defaults.target})",
    )
    parser.add_argument(
        "--dataset",
        metavar="PATH",
        default=None,
        help="corpus JSON file (default: dataset.json of the chitchat-dataset package)",
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    parser.set_defaults(handler=_run_bench, parser=parser)


def _check_output(parser: argparse.ArgumentParser, path: str) -> None:
    """Fail now, not after the run, if ``path`` cannot be written."""
    target = Path(path)
    if target.is_dir():
        parser.error(f"argument --json: {path!r} is a directory")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        parser.error(f"argument --json: cannot write in {str(folder)!r}")


def _run_bench(args: argparse.Namespace) -> int:
    if args.json is not None:
        _check_output(args.parser, args.json)
    options = BenchOptions(
        target=args.target,
        agents=args.agents,
        shards=args.shards,
        limit=args.limit,
        seed=args.seed,
        working_ttl=args.working_ttl,
        memory_every=args.memory_every,
        dataset=args.dataset,
        progress=not args.no_progress,
    )
    try:
        result = run_bench(options, console=Console(stderr=True))
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``shardmem`` command line.

    Args:
        argv: The arguments (without the program name); ``None`` for ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 1 if the run failed (e.g. the corpus cannot be
        loaded; one line on stderr), 130 if interrupted with Ctrl-C.

    Raises:
        SystemExit: with status 2 for a missing command or a bad option or value (one
            line on stderr), or 0 after ``--help``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("a command is required")
    handler: _Handler = args.handler
    return handler(args)
