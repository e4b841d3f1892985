"""``python -m bench.store_calls``: every store operation of a turn measured."""

from __future__ import annotations

import pytest

from bench.store_calls import main, measure


def test_every_operation_gets_a_positive_finite_time() -> None:
    results = measure(sessions=20, runs=3, repeat=2)
    assert len(results) == 9
    assert "get_messages, last 3 runs" in results and "append_run, replacing the last" in results
    assert all(0 <= micros < float("inf") for micros in results.values())


def test_main_prints_one_line_per_operation(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--sessions", "10", "--runs", "2", "--repeat", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 9
    assert all(line.endswith(" µs") for line in lines)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--sessions", "0"])
