"""``bench micro``: a tiny real run produces the documented JSON shape (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bench._micro._model import GROWTH_OPS, MICRO_SCHEMA, SCALING_TARGETS, MicroOptions
from bench._micro._report import (
    build_comparison_table,
    render_micro,
    write_micro_json,
    write_micro_plots,
)
from bench._micro._run import run_micro
from bench._replay._results import BenchOptions
from bench._replay._runner import run_bench

TINY = MicroOptions(
    clients=(1, 10),
    scaling_records=200,
    duration=0.05,
    repeats=1,
    records=(1_000,),
    targets=("engine",),
    samples=3,
    op_budget=0.5,
    load_budget=20.0,
    memory_records=500,
    pipeline_depth=20,
    pipeline_clients=2,
)


def _options(**changes: object) -> MicroOptions:
    import attrs

    return attrs.evolve(TINY, **changes)


@pytest.fixture(scope="module")
def tiny_result() -> dict[str, object]:
    options = _options(targets=("engine", "langgraph"))
    lines: list[str] = []
    result = run_micro(options, progress=lines.append)
    assert lines and all("\n" not in line for line in lines)
    console = Console(record=True, width=200)
    render_micro(result, console)
    text = console.export_text()
    assert "goals" in text and "cost growth" in text and "pipelined" in text
    return result.to_dict()


def test_micro_json_shape(tiny_result: dict[str, object], tmp_path: Path) -> None:
    data = tiny_result
    assert data["schema"] == MICRO_SCHEMA
    scaling = data["scaling"]
    assert isinstance(scaling, list)
    assert {(p["target"], p["clients"]) for p in scaling} == {
        (t, c) for t in SCALING_TARGETS for c in (1, 10)
    }
    for point in scaling:
        assert point["ops_per_second"] > 0
        assert 0 < point["p50_us"] <= point["p99_us"] <= point["max_us"]
        assert len(point["runs"]) == 1
    growth = data["growth"]
    assert isinstance(growth, list)
    engine = {p["op"]: p for p in growth if p["target"] == "engine"}
    assert set(engine) == set(GROWTH_OPS)
    for point in engine.values():
        assert point["status"] == "ok" and point["samples"] >= 1
        assert point["p50_us"] > 0
    if any(p["target"] == "langgraph" and not p["status"].startswith("skipped") for p in growth):
        statuses = {p["op"]: p["status"] for p in growth if p["target"] == "langgraph"}
        assert statuses["get"] == "ok"
        assert statuses["expiry"].startswith("n/a")
    pipelined = data["pipelined"]
    assert isinstance(pipelined, list)
    assert [(p["target"], p["clients"]) for p in pipelined] == [("get", 2), ("get/upsert", 2)]
    for point in pipelined:
        assert point["ops_per_second"] > 0
        assert 0 < point["p50_us"] <= point["p99_us"] <= point["max_us"]
    memory = data["memory"]
    assert isinstance(memory, dict)
    assert memory["records"] == 500 and memory["traced_bytes"] > 0
    goals = data["goals"]
    assert isinstance(goals, list)
    assert {g["name"] for g in goals} >= {"engine / lock at 100 clients"}
    # Unmeasured goals say so instead of passing.
    by_name = {g["name"]: g for g in goals}
    assert by_name["engine / lock at 100 clients"]["passed"] is None
    pipelined_goal = by_name["pipelined ops/s (get, 2 clients x 20 ops)"]
    assert pipelined_goal["value"] == pipelined[0]["ops_per_second"]
    assert pipelined_goal["passed"] is (pipelined_goal["value"] >= 1_000_000)
    json.dumps(data)


def test_micro_json_and_plots_are_written(tmp_path: Path) -> None:
    result = run_micro(
        _options(clients=(1,), targets=("engine",), memory_records=0, pipeline_depth=0)
    )
    assert result.pipelined == ()
    out = tmp_path / "deep" / "micro.json"
    write_micro_json(result, out)
    assert json.loads(out.read_text(encoding="utf-8"))["schema"] == MICRO_SCHEMA
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    files = write_micro_plots(result, tmp_path / "img")
    assert [f.name for f in files] == ["micro-scaling.png", "micro-growth.png"]
    assert all(f.stat().st_size > 0 for f in files)


def test_missing_peer_is_reported_skipped_not_measured() -> None:
    result = run_micro(_options(clients=(), targets=("upsonic",), memory_records=0))
    statuses = {p.status for p in result.growth}
    assert len(statuses) == 1
    (status,) = statuses
    assert status.startswith(("skipped:", "ok", "stopped:"))


def test_comparison_table_lists_skips_and_ratios() -> None:
    results: dict[str, object] = {}
    for name in ("engine", "lock"):
        results[name] = run_bench(BenchOptions(target=name, limit=2, progress=False))
    results["nopeer"] = "nopeer: not installed"
    console = Console(record=True, width=200)
    console.print(build_comparison_table(results))  # type: ignore[arg-type]
    text = console.export_text()
    assert "skipped: nopeer: not installed" in text
    assert "1.00x" in text  # engine against itself


def test_micro_cli_glue_runs_a_tiny_micro(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from bench._cli._micro import add_micro_parser

    parser = argparse.ArgumentParser(prog="shardmem bench")
    add_micro_parser(parser.add_subparsers(dest="mode"))
    out = tmp_path / "m.json"
    args = parser.parse_args(
        [
            "micro",
            "--clients", "1",
            "--records", "500",
            "--targets", "engine",
            "--duration", "0.05",
            "--repeats", "1",
            "--samples", "2",
            "--memory-records", "0",
            "--json", str(out),
            "--no-progress",
        ]
    )  # fmt: skip
    assert args.handler(args) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["options"]["clients"] == [1]
    assert "goals" in capsys.readouterr().out


def test_parse_targets_checks_names() -> None:
    import argparse

    from bench._cli._args import parse_targets

    known = ("engine", "lock", "agno")
    assert parse_targets("engine, lock", known) == ("engine", "lock")
    for bad in ("", "engine,nope", "lock,lock"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_targets(bad, known)
