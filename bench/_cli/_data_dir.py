"""The handlers of ``shardmem inspect``, ``shardmem compact`` and ``shardmem bench durable``.

Each takes the parsed arguments and returns the exit status. Errors are one line on
stderr, ``shardmem <command>: error: ...``:

- 2: the directory cannot be used as asked (missing, not a data directory, not empty);
- 1: the directory is damaged (``engine.JournalCorrupt``: the message names the file
  and offset), in use by a running engine, or an I/O error happened;
- 130: interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bench._cli._compact import compact_data_dir
from bench._cli._data_dirs import (
    DataDirRefused,
    check_data_dir,
    check_new_data_dir,
    empty_data_dir,
)
from bench._cli._inspect_report import inspect_table, inspect_to_dict, write_document
from bench._durable._report import durable_tables
from bench._durable._run import DurableOptions, run_durable
from engine import JournalCorrupt, inspect_data_dir

__all__ = [
    "check_output",
    "prepare_new_data_dir",
    "run_bench_durable",
    "run_compact",
    "run_inspect",
]


#: Width of tables written to a pipe or file (rich would use 80 columns and cut cells).
_PIPE_WIDTH = 100


def _stdout() -> Console:
    """The console for reports: the terminal's width, or at least ``_PIPE_WIDTH``
    columns when stdout is not a terminal (and ``COLUMNS`` is not set)."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, _PIPE_WIDTH)
    return console


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


def _guarded(command: str, action: Callable[[], int]) -> int:
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


def _write_json(command: str, document: dict[str, object], path: str) -> int:
    try:
        write_document(document, path)
    except OSError as exc:
        _error(command, f"cannot write {path}: {exc.strerror or exc}")
        return 1
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    """``shardmem inspect DIR [--json PATH]``."""
    if args.json is not None:
        check_output(args.parser, args.json)

    def action() -> int:
        root = check_data_dir(args.dir)  # before the engine: it would create a LOCK file
        report = inspect_data_dir(root)
        _stdout().print(inspect_table(report))
        if args.json is not None:
            return _write_json("inspect", inspect_to_dict(report), args.json)
        return 0

    return _guarded("inspect", action)


def run_compact(args: argparse.Namespace) -> int:
    """``shardmem compact DIR [--shards N] [--json PATH]``."""
    if args.json is not None:
        check_output(args.parser, args.json)

    def action() -> int:
        outcome = compact_data_dir(args.dir, shards=args.shards)
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
        _stdout().print(inspect_table(after, title=title))
        if args.json is not None:
            document = {
                "schema": "shardmem.compact/1",
                "seconds": outcome.seconds,
                "shards": outcome.shards,
                "before": inspect_to_dict(before),
                "after": inspect_to_dict(after),
            }
            return _write_json("compact", document, args.json)
        return 0

    return _guarded("compact", action)


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
    stderr = Console(stderr=True)

    def announce(line: str) -> None:
        stderr.print(f"[dim]measuring {line}[/dim]", highlight=False)

    def action() -> int:
        result = run_durable(options, announce=None if args.no_progress else announce)
        _stdout().print(durable_tables(result))
        if args.json is not None:
            return _write_json(command, result.to_dict(), args.json)
        return 0

    return _guarded(command, action)
