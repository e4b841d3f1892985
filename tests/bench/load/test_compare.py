"""``shardmem bench compare A.json B.json`` on JSON files written by tiny real runs, and
the schema versions it checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import main
from bench._compare._model import CompareError, pair_rows, read_run
from bench._replay._results import RESULT_SCHEMA


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("runs")
    files = {name: folder / f"{name}.json" for name in ("engine", "lock", "both", "load", "load2")}
    replay = ["bench", "--limit", "8", "--agents", "4", "--no-progress"]
    assert _run([*replay, "--json", str(files["engine"])]) == 0
    assert _run([*replay, "--target", "lock", "--json", str(files["lock"])]) == 0
    assert _run([*replay, "--target", "engine,lock", "--json", str(files["both"])]) == 0
    load = ["bench", "--limit", "8", "--sweep", "100:200:100", "--p99-max", "1s"]
    load += ["--duration", "0.2"]
    assert _run([*load, "--json", str(files["load"])]) == 0
    assert _run([*load, "--target", "engine,lock", "--json", str(files["load2"])]) == 0
    return files


def _document(path: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_every_result_names_its_schema_and_version(runs: dict[str, Path]) -> None:
    assert _document(runs["engine"])["schema"] == RESULT_SCHEMA == "shardmem.bench.chitchat/1"
    assert _document(runs["both"])["schema"] == "shardmem.bench.compare/1"
    assert _document(runs["load"])["schema"] == "shardmem.bench.load/1"


def test_two_single_target_replays_compare_operation_by_operation(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = read_run(runs["engine"]), read_run(runs["lock"])
    pairs = pair_rows(a, b)
    assert {pair.target for pair in pairs} == {"engine -> lock"}
    rows = {pair.row: pair for pair in pairs}
    assert list(rows)[:2] == ["create_session", "read_history"] and "total" in rows
    append = rows["append_run"]
    assert append.a is not None and append.b is not None
    assert append.ratio("throughput") == pytest.approx(append.b.throughput / append.a.throughput)
    assert rows["total"].ratio("p99_us") is None  # the total has no latency

    assert _run(["bench", "compare", str(runs["engine"]), str(runs["lock"])]) == 0
    out = capsys.readouterr().out
    assert "engine -> lock" in out and "append_run" in out and "B/A" in out
    assert f"{append.ratio('throughput'):.2f}x" in out


def test_a_multi_target_run_compares_target_by_target(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = pair_rows(read_run(runs["engine"]), read_run(runs["both"]))
    # A has engine only: lock's rows are B's alone
    engine = [p for p in pairs if p.target == "engine"]
    lock = [p for p in pairs if p.target == "lock"]
    assert engine and all(p.a is not None and p.b is not None for p in engine)
    assert lock and all(p.a is None and p.b is not None for p in lock)
    assert all(p.ratio("throughput") is None for p in lock)
    assert _run(["bench", "compare", str(runs["both"]), str(runs["both"])]) == 0
    out = capsys.readouterr().out
    assert "1.00x" in out and "lock" in out


def test_open_loop_runs_compare_rate_by_rate(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = pair_rows(read_run(runs["load"]), read_run(runs["load2"]))
    assert [(p.target, p.row) for p in pairs if p.target == "engine"] == [
        ("engine", "100/s offered"),
        ("engine", "200/s offered"),
        ("engine", "best rate"),
    ]
    best = next(p for p in pairs if p.row == "best rate" and p.target == "engine")
    assert best.ratio("throughput") == pytest.approx(1.0)  # both found 200/s
    assert _run(["bench", "compare", str(runs["load"]), str(runs["load2"])]) == 0
    assert "200/s offered" in capsys.readouterr().out


def test_a_replay_and_a_load_run_cannot_be_compared(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CompareError, match="cannot compare a replay run"):
        pair_rows(read_run(runs["engine"]), read_run(runs["load"]))
    assert _run(["bench", "compare", str(runs["engine"]), str(runs["load"])]) == 1
    assert "cannot compare a replay run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema": "shardmem.bench.chitchat/2"}', "is newer than this shardmem reads"),
        ('{"schema": "shardmem.bench.micro/1"}', "expected a result with schema"),
        ('{"ops": {}}', "expected a result with schema"),
        ("[1, 2]", "expected a result with schema"),
        ("{not json", "expected a JSON document"),
        (
            '{"schema": "shardmem.bench.chitchat/1", "ops": {}}',
            "got one missing or mistyping 'total'",
        ),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(
    tmp_path: Path, runs: dict[str, Path], content: str, message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(CompareError, match=message):
        read_run(bad)
    assert _run(["bench", "compare", str(runs["engine"]), str(bad)]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1
    with pytest.raises(CompareError, match="cannot read"):
        read_run(tmp_path / "missing.json")
