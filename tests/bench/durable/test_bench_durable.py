"""``shardmem bench durable``: both variants measured, JSON and table; no timing asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench._durable._model import DURABLE_SCHEMA, DurableOptions
from bench._durable._report import durable_tables, goal_verdict
from bench._durable._run import run_durable
from bench._measure._goals import Goal

from ..conftest import inspect_json, run_cli


def _durable(tmp_path: Path, *options: str, seconds: str = "0.5") -> dict[str, Any]:
    out = tmp_path / "durable.json"
    argv = ["bench", "durable", "--seconds", seconds, "--writers", "10", "--shards", "2"]
    assert run_cli([*argv, "--no-progress", "--json", str(out), *options]) == 0
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _check_variant(variant: dict[str, Any], *, max_batch: int | None) -> None:
    assert variant["max_batch"] == max_batch
    assert variant["writes"] > 0
    assert variant["wall_seconds"] > 0
    assert variant["writes_per_second"] > 0
    latency = variant["latency"]
    assert 1 <= latency["p50_us"] <= latency["p95_us"] <= latency["p99_us"] <= latency["max_us"]
    assert 0 < variant["commits"] <= variant["writes"]
    assert variant["fsyncs_per_write"] == variant["commits_per_write"]  # fsync always
    assert variant["data_dir_bytes"] > 0
    assert variant["cpu_seconds"] >= 0


def test_both_variants_and_a_positive_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _durable(tmp_path)
    assert result["schema"] == DURABLE_SCHEMA
    assert result["options"]["writers"] == 10
    assert result["options"]["fsync"] == "always"
    assert result["environment"]["cpus"] >= 1
    variants = result["variants"]
    assert list(variants) == ["group_commit", "one_fsync_per_write"]
    _check_variant(variants["group_commit"], max_batch=None)
    _check_variant(variants["one_fsync_per_write"], max_batch=1)
    # Without group commit every write is its own commit: exactly one fsync per write.
    assert variants["one_fsync_per_write"]["commits_per_write"] == 1.0
    assert result["ratio"] > 0
    ratio = variants["group_commit"]["writes_per_second"]
    ratio /= variants["one_fsync_per_write"]["writes_per_second"]
    assert result["ratio"] == pytest.approx(ratio)

    goals = {goal["unit"]: goal for goal in result["goals"]}
    assert goals["x"]["target"] == 10.0
    assert goals["writes/s"]["target"] == 20_000.0
    assert not goals["x"]["applies"]  # 10 writers, not the goal's 100
    assert goals["x"]["measured"] == result["ratio"]

    printed = " ".join(capsys.readouterr().out.split())
    assert "(a) group commit" in printed
    assert "(b) max_batch=1" in printed
    assert "ratio (a)/(b)" in printed
    assert "not the goal's settings" in printed


def test_kept_data_dirs_hold_every_acknowledged_write(tmp_path: Path) -> None:
    parent = tmp_path / "durable"
    # A generous time budget: the write cap, not the clock, ends each variant.
    result = _durable(tmp_path, "--writes", "60", "--data-dir", str(parent), seconds="60")
    for key, name in (
        ("group_commit", "group-commit"),
        ("one_fsync_per_write", "one-fsync-per-write"),
    ):
        variant = result["variants"][key]
        assert variant["writes"] == 60
        assert variant["data_dir"] == str(parent / name)
        report = inspect_json(parent / name, tmp_path / f"{name}.json")
        assert report["total"]["working"] == 60
        assert report["total"]["last_seq"] == 60


def test_a_used_data_dir_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent = tmp_path / "durable"
    _durable(tmp_path, "--writes", "5", "--data-dir", str(parent))
    capsys.readouterr()
    argv = ["bench", "durable", "--writes", "5", "--data-dir", str(parent), "--no-progress"]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("shardmem bench durable: error: ")
    assert "--fresh" in err
    assert run_cli([*argv, "--fresh", "--seconds", "0.2"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--writers", "0"], "argument --writers: expected an integer >= 1"),
        (["--seconds", "0"], "argument --seconds: expected a number of seconds > 0"),
        (["--writes", "-3"], "argument --writes: expected an integer >= 1"),
        (["--fsync", "never"], "argument --fsync: invalid choice: 'never'"),
        (["--fresh"], "argument --fresh: only with --data-dir"),
    ],
)
def test_bad_options_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["bench", "durable", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_replay_options_before_the_mode_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["bench", "--data-dir", "somewhere", "durable", "--writes", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "options of 'shardmem bench durable' go after 'durable'" in err


def test_everysec_reports_commits_not_fsyncs(tmp_path: Path) -> None:
    options = DurableOptions(writers=4, seconds=60.0, writes=20, fsync="everysec", shards=1)
    result = run_durable(options)
    document = result.to_dict()
    for variant in document["variants"].values():
        assert variant["fsyncs_per_write"] is None
        assert variant["writes"] == 20
    assert not any(goal.applies for goal in result.goals())
    durable_tables(result)  # renders


def _goal(measured: float, *, applies: bool = True) -> Goal:
    return Goal(name="ratio", target=10.0, measured=measured, unit="x", applies=applies)


def test_goal_verdicts() -> None:
    assert goal_verdict(_goal(12.5)) == "met: 12.5x (125% of the goal)"
    assert goal_verdict(_goal(5.0)) == "MISSED: 5.0x (50% of the goal)"
    assert goal_verdict(_goal(10.0)).startswith("met: ")
    assert "not the goal's settings" in goal_verdict(_goal(20.0, applies=False))
    throughput = Goal(name="w", target=20_000.0, measured=18_250.4, unit="writes/s", applies=True)
    assert goal_verdict(throughput) == "MISSED: 18,250 writes/s (91% of the goal)"
