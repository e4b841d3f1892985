"""``shardmem inspect DIR``: the report of a data directory the real engine wrote."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench._cli._inspect_report import INSPECT_SCHEMA, inspect_table, inspect_to_dict
from bench._measure._format import format_bytes
from engine import inspect_data_dir

from ..conftest import Written, build_data_dir, corrupt_first_record, inspect_json, run_cli


def test_counts_match_what_was_written(
    written_dir: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = written_dir
    report = inspect_json(path, tmp_path / "out" / "inspect.json")

    assert report["schema"] == INSPECT_SCHEMA
    assert report["path"] == str(path)
    assert (report["shards"], report["generation"]) == (2, 1)
    assert report["users"] == written.users
    total = report["total"]
    assert total["sessions"] == written.sessions
    assert total["runs"] == written.runs
    assert total["memories"] == written.memories
    assert total["working"] == written.working
    assert total["knowledge"] == written.knowledge
    # No compaction yet: everything is in the journal, one entry per acknowledged write.
    assert total["snapshot_bytes"] == 0
    assert total["journal_records"] == written.writes
    assert total["last_seq"] == written.writes
    assert total["torn_bytes"] == 0
    assert total["journal_bytes"] > 0

    shards = report["shard_reports"]
    assert [shard["shard"] for shard in shards] == [0, 1]
    for field, value in total.items():
        assert sum(shard[field] for shard in shards) == value, field

    out = " ".join(capsys.readouterr().out.split())  # the title may wrap
    assert f"shardmem data dir {path}: generation 1, 2 shards, {written.users} users" in out
    assert "total" in out


def test_the_table_and_the_dict_agree_with_the_engine(written_dir: tuple[Path, Written]) -> None:
    path, _ = written_dir
    report = inspect_data_dir(path)
    document = inspect_to_dict(report)
    assert document["total"]["sessions"] == report.total("sessions")
    table = inspect_table(report)
    assert table.row_count == report.shards + 1  # one per shard and the total


def test_inspect_changes_nothing(written_dir: tuple[Path, Written], tmp_path: Path) -> None:
    path, _ = written_dir
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    inspect_json(path, tmp_path / "inspect.json")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing", "does not exist"),
        (lambda root: _file(root / "a-file"), "is not a directory"),
        (lambda root: _dir(root / "empty"), "is not a shardmem data directory (no MANIFEST.json)"),
    ],
    ids=["missing", "a-file", "not-a-data-dir"],
)
def test_not_a_data_directory_exits_2_with_one_line(
    tmp_path: Path, make: object, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path: Path = make(tmp_path)  # type: ignore[operator]
    assert run_cli(["inspect", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("shardmem inspect: error: ")
    assert message in captured.err
    if path.is_dir():
        assert os.listdir(path) == []  # no LOCK file left behind


def _file(path: Path) -> Path:
    path.write_text("hello", encoding="utf-8")
    return path


def _dir(path: Path) -> Path:
    path.mkdir()
    return path


def test_a_corrupt_journal_exits_1_naming_file_and_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data"
    build_data_dir(path, shards=1, sessions=20)
    (journal,) = sorted(path.glob("*.journal"))
    offset = corrupt_first_record(journal)

    assert run_cli(["inspect", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("shardmem inspect: error: corrupt data directory: ")
    assert f"{journal}: offset {offset}: " in captured.err


def test_a_foreign_manifest_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data"
    path.mkdir()
    (path / "MANIFEST.json").write_text('{"format": "something else"}', encoding="utf-8")
    assert run_cli(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("shardmem inspect: error: corrupt data directory: ")
    assert "MANIFEST.json" in err


def test_json_into_a_directory_is_refused(
    written_dir: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = written_dir
    assert run_cli(["inspect", str(path), "--json", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_inspect_needs_a_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["inspect"]) == 2
    assert "the following arguments are required: DIR" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.00 KiB"),
        (1536, "1.50 KiB"),
        (10_234, "9.99 KiB"),
        (10_235, "10.0 KiB"),
        (935_936, "914 KiB"),
        (1_048_063, "1,023 KiB"),
        (1_048_064, "1.00 MiB"),
        (5 << 20, "5.00 MiB"),
        (3 << 40, "3.00 TiB"),
        (5000 << 40, "5,000 TiB"),
    ],
)
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_the_installed_script_runs(written_dir: tuple[Path, Written]) -> None:
    import subprocess

    path, written = written_dir
    done = subprocess.run(
        [sys.executable, "-m", "bench", "inspect", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stderr
    assert f"{written.users} users" in done.stdout
