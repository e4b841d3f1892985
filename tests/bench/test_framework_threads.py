"""``python -m bench.framework_threads``: the adapters hold under many threads."""

from __future__ import annotations

import pytest

from bench.framework_threads import _arshai, hammer, main


def test_the_arshai_adapter_serves_many_threads_at_once() -> None:
    pytest.importorskip("arshai", reason="arshai is not installed")
    _, adapter, turn = _arshai()
    manager = adapter()
    try:
        line = hammer(manager, turn, threads=6, ops=60)
    finally:
        manager.close()
    assert line.endswith("turns/s"), line
    assert float(line.split()[0].replace(",", "")) > 0


def test_main_prints_a_line_per_store(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("arshai", reason="arshai is not installed")
    main(["--threads", "2", "--ops", "20"])
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert names[:2] == ["arshai", "arshai-shardmem"]
    assert lines[1].endswith("turns/s")  # the adapter never fails
    assert any(line.startswith("upsonic") for line in lines)  # measured, or says skipped
