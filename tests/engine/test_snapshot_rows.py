"""Durable snapshots of format version 2: the shard's rows as they are (msgpack).

Round trips of a row of every kind with every field set (a change of a row layout in
``engine._core._rows`` fails here first: it needs a new snapshot version), recovery
equal to the state before close, and damage reported as ``JournalCorrupt`` naming the
file.
"""

from __future__ import annotations

import gc
import struct
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from engine import (
    EngineConfig,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
    open_memory_engine,
)
from engine._durable._data_dir import DataDir, store_snapshot_body
from engine._durable._format import (
    SNAPSHOT_MAGIC,
    SNAPSHOT_VERSION,
    JournalCorrupt,
    decode_snapshot,
    encode_snapshot,
    read_snapshot,
)
from engine._durable._recovery import recover
from engine._durable._snapshot_rows import SnapshotRows
from engine._store._store import ShardStore

from ._durable_support import START, assert_routed, fill, strip

NOW = START + 10

FULL = (
    Session(
        session_id="s",
        user_id="u",
        session_type="team",
        agent_id="a",
        team_id="t",
        workflow_id="w",
        name="n",
        state={"k": [1, 2.5, None, "x", {"y": True}]},
        metadata={"m": "✓"},
        runs=(
            Run(
                run_id="r1",
                messages=(
                    Message(role="user", content="hi", name="me", metadata={"a": 1}),
                    Message(role="assistant", content="hello"),
                ),
                status="done",
                metadata={"b": 2},
            ),
        ),
        summary=SessionSummary(summary="sum", topics=("x", "y")),
        created_at=START - 5,
    ),
    UserMemory(
        user_id="u",
        memory_id="m",
        memory="likes tea",
        topics=("drinks", "tea"),
        input="I like tea",
        agent_id="a",
        team_id="t",
        created_at=3,  # a caller's int stays an int
    ),
    WorkingMemory(conversation_id="c", memory_type="plan", data="d", metadata={"w": [1]}),
    KnowledgeDoc(
        doc_id="d",
        name="sky",
        description="blue",
        content_hash="h",
        status="indexed",
        metadata={"src": "web"},
    ),
)


def _store() -> ShardStore:
    store = ShardStore(EngineConfig())
    store.upsert_session(START, FULL[0], 100.0)
    store.upsert_memory(START, FULL[1], None)
    store.store_working(START, FULL[2], 50)  # an int TTL stays an int
    store.upsert_doc(START, FULL[3], None)
    store.upsert_doc(START, KnowledgeDoc(doc_id="gone", name="x"), 1.0)  # expired at NOW
    store.upsert_session(START, Session(session_id="bare"), None)  # every optional unset
    return store


def _body(store: ShardStore) -> SnapshotRows:
    return store_snapshot_body(store, NOW, 0, 1, 7, 3)


def test_rows_round_trip_as_they_are() -> None:
    store = _store()
    body = _body(store)
    data = encode_snapshot(body)
    magic, version, crc = struct.unpack_from("<4sHI", data)
    assert (magic, version, crc) == (SNAPSHOT_MAGIC, SNAPSHOT_VERSION, zlib.crc32(data[10:]))
    back = read_snapshot(data, "/x.snapshot")
    assert back == body
    assert (back.seq, back.segment, back.taken_at, back.shard, back.shards) == (7, 3, NOW, 0, 1)
    for kind, rows in enumerate(back.rows()):
        stored = {row for row in store._records_of(kind).values() if row[0] is None or row[0] > NOW}
        assert set(rows) == stored
        for row in rows:
            assert type(row) is tuple and all(type(v) is not list for v in row)
    assert sorted(back.ttls[0], key=repr) == [100.0, None]
    assert back.ttls[2] == [50] and type(back.ttls[2][0]) is int
    assert type(back.memories[0][1]) is int
    gc.collect()
    gc.collect()
    assert not any(gc.is_tracked(row) for rows in back.rows() for row in rows)


