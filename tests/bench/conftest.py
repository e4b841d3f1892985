"""Shared helpers of the data-directory tests: a data directory built by the real engine."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from bench import main
from engine import KnowledgeDoc, Message, Run, Session, UserMemory, open_memory_engine

#: Journal framing (docs of ``engine._durable._format``): a 22-byte segment header, then
#: records of ``length u32 | crc32 u32 | payload``, little-endian.
JOURNAL_HEADER_BYTES = 22
FRAME = struct.Struct("<II")


@attrs.frozen(kw_only=True)
class Written:
    """What :func:`build_data_dir` wrote (all live: no TTL)."""

    shards: int
    sessions: int
    runs: int
    memories: int
    working: int
    knowledge: int
    users: int
    writes: int  # acknowledged write calls = journal entries


def build_data_dir(
    path: Path,
    *,
    shards: int = 2,
    sessions: int = 6,
    runs_per_session: int = 3,
    memories: int = 5,
    working: int = 4,
    knowledge: int = 2,
) -> Written:
    """Write records through a durable engine on ``path`` (``fsync="always"``), close it.

    Sessions belong to users ``u0``..``u2``, memories to ``m0``..``m4`` (so there are
    ``min(sessions, 3) + min(memories, 5)`` users). Nothing expires.
    """

    async def write() -> None:
        async with open_memory_engine(shards=shards, data_dir=path, fsync="always") as mem:
            for s in range(sessions):
                session_id = f"s{s}"
                user = f"u{s % 3}"
                await mem.sessions.upsert(
                    Session(session_id=session_id, user_id=user, agent_id="a"), ttl=None
                )
                for r in range(runs_per_session):
                    run = Run(
                        run_id=f"r{r}",
                        messages=(
                            Message(role="user", content=f"question {s}.{r}"),
                            Message(role="assistant", content=f"answer {s}.{r}"),
                        ),
                    )
                    await mem.sessions.append_run(session_id, run, user_id=user)
            for m in range(memories):
                await mem.memories.upsert(
                    UserMemory(memory_id=f"mem{m}", user_id=f"m{m % 5}", memory=f"likes tea {m}"),
                    ttl=None,
                )
            for w in range(working):
                await mem.working.store(f"conv{w}", f"note {w}", ttl=None)
            for k in range(knowledge):
                await mem.knowledge.upsert(KnowledgeDoc(doc_id=f"doc{k}", name=f"Doc {k}"))

    trio.run(write)
    return Written(
        shards=shards,
        sessions=sessions,
        runs=sessions * runs_per_session,
        memories=memories,
        working=working,
        knowledge=knowledge,
        users=min(sessions, 3) + min(memories, 5),
        writes=sessions * (1 + runs_per_session) + memories + working + knowledge,
    )


def run_cli(argv: list[str]) -> int:
    """``main(argv)``'s exit status, whether it returns it or raises ``SystemExit``."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def inspect_json(path: Path, out: Path) -> dict[str, Any]:
    """``shardmem inspect path --json out``, checked to succeed, as a dict."""
    assert run_cli(["inspect", str(path), "--json", str(out)]) == 0
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def corrupt_first_record(journal: Path) -> int:
    """Flip a byte in the middle of the first record's payload; return that record's
    offset (the file must hold more records after it)."""
    data = bytearray(journal.read_bytes())
    length, _ = FRAME.unpack_from(data, JOURNAL_HEADER_BYTES)
    end = JOURNAL_HEADER_BYTES + FRAME.size + length
    assert end < len(data), "the first record must not be the last"
    data[JOURNAL_HEADER_BYTES + FRAME.size + length // 2] ^= 0xFF
    journal.write_bytes(bytes(data))
    return JOURNAL_HEADER_BYTES


@pytest.fixture
def written_dir(tmp_path: Path) -> tuple[Path, Written]:
    """A 2-shard data directory holding every kind of record."""
    path = tmp_path / "data"
    return path, build_data_dir(path)
