"""``shardmem bench bridge``: its parser and handler."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import attrs
from rich.console import Console

from bench._bridge._run import DESCRIPTION, BridgeOptions, report_bridge, run_bridge
from bench._cli._args import positive_int, positive_seconds

__all__ = ["add_bridge_parser", "run_bench_bridge"]


def run_bench_bridge(args: argparse.Namespace) -> int:
    """The handler of ``shardmem bench bridge``: measure, print, optionally write JSON."""
    options = BridgeOptions(
        duration=args.duration,
        repeats=args.repeats,
        threads=args.threads,
        tasks=args.tasks,
        shards=args.shards,
        calls=args.calls,
    )
    figures = run_bridge(options)
    report_bridge(figures, options, Console())
    if args.json is not None:
        Path(args.json).write_text(
            json.dumps({"options": attrs.asdict(options), "figures": figures}, indent=2) + "\n"
        )
    return 0


def add_bridge_parser(modes: argparse._SubParsersAction[Any]) -> None:
    """Add ``bridge`` to the ``bench`` modes; its handler is :func:`run_bench_bridge`."""
    defaults = BridgeOptions()
    parser = modes.add_parser(
        "bridge",
        help="the blocking and asyncio facades against the native trio API",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for name, kind, default, help_text in (
        ("--duration", positive_seconds, defaults.duration, "seconds per throughput run"),
        ("--repeats", positive_int, defaults.repeats, "runs per throughput figure (median)"),
        ("--threads", positive_int, defaults.threads, "blocking threads"),
        ("--tasks", positive_int, defaults.tasks, "concurrent tasks (native trio and asyncio)"),
        ("--shards", positive_int, defaults.shards, "engine shards"),
        ("--calls", positive_int, defaults.calls, "sequential calls for the p50 figures"),
    ):
        parser.add_argument(
            name,
            type=kind,
            default=default,
            metavar="N",
            help=f"{help_text} (default {default:g})",
        )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write figures as JSON")
    parser.set_defaults(handler=run_bench_bridge, parser=parser)
