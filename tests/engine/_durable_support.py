"""Helpers shared by the durable-engine tests (``test_durability*.py``)."""

from __future__ import annotations

import shutil
import struct
import threading
from pathlib import Path
from typing import Any

import trio
import trio.testing

from engine import (
    KnowledgeDoc,
    MemoryEngine,
    Message,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
    shard_of,
)
from engine._core._snapshot import routing_key
from engine._durable._format import (
    HEADER_SIZE,
    decode_entry,
    read_frames,
)
from engine._embedded._durable_shard import DurableShard

START = 1_000_000.0


def files(root: Path) -> list[str]:
    return sorted(path.name for path in root.iterdir())


def journal_files(root: Path, shard: int | None = None) -> list[Path]:
    return sorted(
        path
        for path in root.glob("*.journal")
        if shard is None or path.name.split("-")[1] == f"s{shard:04d}"
    )


def entries(path: Path) -> list[tuple[int, float, str, tuple[Any, ...]]]:
    payloads, _ = read_frames(path.read_bytes(), str(path))
    return [decode_entry(payload) for payload in payloads]


def ends_of_records(path: Path) -> list[int]:
    """The offset just past each record of a journal file."""
    data = path.read_bytes()
    ends, offset = [], HEADER_SIZE
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 8 + length
        ends.append(offset)
    assert offset == len(data)
    return ends


def strip(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key != "taken_at"}


async def fill(mem: MemoryEngine, n: int = 12, prefix: str = "") -> None:
    """Write records of every kind, through every write operation."""
    for i in range(n):
        sid = f"{prefix}s{i}"
        await mem.sessions.upsert(
            Session(session_id=sid, user_id=f"u{i % 3}", name=f"n{i}", state={"i": i, "l": [i]}),
            ttl=None if i % 2 else 5000.0,
        )
        await mem.sessions.append_run(
            sid,
            Run(run_id="r1", messages=(Message(role="user", content=f"hello {i}"),)),
        )
        if i % 3 == 0:
            await mem.sessions.set_summary(sid, f"summary {i}", topics=("t",))
        if i % 4 == 0:
            await mem.sessions.rename(sid, f"renamed {i}")
        await mem.memories.upsert(
            UserMemory(user_id=f"u{i % 3}", memory_id=f"{prefix}m{i}", memory=f"likes {i}"),
            ttl=None if i % 2 else 7000.0,
        )
        await mem.working.store(f"{prefix}c{i}", f"data {i}", metadata={"i": i}, ttl=9000.0)
        if i % 2:
            await mem.working.update(f"{prefix}c{i}", f"data {i}+")
        await mem.knowledge.upsert(KnowledgeDoc(doc_id=f"{prefix}d{i}", name=f"doc {i}"))
    await mem.sessions.delete(f"{prefix}s0")
    await mem.memories.delete(f"{prefix}m1", user_id="u1")
    await mem.working.delete(f"{prefix}c2")
    await mem.knowledge.delete(f"{prefix}d3")


def assert_routed(mem: MemoryEngine) -> None:
    """Every record lives on the shard its routing key names; every store is sound."""
    for index, store in enumerate(mem._stores):
        store._check()
        for kind in store.dump(mem.now()).values():
            for record in kind:
                assert shard_of(routing_key(record), mem.shards) == index, record


def copy_dir(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


async def write_sessions(root: Path, n: int, *, shards: int = 1, start: int = 0) -> None:
    async with open_memory_engine(shards=shards, data_dir=root, fsync="no") as mem:
        for i in range(start, start + n):
            await mem.sessions.upsert(Session(session_id=f"s{i}", user_id="u", name="x" * i))


async def session_ids(root: Path, shards: int = 1) -> list[str]:
    async with open_memory_engine(shards=shards, data_dir=root) as mem:
        snapshot = await mem.snapshot()
    return sorted((r["session_id"] for r in snapshot["sessions"]), key=lambda s: int(s[1:]))


async def session_ids_named(root: Path) -> list[str]:
    async with open_memory_engine(shards=1, data_dir=root) as mem:
        return sorted(r["session_id"] for r in (await mem.snapshot())["sessions"])


async def compacted(behaviours: list[DurableShard]) -> None:
    """Wait until no shard is writing a snapshot in the background."""
    for _ in range(5000):
        await trio.testing.wait_all_tasks_blocked()
        if not any(shard._compacting for shard in behaviours):
            return
        await trio.to_thread.run_sync(threading.Event().wait, 0.001)
    raise AssertionError("a compaction did not finish")
