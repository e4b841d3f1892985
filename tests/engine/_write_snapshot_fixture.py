"""Writes tests/engine/fixtures/snapshot_v1: a data dir whose shards were compacted into
snapshots of format version 1 (JSON records), by the engine of the commit that added it.

Run once (``python -m tests.engine._write_snapshot_fixture``); the fixture pins that
snapshot format so later versions must keep loading it
(tests/engine/test_snapshot_fixture.py). ``expected.json`` is the engine's public
snapshot (``MemoryEngine.snapshot()``, without ``taken_at``) right before it closed.
TTLs are long (about 30 years), so the records are still alive when the test runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import trio

from engine import (
    ChannelBlob,
    Checkpoint,
    KnowledgeDoc,
    Message,
    PendingWrite,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "snapshot_v1"
EXPECTED = FIXTURE / "expected.json"
LONG = 1e9  # seconds (~31.7 years)


async def write(data_dir: Path) -> bytes:
    async with open_memory_engine(shards=2, data_dir=data_dir, fsync="always") as engine:
        for i in range(6):
            await engine.sessions.upsert(
                Session(
                    session_id=f"s{i}",
                    user_id=f"u{i % 2}",
                    agent_id="helper" if i % 2 else None,
                    team_id="team" if i == 3 else None,
                    name=f"session {i}",
                    state={"i": i, "nested": {"list": [1, 2.5, None, "x"]}},
                    metadata={"m": True} if i % 3 == 0 else {},
                ),
                ttl=LONG if i % 2 else None,
            )
            await engine.sessions.append_run(
                f"s{i}",
                Run(
                    run_id="r1",
                    messages=(
                        Message(role="user", content=f"hello {i} ✓"),
                        Message(role="assistant", content="hi", metadata={"t": 1}),
                    ),
                ),
            )
        await engine.sessions.set_summary("s2", "a summary", topics=("a", "b"))
        await engine.sessions.rename("s4", "renamed")
        await engine.sessions.delete("s5")
        for i in range(6):
            await engine.memories.upsert(
                UserMemory(
                    user_id=f"u{i % 2}",
                    memory_id=f"m{i}",
                    memory=f"likes tea number {i}",
                    topics=("drinks", f"t{i}"),
                    input="I like tea" if i == 0 else None,
                    agent_id="helper" if i == 1 else None,
                ),
                ttl=LONG if i % 3 == 0 else None,
            )
        await engine.working.store("c1", "scratch", metadata={"k": 1}, ttl=LONG)
        await engine.working.store("c2", "forever", memory_type="plan", ttl=None)
        await engine.knowledge.upsert(
            KnowledgeDoc(
                doc_id="d1",
                name="sky",
                description="the sky is blue",
                content_hash="abc",
                metadata={"source": "web"},
            )
        )
        await engine.knowledge.upsert(KnowledgeDoc(doc_id="d2", name="sea"), ttl=LONG)
        await engine.items.put(("docs", "u1"), "k1", {"text": "an item", "n": 1}, ttl=LONG)
        await engine.items.put(("docs", "u2"), "k2", {"text": "another"})
        await engine.checkpoints.put(
            Checkpoint(
                thread_id="t1",
                checkpoint_ns="",
                checkpoint_id="cp1",
                type="msgpack",
                data=b"\x00\x01binary",
                metadata_type="json",
                metadata_data=b"{}",
            ),
            (
                ChannelBlob(
                    thread_id="t1",
                    checkpoint_ns="",
                    channel="messages",
                    version="1",
                    type="bytes",
                    data=b"\xff\xfe",
                ),
            ),
        )
        await engine.checkpoints.put_writes(
            (
                PendingWrite(
                    thread_id="t1",
                    checkpoint_ns="",
                    checkpoint_id="cp1",
                    task_id="task",
                    idx=0,
                    channel="c",
                    type="bytes",
                    data=b"w",
                ),
            )
        )
        await engine.compact()
        snapshot = await engine.snapshot()
    del snapshot["taken_at"]
    return orjson.dumps(snapshot, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def main() -> None:
    shutil.rmtree(FIXTURE, ignore_errors=True)
    FIXTURE.mkdir(parents=True)
    expected = trio.run(write, FIXTURE)
    (FIXTURE / "LOCK").unlink()
    EXPECTED.write_bytes(expected + b"\n")


if __name__ == "__main__":
    main()
