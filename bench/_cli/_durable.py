"""``shardmem bench durable``: its parser and handler."""

from __future__ import annotations

import argparse
import os
from typing import Any

from bench._cli._args import FSYNC_POLICIES, positive_int, positive_seconds
from bench._cli._data_dir import check_output, prepare_new_data_dir, run_reported, stderr_progress
from bench._durable._model import DurableOptions
from bench._durable._report import durable_tables
from bench._durable._run import run_durable

__all__ = ["add_durable_parser", "run_bench_durable"]


def add_durable_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``durable`` to the ``bench`` modes; its handler is :func:`run_bench_durable`."""
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
        type=positive_int,
        default=defaults.writers,
        metavar="N",
        help=f"concurrent writers (default {defaults.writers})",
    )
    parser.add_argument(
        "--seconds",
        type=positive_seconds,
        default=defaults.seconds,
        metavar="SECONDS",
        help=f"time budget of each variant (default {defaults.seconds:g})",
    )
    parser.add_argument(
        "--writes",
        type=positive_int,
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
        type=positive_int,
        default=defaults.shards,
        metavar="N",
        help=f"engine shards (default {defaults.shards})",
    )
    parser.add_argument(
        "--value-bytes",
        type=positive_int,
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


def run_bench_durable(args: argparse.Namespace) -> int:
    """``shardmem bench durable [options]``."""
    command = "bench durable"
    if args.json is not None:
        check_output(args.parser, args.json)
    if args.data_dir is not None:
        for name in ("group-commit", "one-fsync-per-write"):
            status = prepare_new_data_dir(
                command, os.path.join(args.data_dir, name), fresh=args.fresh
            )
            if status:
                return status
    elif args.fresh:
        args.parser.error("argument --fresh: only with --data-dir")
    options = DurableOptions(
        writers=args.writers,
        seconds=args.seconds,
        writes=args.writes,
        fsync=args.fsync,
        shards=args.shards,
        value_bytes=args.value_bytes,
        data_dir=args.data_dir,
    )
    announce = stderr_progress(args.no_progress, "measuring ")
    return run_reported(
        command,
        lambda: run_durable(options, announce=announce),
        durable_tables,
        args.json,
    )
