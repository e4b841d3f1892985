"""``shardmem inspect`` and ``shardmem compact``, and the data-directory helpers of every command.

Base dependencies only: the report is a rich table when rich is installed (the ``bench``
extra), else the same columns as plain text.

Each takes the parsed arguments and returns the exit status. Errors are one line on
stderr, ``shardmem <command>: error: ...``:

- 2: the directory cannot be used as asked (missing, not a data directory, not empty);
- 1: the directory is damaged (``engine.JournalCorrupt``: the message names the file
  and offset), in use by a running engine, or an I/O error happened;
- 130: interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._cli._args import positive_int
from bench._cli._compact import compact_data_dir
from bench._cli._data_dirs import (
    DataDirRefused,
    check_data_dir,
    check_new_data_dir,
    empty_data_dir,
)
from bench._cli._inspect_report import inspect_table, inspect_text, inspect_to_dict, write_document
from engine import DataDirReport, JournalCorrupt, inspect_data_dir

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "add_compact_parser",
    "add_inspect_parser",
    "check_output",
    "guarded",
    "prepare_new_data_dir",
    "rich_stdout",
    "run_compact",
    "run_inspect",
    "write_json_document",
]


#: Width of tables written to a pipe or file (rich would use 80 columns and cut cells).
_PIPE_WIDTH = 100


def rich_stdout() -> Console:
    """The console for reports: the terminal's width, or at least ``_PIPE_WIDTH``
    columns when stdout is not a terminal (and ``COLUMNS`` is not set).

    Raises:
        ImportError: without rich (the ``bench`` extra).
    """
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, _PIPE_WIDTH)
    return console


def _print_report(report: DataDirReport, *, title: str | None = None) -> None:
    """The report as a rich table, or as plain text without rich."""
    try:
        console = rich_stdout()
    except ImportError:
        print(inspect_text(report, title=title))
    else:
        console.print(inspect_table(report, title=title))


def _error(command: str, message: str) -> None:
    print(f"shardmem {command}: error: {message}", file=sys.stderr)


def check_output(parser: argparse.ArgumentParser, path: str) -> None:
    """Fail now (exit 2 through ``parser.error``), not after the run, if ``path``
    cannot be written."""
    target = Path(path)
    if target.is_dir():
        parser.error(f"argument --json: {path!r} is a directory")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        parser.error(f"argument --json: cannot write in {str(folder)!r}")


def prepare_new_data_dir(command: str, path: str, *, fresh: bool) -> int:
    """Check (and with ``fresh`` empty) ``path`` for a new run; return 0 or an exit status.

    The error, if any, is printed.
    """
    try:
        check_new_data_dir(path, fresh=fresh)
        if fresh:
            empty_data_dir(path)
    except DataDirRefused as exc:
        _error(command, str(exc))
        return 2
    except OSError as exc:
        _error(command, f"cannot empty {path!r}: {exc.strerror or exc}")
        return 1
    return 0


def guarded(command: str, action: Callable[[], int]) -> int:
    """Run ``action``, turning the data-directory errors into one line and a status."""
    try:
        return action()
    except DataDirRefused as exc:
        _error(command, str(exc))
        return 2
    except JournalCorrupt as exc:
        _error(command, f"corrupt data directory: {exc}")
        return 1
    except BlockingIOError as exc:  # the engine's message names the directory
        _error(command, str(exc))
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(command, f"{where}{exc.strerror or exc}")
        return 1
    except (ValueError, LookupError) as exc:  # e.g. a damaged MANIFEST.json
        _error(command, f"cannot read the data directory: {type(exc).__name__}: {exc}")
        return 1
    except KeyboardInterrupt:
        print(f"shardmem {command}: interrupted", file=sys.stderr)
        return 130


def write_json_document(command: str, document: dict[str, object], path: str) -> int:
    try:
        write_document(document, path)
    except OSError as exc:
        _error(command, f"cannot write {path}: {exc.strerror or exc}")
        return 1
    return 0


def stderr_progress(quiet: bool, prefix: str = "") -> Callable[[str], None] | None:
    """A progress callback printing ``prefix + line`` dimmed on stderr, or ``None``
    when ``quiet`` (``--no-progress``)."""
    if quiet:
        return None
    from rich.console import Console  # the bench extra: imported when a benchmark runs

    stderr = Console(stderr=True)

    def say(line: str) -> None:
        stderr.print(f"[dim]{prefix}{line}[/dim]", highlight=False)

    return say


def run_reported(
    command: str,
    measure: Callable[[], Any],
    tables: Callable[[Any], Any],
    json_path: str | None,
) -> int:
    """A benchmark command's common tail, guarded (:func:`guarded`): ``measure()``, print
    ``tables(result)`` on stdout, write ``result.to_dict()`` to ``json_path`` if given."""

    def action() -> int:
        result = measure()
        rich_stdout().print(tables(result))
        if json_path is not None:
            return write_json_document(command, result.to_dict(), json_path)
        return 0

    return guarded(command, action)


def add_inspect_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``inspect``; its handler is :func:`run_inspect`."""
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


def add_compact_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``compact``; its handler is :func:`run_compact`."""
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
        type=positive_int,
        default=None,
        metavar="N",
        help="re-shard to N shards first (default: keep the directory's count)",
    )
    parser.add_argument(
        "--json", metavar="PATH", default=None, help="also write the before/after reports"
    )
    parser.set_defaults(handler=run_compact, parser=parser)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``progress(step, done, total)`` callback drawing a rich progress bar on
    stderr when it is a terminal and rich (the ``bench`` extra) is installed;
    ``None`` otherwise (a pipe or a CI log gets no bar)."""
    if not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.progress import Progress
    except ImportError:
        yield None
        return
    with Progress(transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(f"{step} shards", total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield update


def run_inspect(args: argparse.Namespace) -> int:
    """``shardmem inspect DIR [--json PATH]``."""
    if args.json is not None:
        check_output(args.parser, args.json)

    def action() -> int:
        root = check_data_dir(args.dir)  # before the engine: it would create a LOCK file
        with _progress() as progress:
            on_shard = None if progress is None else partial(progress, "reading")
            report = inspect_data_dir(root, progress=on_shard)
        _print_report(report)
        if args.json is not None:
            return write_json_document("inspect", inspect_to_dict(report), args.json)
        return 0

    return guarded("inspect", action)


def run_compact(args: argparse.Namespace) -> int:
    """``shardmem compact DIR [--shards N] [--json PATH]``."""
    if args.json is not None:
        check_output(args.parser, args.json)

    def action() -> int:
        with _progress() as progress:
            outcome = compact_data_dir(args.dir, shards=args.shards, progress=progress)
        before, after = outcome.before, outcome.after
        resharded = (
            f", re-sharded {before.shards} -> {after.shards}"
            if before.shards != after.shards
            else ""
        )
        title = (
            f"shardmem compact {after.path}: {outcome.shards} shards in "
            f"{outcome.seconds:.2f} s{resharded}; journal records "
            f"{before.total('journal_records'):,} -> {after.total('journal_records'):,}"
        )
        _print_report(after, title=title)
        if args.json is not None:
            document = {
                "schema": "shardmem.compact/1",
                "seconds": outcome.seconds,
                "shards": outcome.shards,
                "before": inspect_to_dict(before),
                "after": inspect_to_dict(after),
            }
            return write_json_document("compact", document, args.json)
        return 0

    return guarded("compact", action)
