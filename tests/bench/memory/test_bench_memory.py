"""``shardmem bench memory``: every measurement made, JSON and table; no timing asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench._memory._model import MEMORY_SCHEMA
from bench._memory._records import payload_bytes, record_at
from engine import KnowledgeDoc, Session, UserMemory, WorkingMemory

from ..conftest import run_cli


def test_the_mix_has_every_kind_and_counts_its_payload() -> None:
    kinds = {type(record_at(index)[0]) for index in range(20)}
    assert kinds == {Session, UserMemory, WorkingMemory, KnowledgeDoc}
    session, ttl = record_at(0)
    assert ttl is None and len(session.runs) == 3
    text = sum(len(m.content) for run in session.runs for m in run.messages)
    assert payload_bytes(session) > text  # ids, name and state too
    assert record_at(7) == record_at(7)  # deterministic


def test_bench_memory_measures_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "memory.json"
    argv = ["bench", "memory", "--gc-records", "400", "--size-records", "200"]
    argv += ["--reopen-records", "300", "--repeats", "2", "--shards", "2"]
    assert run_cli([*argv, "--no-progress", "--json", str(out)]) == 0
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert document["schema"] == MEMORY_SCHEMA
    assert document["gc"]["records"] == 400 and document["gc"]["tracked_objects"] > 0
    assert document["size"]["records"] == 200 and document["size"]["payload_bytes"] > 0
    (reopen,) = document["reopen"]
    assert reopen["records"] == 300 and reopen["snapshot_seconds"] > 0
    assert document["replay"] is None
    names = [goal["name"] for goal in document["goals"]]
    assert "bytes per record beyond payload" in names and len(names) == 4
    assert "full gc.collect()" in capsys.readouterr().out


def test_bad_counts_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["bench", "memory", "--reopen-records", "ten"]) == 2
    assert "expected counts like 200000,1000000" in capsys.readouterr().err
