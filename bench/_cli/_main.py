"""The ``shardmem`` command line: ``shardmem bench|inspect|compact [options]``.

Each subcommand has an ``add_<name>_parser(subparsers)`` function that adds its parser and
sets ``handler`` (a function of the parsed namespace returning the exit status):
``inspect`` and ``compact`` in ``bench._cli._data_dir`` (base dependencies only),
``bench`` and its modes (``durable``, ``micro``, ``bridge``) in ``bench._cli._replay``,
imported only here, so that without the ``bench`` extra the ops commands still work and
``shardmem bench`` says what is missing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn

from bench._cli._data_dir import add_compact_parser, add_inspect_parser

__all__ = ["build_parser", "main"]

_Handler = Callable[[argparse.Namespace], int]

#: The modules of the ``bench`` extra (``pip install 'shardmem[bench]'``).
BENCH_EXTRAS: Final = frozenset({"rich", "hdrh", "chitchat", "matplotlib"})


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _add_bench_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``bench`` with its modes, or, without the bench extra, a ``bench`` that says so."""
    try:
        from bench._cli._replay import add_bench_parser
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in BENCH_EXTRAS:
            raise
        reason = f"No module named {missing!r}"
    else:
        add_bench_parser(subparsers)
        return
    parser = subparsers.add_parser(
        "bench",
        help="benchmarks (need the bench extra: pip install 'shardmem[bench]')",
        description="The benchmarks need the bench extra: pip install 'shardmem[bench]'.",
    )

    def unavailable(args: argparse.Namespace) -> int:
        print(
            "shardmem bench: error: needs the bench extra "
            f"(pip install 'shardmem[bench]'): {reason}",
            file=sys.stderr,
        )
        return 1

    # ``main`` lets this parser take any arguments: none of them can be checked.
    parser.set_defaults(handler=unavailable, parser=parser, any_arguments=True)


def build_parser() -> argparse.ArgumentParser:
    """The ``shardmem`` parser with all subcommands."""
    parser = _Parser(
        prog="shardmem", description="shardmem: an in-memory memory engine for AI agents"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    _add_bench_commands(subparsers)
    add_inspect_parser(subparsers)
    add_compact_parser(subparsers)
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
    args, unknown = parser.parse_known_args(arguments)
    if unknown and not getattr(args, "any_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")  # as parse_args does
    if args.command is None:
        parser.error("a command is required")
    mode = getattr(args, "mode", None)
    if mode is not None and arguments[1:2] != [mode]:
        # argparse would silently drop the replay's options given before the mode.
        args.parser.error(f"options of 'shardmem bench {mode}' go after '{mode}'")
    handler: _Handler = args.handler
    return handler(args)
