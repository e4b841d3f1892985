"""``shardmem compact DIR``: journals folded into snapshots, records intact."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest
import trio

from bench._cli._compact import compact_data_dir
from engine import open_memory_engine

from ..conftest import Written, build_data_dir, corrupt_first_record, inspect_json, run_cli


async def _read_back(path: Path, shards: int) -> dict[str, Any]:
    async with open_memory_engine(shards=shards, data_dir=path) as mem:
        messages = await mem.sessions.messages("s4", last_n_runs=10, user_id="u1")
        memory = await mem.memories.get("mem3", user_id="m3")
        working = await mem.working.retrieve("conv2")
        doc = await mem.knowledge.get("doc1")
        return {
            "messages": [m.content for m in messages],
            "memory": None if memory is None else memory.memory,
            "working": None if working is None else working.data,
            "doc": None if doc is None else doc.name,
        }


EXPECTED_READ = {
    "messages": [f"{kind} 4.{r}" for r in range(3) for kind in ("question", "answer")],
    "memory": "likes tea 3",
    "working": "note 2",
    "doc": "Doc 1",
}


def test_compaction_empties_the_journals_and_keeps_the_records(
    written_dir: tuple[Path, Written], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, written = written_dir
    before = inspect_json(path, tmp_path / "before.json")
    assert before["total"]["journal_records"] == written.writes
    capsys.readouterr()

    out = tmp_path / "compact.json"
    assert run_cli(["compact", str(path), "--json", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert f"journal records {written.writes} -> 0" in printed

    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["shards"] == 2
    assert document["before"]["total"] == before["total"]
    after = inspect_json(path, tmp_path / "after.json")
    assert document["after"]["total"] == after["total"]

    # Recovery now replays (nearly) nothing: every shard starts from its snapshot.
    assert after["shards"] == 2
    assert after["total"]["journal_records"] == 0
    for shard in after["shard_reports"]:
        assert shard["snapshot_bytes"] > 0
        assert shard["journal_records"] == 0
    assert after["total"]["journal_bytes"] < before["total"]["journal_bytes"]
    assert after["total"]["last_seq"] == before["total"]["last_seq"]
    for field in ("sessions", "runs", "memories", "working", "knowledge"):
        assert after["total"][field] == before["total"][field], field
    assert after["users"] == before["users"]
    # No journal segment older than the compaction is left.
    assert len(list(path.glob("*.journal"))) == 2

    assert trio.run(_read_back, path, 2) == EXPECTED_READ


def test_compact_with_another_shard_count_reshards(
    written_dir: tuple[Path, Written], tmp_path: Path
) -> None:
    path, written = written_dir
    outcome = compact_data_dir(path, shards=3)
    assert (outcome.before.shards, outcome.after.shards, outcome.shards) == (2, 3, 3)
    assert outcome.after.total("sessions") == written.sessions
    assert outcome.after.total("runs") == written.runs
    assert outcome.after.total("journal_records") == 0
    assert trio.run(_read_back, path, 3) == EXPECTED_READ


def test_compact_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["compact", str(tmp_path / "missing")]) == 2
    assert not (tmp_path / "missing").exists()  # not created by the attempt
    assert capsys.readouterr().err.startswith("shardmem compact: error: ")

    path = tmp_path / "data"
    build_data_dir(path, shards=1, sessions=20)
    (journal,) = sorted(path.glob("*.journal"))
    untouched = journal.read_bytes()
    corrupt_first_record(journal)
    damaged = journal.read_bytes()
    assert damaged != untouched
    assert run_cli(["compact", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"corrupt data directory: {journal}: offset " in err
    assert journal.read_bytes() == damaged  # nothing repaired or deleted


def test_compact_refuses_a_directory_in_use(
    written_dir: tuple[Path, Written], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = written_dir
    fd = os.open(path / "LOCK", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running engine holds it
        assert run_cli(["compact", str(path)]) == 1
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "in use by another engine" in err
