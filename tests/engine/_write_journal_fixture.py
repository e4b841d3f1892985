"""Writes tests/engine/fixtures/journal_v0: a data dir journaled by the pre-``Op`` engine.

Run once (``python -m tests.engine._write_journal_fixture``) with the engine of the commit
that added it; the fixture pins the on-disk journal format so later refactors of the
operation vocabulary must keep replaying it (tests/engine/test_journal_fixture.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import trio

from engine import KnowledgeDoc, Message, Run, Session, UserMemory, open_memory_engine

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "journal_v0"


async def write(data_dir: Path) -> None:
    async with open_memory_engine(shards=2, data_dir=data_dir, fsync="always") as engine:
        await engine.sessions.upsert(Session(session_id="s1", user_id="u1", name="first"))
        await engine.sessions.upsert(Session(session_id="s2", user_id="u1"))
        await engine.sessions.append_run(
            "s1", Run(run_id="r1", messages=(Message(role="user", content="hello"),))
        )
        await engine.sessions.rename("s1", "renamed", user_id="u1")
        await engine.sessions.delete("s2", user_id="u1")
        await engine.memories.upsert(
            UserMemory(user_id="u1", memory="likes tea", memory_id="m1", topics=("drinks",))
        )
        await engine.memories.upsert(UserMemory(user_id="u1", memory="gone", memory_id="m2"))
        await engine.memories.delete("m2", user_id="u1")
        await engine.working.store("c1", "scratch", metadata={"k": 1})
        await engine.knowledge.upsert(
            KnowledgeDoc(doc_id="d1", name="sky", description="the sky is blue")
        )


def main() -> None:
    shutil.rmtree(FIXTURE, ignore_errors=True)
    FIXTURE.mkdir(parents=True)
    trio.run(write, FIXTURE)


if __name__ == "__main__":
    main()
