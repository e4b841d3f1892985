"""``python -m bench.langgraph_saver``: both checkpointers measured, the adapter never
fails under threads."""

from __future__ import annotations

import pytest

from bench.langgraph_saver import main, supersteps


def test_the_saver_serves_supersteps_from_many_threads() -> None:
    pytest.importorskip("langgraph", reason="langgraph is not installed")
    from engine.integrations.langgraph import ShardmemSaver

    with ShardmemSaver() as saver:
        line = supersteps(saver, threads=4, steps=30)
        assert line.split()[1] == "supersteps/s", line
        assert len(list(saver.list(None))) == 120


def test_main_prints_a_line_per_saver_and_thread_count(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("langgraph", reason="langgraph is not installed")
    main(["--steps", "20", "--threads", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["InMemorySaver", "1"],
        ["ShardmemSaver", "1"],
        ["InMemorySaver", "2"],
        ["ShardmemSaver", "2"],
    ]
    assert all("supersteps/s" in line for line in lines if line.startswith("Shardmem"))
