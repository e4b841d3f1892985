"""``shardmem bench bridge``: the CLI glue and the figures' shape (no speed asserted)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bench import main

FIGURES = {
    "native_tasks_ops",
    "native_sequential_p50_us",
    "blocking_sequential_p50_us",
    "from_thread_sequential_p50_us",
    "blocking_threads_ops",
    "from_thread_threads_ops",
    "noop_threads_ops",
    "asyncio_tasks_ops",
    "start_close_ms",
    "asyncio_ratio",
    "threads_ratio",
    "sequential_overhead_us",
}


def test_a_tiny_bridge_run_prints_and_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bridge.json"
    status = main(
        [
            "bench", "bridge",
            "--duration", "0.02",
            "--repeats", "1",
            "--threads", "2",
            "--tasks", "5",
            "--shards", "2",
            "--calls", "20",
            "--json", str(out),
        ]
    )  # fmt: skip
    assert status == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["figures"]) == FIGURES
    assert all(value > 0 for name, value in data["figures"].items() if name.endswith("_ops"))
    assert data["options"]["threads"] == 2
    printed = capsys.readouterr().out
    assert "asyncio facade, 5 tasks" in printed and "from_thread" in printed
    assert not [t for t in threading.enumerate() if t.name.startswith("shardmem-engine")]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["--threads", "0"], "argument --threads: expected an integer >= 1, got '0'"),
        (["--duration", "x"], "argument --duration: expected a number of seconds > 0, got 'x'"),
    ],
)
def test_bad_options_exit_2(
    bad: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "bridge", *bad])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
