"""The command line's argument handling (bench/_cli.py); runs nothing heavy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import main
from bench._cli._main import build_parser


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "--agents", "-1"], "argument --agents: expected an integer >= 1, got '-1'"),
        (["bench", "--agents", "0"], "argument --agents: expected an integer >= 1, got '0'"),
        (["bench", "--agents", "ten"], "argument --agents: expected an integer >= 1, got 'ten'"),
        (["bench", "--limit", "0"], "argument --limit: expected an integer >= 1, got '0'"),
        (["bench", "--limit", "-5"], "argument --limit: expected an integer >= 1, got '-5'"),
        (["bench", "--limit", "2.5"], "argument --limit: expected an integer >= 1, got '2.5'"),
        (["bench", "--shards", "0"], "argument --shards: expected an integer >= 1"),
        (["bench", "--memory-every", "0"], "argument --memory-every: expected an integer >= 1"),
        (["bench", "--seed", "x"], "argument --seed: expected an integer, got 'x'"),
        (["bench", "--working-ttl", "0"], "argument --working-ttl: expected a number of seconds"),
        (["bench", "--working-ttl", "nan"], "argument --working-ttl: expected a number of seconds"),
        (["bench", "--working-ttl", "-1"], "argument --working-ttl: expected a number of seconds"),
        (
            ["bench", "--working-ttl", "soon"],
            "argument --working-ttl: expected a number of seconds",
        ),
        (["bench", "--agents"], "argument --agents: expected one argument"),
        (["bench", "--target", "memcached"], "argument --target: unknown target 'memcached'"),
        (["bench", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["explode"], "argument COMMAND: invalid choice: 'explode'"),
        (
            ["bench", "micro", "--pipeline-depth", "-1"],
            "argument --pipeline-depth: expected an integer >= 0, got '-1'",
        ),
        (
            ["bench", "micro", "--pipeline-clients", "0"],
            "argument --pipeline-clients: expected an integer >= 1, got '0'",
        ),
        (
            ["bench", "micro", "--repeats", "1,2"],
            "argument --repeats: expected an integer >= 1, got '1,2'",
        ),
        (["bench", "--no-pipeline=1"], "argument --no-pipeline: ignored explicit argument '1'"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("shardmem")
    assert ": error: " in lines[0]
    assert message in lines[0]


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert capsys.readouterr().err.startswith("shardmem: error: a command is required")


def test_json_into_a_directory_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["bench", "--json", str(tmp_path)])
    assert caught.value.code == 2
    assert "is a directory" in capsys.readouterr().err


def test_unreadable_dataset_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "corpus.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert main(["bench", "--dataset", str(bad), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"shardmem bench: error: {bad}: ")
    assert "expected a JSON object of conversations, got array" in err


def test_defaults() -> None:
    args = build_parser().parse_args(["bench"])
    assert (args.agents, args.shards, args.limit, args.working_ttl, args.memory_every) == (
        100,
        4,
        None,
        5.0,
        4,
    )
    assert args.target == ("engine",)
    assert args.json is None


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["bench", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for option in ("--agents", "--shards", "--limit", "--json", "--working-ttl", "--seed"):
        assert option in out
