"""Command-line glue for the open loop (``shardmem bench --rate R`` / ``--sweep``) and for
``shardmem bench compare A.json B.json``; called by ``bench._cli._replay``."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

import attrs
from rich.console import Console

from bench._cli._args import positive_int, positive_number, positive_seconds
from bench._cli._data_dir import check_output
from bench._compare._model import CompareError, pair_rows, read_run
from bench._compare._report import build_compare_table
from bench._load._model import UNITS, LoadOptions, Sweep, parse_sweep
from bench._load._report import build_load_tables, write_load_json, write_load_plot
from bench._load._run import run_load
from bench._load._schedule import ARRIVALS
from bench._micro._report import report_console
from bench._replay._dataset import DatasetError
from bench._replay._results import BenchOptions

__all__ = ["add_compare_parser", "add_load_options", "is_open_loop", "run_load_command"]

_LATENCY = re.compile(r"^\s*(?P<number>[0-9.eE+-]+)\s*(?P<unit>s|ms|us|µs)?\s*$")
_SCALE = {None: 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
#: The open-loop options other than ``--rate``/``--sweep``, with their defaults (those of
#: :class:`LoadOptions`, and ``--plot``).
_LOAD_ONLY: dict[str, Any] = {
    **{
        field.name: field.default
        for field in attrs.fields(LoadOptions)
        if field.name in ("p99_max", "duration", "arrival", "unit", "max_in_flight", "drain")
    },
    "plot": None,
}


def latency_bound(text: str) -> float:
    """A latency > 0 in seconds, or with a unit: ``0.005``, ``5ms``, ``500us``."""
    match = _LATENCY.match(text)
    try:
        value = float(match["number"]) * _SCALE[match["unit"]] if match else None
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a latency > 0 like 0.005, 5ms or 500us, got {text!r}"
        )
    return value


def _sweep(text: str) -> Sweep:
    try:
        return parse_sweep(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_load_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--rate``, ``--sweep`` and the open-loop options to the ``bench`` parser."""
    group = parser.add_argument_group(
        "open loop (requests arrive at a set rate; latency from each one's intended start)"
    )
    chosen = group.add_mutually_exclusive_group()
    chosen.add_argument(
        "--rate",
        type=positive_number,
        default=None,
        metavar="R",
        help="arrivals per second (turns, or operations with --unit op): an open-loop run",
    )
    chosen.add_argument(
        "--sweep",
        type=_sweep,
        default=None,
        metavar="START:STOP[:STEP]",
        help="search the highest rate whose p99 stays within --p99-max: START, START+STEP, "
        "... or, without STEP, doubling from START then bisecting",
    )
    group.add_argument(
        "--p99-max",
        type=latency_bound,
        default=None,
        metavar="LATENCY",
        help="the p99 bound a rate must keep to pass (e.g. 10ms); required with --sweep",
    )
    group.add_argument(
        "--duration",
        type=positive_seconds,
        default=_LOAD_ONLY["duration"],
        metavar="SECONDS",
        help=f"seconds of arrivals per rate (default {_LOAD_ONLY['duration']:g})",
    )
    group.add_argument(
        "--arrival",
        choices=ARRIVALS,
        default=_LOAD_ONLY["arrival"],
        help="constant gaps (as wrk2) or Poisson arrivals (default constant)",
    )
    group.add_argument(
        "--unit",
        choices=UNITS,
        default=_LOAD_ONLY["unit"],
        help="an arrival is one turn (its reads, then its writes) or one operation (default turn)",
    )
    group.add_argument(
        "--max-in-flight",
        type=positive_int,
        default=_LOAD_ONLY["max_in_flight"],
        metavar="N",
        help=f"requests that may run at once (default {_LOAD_ONLY['max_in_flight']:,})",
    )
    group.add_argument(
        "--drain",
        type=positive_seconds,
        default=_LOAD_ONLY["drain"],
        metavar="SECONDS",
        help="after a rate's last arrival, how long to let the backlog finish before "
        f"counting it unfinished (default {_LOAD_ONLY['drain']:g})",
    )
    group.add_argument(
        "--plot",
        metavar="PNG",
        default=None,
        help="also write a latency-vs-throughput plot (PNG) to this file",
    )


def is_open_loop(args: argparse.Namespace) -> bool:
    """Whether the command asks for the open loop; an open-loop option without ``--rate``
    or ``--sweep`` exits 2 (through ``args.parser.error``)."""
    if args.rate is not None or args.sweep is not None:
        if args.sweep is not None and args.p99_max is None:
            args.parser.error("argument --sweep: needs --p99-max, the bound to search under")
        if args.sweep is not None and args.data_dir is not None:
            args.parser.error("argument --data-dir: not with --sweep (each rate opens a new store)")
        return True
    for name, default in _LOAD_ONLY.items():
        if getattr(args, name) != default:
            option = "--" + name.replace("_", "-")
            args.parser.error(f"argument {option}: only with --rate or --sweep")
    return False


def run_load_command(
    args: argparse.Namespace, bench: BenchOptions, targets: tuple[str, ...]
) -> int:
    """Run the open loop, print its tables, write ``--json`` and ``--plot``.

    Returns:
        0; 1 if the corpus cannot be loaded or a file cannot be written (one line on
        stderr); 130 on Ctrl-C.
    """
    if args.plot is not None:
        check_output(args.parser, args.plot)
    options = LoadOptions(
        bench=bench,
        targets=targets,
        rate=args.rate,
        sweep=args.sweep,
        p99_max=args.p99_max,
        duration=args.duration,
        arrival=args.arrival,
        unit=args.unit,
        max_in_flight=args.max_in_flight,
        drain=args.drain,
    )
    try:
        result = run_load(options, console=Console(stderr=True))
    except DatasetError as exc:
        print(f"shardmem bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("shardmem bench: interrupted", file=sys.stderr)
        return 130
    report_console().print(build_load_tables(result))
    try:
        if args.json is not None:
            write_load_json(result, args.json)
        if args.plot is not None:
            write_load_plot(result, args.plot)
    except OSError as exc:
        print(f"shardmem bench: error: cannot write: {exc}", file=sys.stderr)
        return 1
    return 0 if any(load.skipped is None for load in result.targets) else 1


def add_compare_parser(modes: argparse._SubParsersAction[Any]) -> None:
    """Add ``compare`` to the ``bench`` modes."""
    parser = modes.add_parser(
        "compare",
        help="ratios between two JSON results (per target and operation, or per rate)",
        description=(
            "Print, for each operation of each target (or each rate of an open-loop run), "
            "the throughput and p50/p99 latency of run A and run B and B's ratio to A. "
            "Two runs of one target each are compared whatever their targets."
        ),
    )
    parser.add_argument("a", metavar="A.json", help="the baseline (--json of shardmem bench)")
    parser.add_argument("b", metavar="B.json", help="the run compared with it")
    parser.set_defaults(handler=_run_compare, parser=parser)


def _run_compare(args: argparse.Namespace) -> int:
    try:
        a, b = read_run(args.a), read_run(args.b)
        pairs = pair_rows(a, b)
    except CompareError as exc:
        print(f"shardmem bench compare: error: {exc}", file=sys.stderr)
        return 1
    report_console().print(build_compare_table(a, b, pairs))
    return 0
