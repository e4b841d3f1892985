"""``shardmem bench --data-dir DIR --fsync POLICY``: the replay on a durable engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench._targets._protocol import WRITE_OPERATIONS

from ..conftest import inspect_json, run_cli

LIMIT = 10


def _replay(tmp_path: Path, data_dir: Path, *options: str) -> tuple[int, dict[str, Any] | None]:
    out = tmp_path / "bench.json"
    out.unlink(missing_ok=True)
    argv = ["bench", "--limit", str(LIMIT), "--agents", "4", "--working-ttl", "3600"]
    argv += ["--no-progress", "--json", str(out), "--data-dir", str(data_dir), *options]
    status = run_cli(argv)
    result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    return status, result


def test_a_durable_replay_leaves_a_data_dir_that_inspect_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    status, result = _replay(tmp_path, data_dir, "--fsync", "always")
    assert status == 0
    assert result is not None
    assert result["options"]["data_dir"] == str(data_dir)
    assert result["options"]["fsync"] == "always"
    durability = result["durability"]
    assert durability["fsync"] == "always"
    assert durability["data_dir"] == str(data_dir)
    writes = sum(result["ops"][op]["count"] for op in WRITE_OPERATIONS)
    assert durability["writes"] == writes
    assert durability["writes_per_second"] > 0
    assert durability["data_dir_bytes"] > 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "durable, fsync always" in printed
    assert "durable writes/s" in printed

    report = inspect_json(data_dir, tmp_path / "inspect.json")
    assert report["shards"] == result["options"]["shards"]
    assert report["total"]["sessions"] == LIMIT == result["store"]["sessions"]
    assert report["total"]["runs"] == result["store"]["runs"] == result["dataset"]["turns"]
    assert report["total"]["memories"] == result["store"]["memories"]
    assert report["total"]["working"] == result["store"]["working"] == LIMIT
    # Every acknowledged write is one journal entry.
    assert report["total"]["last_seq"] == writes


def test_everysec_is_the_default_policy(tmp_path: Path) -> None:
    status, result = _replay(tmp_path, tmp_path / "data")
    assert status == 0
    assert result is not None
    assert result["durability"]["fsync"] == "everysec"


def test_without_data_dir_nothing_is_durable(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", "--limit", "3", "--agents", "2", "--no-progress", "--json", str(out)]
    assert run_cli(argv) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["durability"] is None
    assert result["options"]["data_dir"] is None


def test_a_used_directory_is_refused_unless_fresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    status, first = _replay(tmp_path, data_dir)
    assert status == 0
    assert first is not None
    files = sorted(p.name for p in data_dir.iterdir())
    capsys.readouterr()

    status, result = _replay(tmp_path, data_dir)
    assert (status, result) == (2, None)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("shardmem bench: error: ")
    assert "already holds a data directory" in captured.err
    assert "--fresh" in captured.err
    assert sorted(p.name for p in data_dir.iterdir()) == files  # untouched

    status, second = _replay(tmp_path, data_dir, "--fresh")
    assert status == 0
    assert second is not None
    report = inspect_json(data_dir, tmp_path / "inspect.json")
    # A fresh directory: the journal holds the second run only, not both.
    assert report["total"]["last_seq"] == second["durability"]["writes"]
    assert report["total"]["sessions"] == LIMIT


def test_fresh_never_deletes_foreign_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "MANIFEST.json").write_text("{}", encoding="utf-8")
    (data_dir / "notes.txt").write_text("mine", encoding="utf-8")
    status, _ = _replay(tmp_path, data_dir, "--fresh")
    assert status == 2
    assert "files shardmem did not create (notes.txt)" in capsys.readouterr().err
    assert sorted(p.name for p in data_dir.iterdir()) == ["MANIFEST.json", "notes.txt"]


@pytest.mark.parametrize("option", [["--fsync", "always"], ["--fresh"]])
def test_durability_options_need_data_dir(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["bench", "--limit", "1", *option]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"argument {option[0]}: only with --data-dir" in err


def test_bad_fsync_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["bench", "--data-dir", "x", "--fsync", "sometimes"]) == 2
    assert "argument --fsync: invalid choice: 'sometimes'" in capsys.readouterr().err
