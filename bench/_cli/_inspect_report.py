"""``shardmem inspect``: a data directory's report as a rich table, plain text or JSON.

rich is imported only by :func:`inspect_table`; the rest needs the base dependencies only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bench._measure._format import format_bytes
from engine import DataDirReport

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["INSPECT_SCHEMA", "inspect_table", "inspect_text", "inspect_to_dict", "write_document"]

#: The ``"schema"`` value of ``shardmem inspect --json``.
INSPECT_SCHEMA: Final = "shardmem.inspect/1"

#: The per-shard fields, in column order: (field of ``engine.ShardReport``, heading).
_COLUMNS: Final = (
    ("sessions", "sessions"),
    ("runs", "runs"),
    ("memories", "memories"),
    ("working", "working"),
    ("knowledge", "knowl-\nedge"),
    ("snapshot_bytes", "snapshot"),
    ("journal_bytes", "journal"),
    ("journal_records", "journal\nentries"),
    ("last_seq", "last\nseq"),
    ("torn_bytes", "torn"),
)
_FIELDS: Final = tuple(field for field, _ in _COLUMNS)


def _cell(field: str, value: int) -> str:
    return format_bytes(value) if field.endswith("_bytes") else f"{value:,}"


def _title(report: DataDirReport) -> str:
    return (
        f"shardmem data dir {report.path}: generation {report.generation}, "
        f"{report.shards} shards, {report.users:,} users"
    )


def inspect_text(report: DataDirReport, *, title: str | None = None) -> str:
    """The columns of :func:`inspect_table` as plain text (no rich needed): the title,
    a header line, one line per shard, a rule and the total line."""
    headings = [
        "shard",
        *(heading.replace("-\n", "").replace("\n", " ") for _, heading in _COLUMNS),
    ]
    rows = [
        [str(shard.shard), *(_cell(f, getattr(shard, f)) for f in _FIELDS)]
        for shard in report.shard_reports
    ]
    total = ["total", *(_cell(f, report.total(f)) for f in _FIELDS)]
    widths = [max(len(row[i]) for row in (headings, *rows, total)) for i in range(len(headings))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([title or _title(report), line(headings), *map(line, rows), rule, line(total)])


def inspect_table(report: DataDirReport, *, title: str | None = None) -> Table:
    """One row per shard and a total row.

    Columns: live sessions, runs (inside the sessions), user memories, working memory,
    knowledge docs; the snapshot's size; the journal bytes and entries recovery replays
    after the snapshot; the last journal sequence number (the total row sums them: the
    entries journaled since the generation began); the bytes of a torn tail.

    Raises:
        ImportError: without rich (the ``bench`` extra); see :func:`inspect_text`.
    """
    from rich import box
    from rich.table import Table

    table = Table(
        title=title or _title(report),
        box=box.SIMPLE_HEAVY,
        padding=0,
    )
    table.add_column("shard", justify="right", no_wrap=True)
    for _, heading in _COLUMNS:
        table.add_column(heading, justify="right", no_wrap=True)
    for shard in report.shard_reports:
        table.add_row(str(shard.shard), *(_cell(f, getattr(shard, f)) for f in _FIELDS))
    table.add_section()
    table.add_row("total", *(_cell(f, report.total(f)) for f in _FIELDS), style="bold")
    return table


def inspect_to_dict(report: DataDirReport) -> dict[str, Any]:
    """The JSON-safe form written by ``shardmem inspect --json`` (sizes in bytes)."""
    return {
        "schema": INSPECT_SCHEMA,
        "path": report.path,
        "generation": report.generation,
        "shards": report.shards,
        "users": report.users,
        "total": {field: report.total(field) for field in _FIELDS},
        "shard_reports": [
            {"shard": shard.shard, **{field: getattr(shard, field) for field in _FIELDS}}
            for shard in report.shard_reports
        ],
    }


def write_document(document: dict[str, Any], path: Path | str) -> None:
    """Write ``document`` to ``path`` as indented JSON (parent folders created).

    Raises:
        OSError: if the file cannot be written.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