def test_a_loaded_snapshot_equals_the_store_it_came_from() -> None:
    store = _store()
    loaded = ShardStore(EngineConfig())
    body = read_snapshot(encode_snapshot(_body(store)), "/x.snapshot")
    assert loaded.load_kinds(body.taken_at, body.rows(), body.ttls) == 5
    loaded._check()
    store.expire_due(NOW)
    assert loaded.export_rows(NOW) == store.export_rows(NOW)
    assert loaded.dump(NOW) == store.dump(NOW)
    assert loaded.used_memory == store.used_memory
    assert dict(loaded._ttls) == dict(store._ttls)


def test_the_v1_view_of_a_v2_snapshot_is_what_v1_held() -> None:
    store = _store()
    body = _body(store)
    view = decode_snapshot(encode_snapshot(body), "/x.snapshot")
    store.expire_due(NOW)
    records = [r for kind in store.dump(NOW).values() for r in kind]
    expected = [[type(r).__name__, r.to_dict(), store.ttl_of(r)] for r in records]
    assert sorted(map(repr, view["records"])) == sorted(map(repr, expected))
    # ... and a v1 file of those records reads back as the same rows
    v1 = read_snapshot(encode_snapshot(view), "/x.snapshot")
    assert [sorted(rows, key=repr) for rows in v1.rows()] == [
        sorted(rows, key=repr) for rows in body.rows()
    ]


def _rewrite(path: Path, change: Any) -> None:
    """Re-encode the snapshot at ``path`` with its body changed (CRC made valid)."""
    body = msgspec.msgpack.decode(path.read_bytes()[10:])
    change(body)
    payload = msgspec.msgpack.encode(body)
    header = struct.pack("<4sHI", SNAPSHOT_MAGIC, SNAPSHOT_VERSION, zlib.crc32(payload))
    path.write_bytes(header + payload)


async def _written(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    config = EngineConfig(shards=1)
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        await fill(mem, 6)
        await mem.compact()
        before = await mem.snapshot()
    return tmp_path / "g0001-s0000.snapshot", before


async def test_recovery_from_the_new_snapshot_equals_the_state_before_close(
    tmp_path: Path,
) -> None:
    config = EngineConfig(shards=2)
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        await fill(mem, 12)
        await mem.compact()
        before = await mem.snapshot()
    for path in tmp_path.glob("*.snapshot"):
        assert struct.unpack_from("<4sH", path.read_bytes())[1] == SNAPSHOT_VERSION
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == strip(before)
        assert_routed(mem)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["sessions"][0].__setitem__(4, 12), r"\$\.sessions\[0\]\[4\]"),
        (lambda b: b["memories"][0].pop(), r"\$\.memories\[0\]"),
        (lambda b: b.__setitem__("working", 3), r"\$\.working"),
        (lambda b: b.__setitem__("extra", 1), "extra"),
        (lambda b: b.pop("ttls"), "ttls"),
        (lambda b: b["ttls"][0].append(None), "TTLs for"),
        (
            lambda b: (b["sessions"].append(b["sessions"][0]), b["ttls"][0].append(None)),
            "already stored",
        ),
        (lambda b: b["records"].append(["Nope", {}, None]), "record Nope"),
    ],
)
async def test_a_damaged_new_snapshot_is_corrupt_naming_the_file(
    tmp_path: Path, change: Any, message: str
) -> None:
    path, _ = await _written(tmp_path)
    _rewrite(path, change)
    with pytest.raises(JournalCorrupt, match=rf"^{path}: .*{message}"):
        async with open_memory_engine(shards=1, data_dir=tmp_path, start_time=START):
            pass


async def test_a_flipped_bit_in_a_new_snapshot_fails_its_crc(tmp_path: Path) -> None:
    path, _ = await _written(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    directory = DataDir.open(tmp_path)
    try:
        with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 10: snapshot fails its CRC"):
            recover(directory, EngineConfig(shards=1), START)
    finally:
        directory.close()
