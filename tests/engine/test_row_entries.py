"""Row entries: a whole-record write is journaled as the row it stored; replay puts
the row back, and damage in a row entry is ``JournalCorrupt`` naming file and offset."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from engine import JournalCorrupt, KnowledgeDoc, Session, UserMemory, open_memory_engine
from engine._durable._format import frame
from engine._durable._row_entries import ROW_ENTRY_MARK, RowWrite, encode_row_entry

from ._durable_support import START, entries, journal_files, session_ids, strip, write_sessions


async def test_upserts_are_journaled_as_rows_and_replay_to_the_same_state(
    tmp_path: Path,
) -> None:
    async with open_memory_engine(shards=1, data_dir=tmp_path, start_time=START) as mem:
        await mem.sessions.upsert(Session(session_id="s", user_id="u", state={"a": 1}), ttl=60)
        await mem.sessions.rename("s", "named")
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="tea"))
        await mem.working.store("c", "scratch", metadata={"k": 1}, ttl=30)
        await mem.knowledge.upsert(KnowledgeDoc(doc_id="d", name="sky"))
        await mem.sessions.upsert(Session(session_id="s", user_id="u", name="again"))
        before = await mem.snapshot()
    (path,) = journal_files(tmp_path)
    logged = entries(path)
    assert [op for _, _, op, _ in logged] == [
        "upsert_session",
        "rename_session",
        "upsert_memory",
        "store_working",
        "upsert_doc",
        "upsert_session",
    ]
    rows = [args[0] for _, _, op, args in logged if op != "rename_session"]
    assert all(type(arg) is RowWrite for arg in rows)
    assert [arg.kind for arg in rows] == [0, 1, 2, 3, 0]
    assert rows[0].ttl == 60 and rows[0].row[0] == rows[0].row[2] + 60  # updated_at + ttl
    assert rows[-1].row[1] == rows[0].row[1]  # created_at kept from the stored session
    async with open_memory_engine(shards=1, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == strip(before)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ((3, START, "upsert_session", 0, ("not", "a", "row"), None), r"\$\[4\]|length"),
        ((3, START, "upsert_session", 7, (), None), "unknown kind 7"),
        ((3, START, "delete_session", 3, ("x",) * 9, None), "undecodable|row entry"),
    ],
)
async def test_a_damaged_row_entry_is_corrupt(
    tmp_path: Path, entry: tuple[object, ...], message: str
) -> None:
    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    payload = msgspec.msgpack.encode(entry)
    assert payload[0] == ROW_ENTRY_MARK
    with open(path, "ab") as file:
        file.write(frame(payload))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: .*({message})"):
        await session_ids(tmp_path)


async def test_a_row_entry_of_another_kind_than_its_operation_is_corrupt(
    tmp_path: Path,
) -> None:
    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    doc = (None, START, START, "d", "sky", None, None, "ready", None)
    with open(path, "ab") as file:
        file.write(frame(encode_row_entry(3, START, "upsert_session", 3, doc, None)))
    with pytest.raises(
        JournalCorrupt, match=rf"^{path}: entry 3: replaying upsert_session failed: .*kind 3"
    ):
        await session_ids(tmp_path)


@pytest.mark.parametrize("field", ["created_at", "updated_at", "expires_at"])
async def test_a_row_the_journal_cannot_hold_is_refused_before_it_is_applied(
    tmp_path: Path, field: str
) -> None:
    """An int timestamp beyond 64 bits passes the record's checks (finite), but
    msgpack cannot hold it: the upsert is refused before it changes anything, as a
    logical entry's arguments are."""
    async with open_memory_engine(shards=1, data_dir=tmp_path) as mem:
        with pytest.raises(TypeError, match="the journal cannot store this request"):
            await mem.sessions.upsert(Session(session_id="bad", **{field: 2**70}))
        with pytest.raises(TypeError, match="the journal cannot store this request"):
            await mem.memories.upsert(UserMemory(user_id="u", memory="x", **{field: 2**70}))
        assert await mem.sessions.get("bad") is None
        assert await mem.memories.list(user_id="u") == []
        await mem.sessions.upsert(Session(session_id="s7"))
    assert await session_ids(tmp_path) == ["s7"]
