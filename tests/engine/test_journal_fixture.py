"""A journal written by an earlier engine (tests/engine/fixtures/journal_v0) still replays."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine import open_memory_engine

from ._write_journal_fixture import FIXTURE


async def test_replays_the_v0_fixture_journal(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(FIXTURE, data_dir)
    async with open_memory_engine(shards=2, data_dir=data_dir) as engine:
        session = await engine.sessions.get("s1", user_id="u1")
        assert session is not None
        assert session.name == "renamed"
        assert [run.run_id for run in session.runs] == ["r1"]
        assert session.runs[0].messages[0].content == "hello"
        assert await engine.sessions.get("s2", user_id="u1") is None
        memory = await engine.memories.get("m1", user_id="u1")
        assert memory is not None and memory.memory == "likes tea"
        assert memory.topics == ("drinks",)
        assert await engine.memories.get("m2", user_id="u1") is None
        working = await engine.working.retrieve("c1")
        assert working is not None and working.data == "scratch"
        doc = await engine.knowledge.get("d1")
        assert doc is not None and doc.description == "the sky is blue"
