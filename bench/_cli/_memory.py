"""``shardmem bench memory``: its parser and handler."""

from __future__ import annotations

import argparse
from typing import Any

from bench._cli._args import positive_int
from bench._cli._data_dir import check_output, run_reported, stderr_progress
from bench._memory._model import MemoryOptions
from bench._memory._report import memory_tables
from bench._memory._run import run_memory

__all__ = ["add_memory_parser", "run_bench_memory"]


def _counts(text: str) -> tuple[int, ...]:
    if text.strip() in ("", "0"):
        return ()
    try:
        counts = tuple(int(part.replace("_", "")) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected counts like 200000,1000000, got {text!r}"
        ) from None
    if any(count <= 0 for count in counts):
        raise argparse.ArgumentTypeError(f"expected positive counts, got {text!r}")
    return counts


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, got {text!r}")
    return value


def add_memory_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``memory`` to the ``bench`` modes; its handler is :func:`run_bench_memory`."""
    defaults = MemoryOptions()
    parser = subparsers.add_parser(
        "memory",
        help="what stored records cost the host: GC pauses, bytes per record, reopen time",
        description=(
            "Stores records of mixed kinds and measures: a full gc.collect() with "
            "--gc-records stored, bytes per record beyond payload (tracemalloc, "
            "--size-records), reopening durable data directories of --reopen-records "
            "from their journal and from their snapshot, and with --replay the longest "
            "GC pause during the ChitChat replay (wall and CPU time)."
        ),
    )
    parser.add_argument(
        "--gc-records",
        type=_count,
        default=defaults.gc_records,
        metavar="N",
        help=f"records stored for full collections, 0 to skip (default {defaults.gc_records:,})",
    )
    parser.add_argument(
        "--size-records",
        type=_count,
        default=defaults.size_records,
        metavar="N",
        help=f"records for tracemalloc, 0 to skip (default {defaults.size_records:,})",
    )
    parser.add_argument(
        "--reopen-records",
        type=_counts,
        default=defaults.reopen_records,
        metavar="N,N",
        help="data-directory sizes to reopen, 0 to skip (default 200000,1000000)",
    )
    parser.add_argument(
        "--replay", action="store_true", help="also measure the ChitChat replay's GC pauses"
    )
    parser.add_argument(
        "--shards",
        type=positive_int,
        default=defaults.shards,
        metavar="N",
        help=f"engine shards (default {defaults.shards})",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=defaults.repeats,
        metavar="N",
        help=f"timed full collections (default {defaults.repeats})",
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    parser.add_argument(
        "--no-progress", action="store_true", help="do not announce each step on stderr"
    )
    parser.set_defaults(handler=run_bench_memory, parser=parser)


def run_bench_memory(args: argparse.Namespace) -> int:
    """``shardmem bench memory [options]``."""
    command = "bench memory"
    if args.json is not None:
        check_output(args.parser, args.json)
    options = MemoryOptions(
        gc_records=args.gc_records,
        size_records=args.size_records,
        reopen_records=args.reopen_records,
        replay=args.replay,
        shards=args.shards,
        repeats=args.repeats,
    )
    say = stderr_progress(args.no_progress)
    return run_reported(
        command,
        lambda: run_memory(options, say=say),
        memory_tables,
        args.json,
    )
