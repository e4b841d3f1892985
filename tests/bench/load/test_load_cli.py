"""``shardmem bench --rate`` / ``--sweep`` end to end (a short real run) and its option
errors; the replay's JSON and table say which operations share a pipelined call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import main
from bench._load._model import LOAD_SCHEMA

from ..conftest import inspect_json


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate", "0"], "argument --rate: expected a number > 0, got '0'"),
        (["--rate", "fast"], "argument --rate: expected a number > 0, got 'fast'"),
        (["--sweep", "100"], "argument --sweep: expected START:STOP (doubling) or START:STOP:STEP"),
        (["--sweep", "100:1000"], "argument --sweep: needs --p99-max"),
        (["--rate", "10", "--sweep", "1:2"], "argument --sweep: not allowed with argument --rate"),
        (["--sweep", "1:2", "--p99-max", "1s", "--data-dir", "d"], "--data-dir: not with --sweep"),
        (["--duration", "2"], "argument --duration: only with --rate or --sweep"),
        (["--p99-max", "5ms"], "argument --p99-max: only with --rate or --sweep"),
        (["--plot", "x.png"], "argument --plot: only with --rate or --sweep"),
        (["--rate", "10", "--p99-max", "soon"], "argument --p99-max: expected a latency > 0"),
        (["--rate", "10", "--p99-max", "0ms"], "argument --p99-max: expected a latency > 0"),
        (["--rate", "10", "--arrival", "bursty"], "argument --arrival: invalid choice"),
        (["--rate", "10", "--unit", "call"], "argument --unit: invalid choice"),
        (["--rate", "10", "--max-in-flight", "0"], "argument --max-in-flight: expected an"),
    ],
)
def test_bad_open_loop_options_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1, err


def test_p99_max_units() -> None:
    from bench._cli._load import latency_bound

    assert latency_bound("0.005") == pytest.approx(0.005)
    assert latency_bound("5ms") == pytest.approx(0.005)
    assert latency_bound("500us") == pytest.approx(0.0005)
    assert latency_bound("2 s") == pytest.approx(2.0)


def test_a_rate_run_prints_its_table_and_writes_json_and_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, png = tmp_path / "load.json", tmp_path / "plots" / "load.png"
    argv = ["bench", "--limit", "20", "--rate", "300", "--duration", "0.3", "--drain", "2"]
    argv += ["--p99-max", "1s", "--json", str(out), "--plot", str(png), "--no-progress"]
    assert _run(argv) == 0
    captured = capsys.readouterr()
    assert "open loop: target engine, constant arrivals of one turn" in captured.out
    assert "Highest rate within the bound: 300/s" in captured.out
    assert "engine: 300/s offered" in captured.err
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["schema"] == LOAD_SCHEMA
    assert document["options"]["rate"] == 300 and document["options"]["sweep"] is None
    (point,) = document["targets"]["engine"]["points"]
    assert point["arrivals"] == 90 and point["completed"] == 90 and point["unfinished"] == 0
    assert point["passed"] is True and document["targets"]["engine"]["best_rate"] == 300
    assert 0 < point["service"]["p50_us"] <= point["latency"]["max_us"]
    assert set(point["service_by_operation"]) >= {"read_history", "append_run"}
    assert point["service_by_operation"]["read_history"]["count"] == 90
    assert point["gc_max_pause_us"] >= 0 and point["gc_full_collections"] >= 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_sweep_of_operations_over_two_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep.json"
    argv = ["bench", "--limit", "10", "--target", "engine,lock", "--unit", "op"]
    argv += ["--sweep", "100:300:100", "--p99-max", "2s", "--duration", "0.2", "--json", str(out)]
    argv += ["--arrival", "poisson"]
    assert _run(argv) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["options"]["sweep"] == {
        "kind": "LinearSweep", "start": 100.0, "stop": 300.0, "step": 100.0,
    }  # fmt: skip
    for target in ("engine", "lock"):
        points = document["targets"][target]["points"]
        assert [p["rate"] for p in points] == [100, 200, 300]
        assert points[0]["service_by_operation"] == {}
        assert set(points[0]["by_operation"]) <= {
            "read_history", "search_memories", "append_run", "store_working", "upsert_memory",
        }  # fmt: skip
    assert "open loop: target lock, poisson arrivals of one op" in capsys.readouterr().out


def test_the_replay_says_which_operations_share_a_pipelined_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "replay.json"
    assert (
        _run(["bench", "--limit", "5", "--agents", "2", "--no-progress", "--json", str(out)]) == 0
    )
    table = capsys.readouterr().out
    assert "timed in" in table and "share that call's latency" in table
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["pipeline_batches"] == {
        "read_turn": ["read_history", "search_memories"],
        "write_turn": ["append_run", "store_working", "upsert_memory"],
    }
    assert document["ops"]["search_memories"]["batch"] == "read_turn"
    assert document["ops"]["create_session"]["batch"] is None
    assert _run(["bench", "--limit", "5", "--no-pipeline", "--json", str(out)]) == 0
    assert "timed in" not in capsys.readouterr().out
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["pipeline_batches"] == {}
    assert document["ops"]["search_memories"]["batch"] is None


def test_a_durable_rate_run_journals_the_measured_turns_only(tmp_path: Path) -> None:
    """The warm-up runs in memory: the data directory holds what the measured rate wrote
    (20 sessions, 100 turns at 200/s for 0.5 s), nothing more."""
    data = tmp_path / "data"
    argv = ["bench", "--limit", "20", "--rate", "200", "--duration", "0.5", "--drain", "5"]
    assert _run([*argv, "--data-dir", str(data), "--fsync", "always", "--no-progress"]) == 0
    total = inspect_json(data, tmp_path / "inspect.json")["total"]
    assert total["sessions"] == 20
    assert total["runs"] == 100
