"""The on-disk formats (``engine._durable._format``): header, framing, entries, snapshots.

Pure: bytes in, bytes out. The on-disk behaviour of recovery (truncating a torn tail,
refusing damage in the middle) is tested in ``test_durability.py``.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    DEFAULT,
    EngineError,
    FrozenDict,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._core._codec import freeze
from engine._durable._format import (
    FORMAT_VERSION,
    HEADER_SIZE,
    JOURNAL_MAGIC,
    MAX_RECORD,
    SNAPSHOT_MAGIC,
    JournalCorrupt,
    JournalHeader,
    decode_entry,
    decode_header,
    decode_snapshot,
    encode_entry,
    encode_header,
    encode_snapshot,
    frame,
    iter_entries,
    read_frames,
)

PATH = "/data/g0001-s0002-00000003.journal"


def journal(*payloads: bytes, header: JournalHeader | None = None) -> bytes:
    head = encode_header(header or JournalHeader(2, 4, 3))
    return head + b"".join(frame(payload) for payload in payloads)


def boundaries(data: bytes) -> list[int]:
    """The offset at which each record of ``data`` ends (after the header)."""
    ends = []
    offset = HEADER_SIZE
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 8 + length
        ends.append(offset)
    return ends


# --------------------------------------------------------------------- header


def test_header_layout() -> None:
    data = encode_header(JournalHeader(shard=2, shards=4, segment=7))
    assert len(data) == HEADER_SIZE == 22
    assert data[:4] == JOURNAL_MAGIC == b"SHMJ"
    assert struct.unpack("<HIIQ", data[4:]) == (FORMAT_VERSION, 2, 4, 7)
    assert decode_header(data, PATH) == JournalHeader(2, 4, 7)


def test_header_with_records_after_it_decodes() -> None:
    assert decode_header(journal(b"[]"), PATH) == JournalHeader(2, 4, 3)


@pytest.mark.parametrize("size", [0, 1, 4, 21])
def test_truncated_header_is_corrupt(size: int) -> None:
    data = encode_header(JournalHeader(0, 1, 1))[:size]
    with pytest.raises(JournalCorrupt, match=rf"^{PATH}: offset 0: header truncated \({size} "):
        decode_header(data, PATH)


def test_bad_magic_is_corrupt() -> None:
    data = b"XXXX" + encode_header(JournalHeader(0, 1, 1))[4:]
    with pytest.raises(JournalCorrupt, match=rf"^{PATH}: offset 0: not a shardmem journal"):
        decode_header(data, PATH)


def test_unknown_version_is_corrupt() -> None:
    data = struct.pack("<4sHIIQ", JOURNAL_MAGIC, FORMAT_VERSION + 1, 0, 1, 1)
    with pytest.raises(JournalCorrupt, match=rf"^{PATH}: offset 4: journal version 2 "):
        decode_header(data, PATH)


def test_journal_corrupt_is_an_engine_error() -> None:
    assert issubclass(JournalCorrupt, EngineError)


# -------------------------------------------------------------------- framing


def test_frame_is_length_crc_payload() -> None:
    payload = b'[1,2.5,"clear",[]]'
    data = frame(payload)
    assert struct.unpack_from("<II", data) == (len(payload), zlib.crc32(payload))
    assert data[8:] == payload


def test_read_frames_returns_every_record() -> None:
    payloads = [b"a", b"b", b"ccc" * 100, bytes(range(256))]  # the writer never writes b""
    data = journal(*payloads)
    assert read_frames(data, PATH) == (payloads, len(data))


def test_read_frames_on_header_only() -> None:
    data = journal()
    assert read_frames(data, PATH) == ([], HEADER_SIZE)


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=8), st.data())
def test_any_cut_is_a_torn_tail_that_keeps_every_complete_record(
    payloads: list[bytes], data: st.DataObject
) -> None:
    full = journal(*payloads)
    ends = boundaries(full)
    cut = data.draw(st.integers(HEADER_SIZE, len(full)), label="cut")
    kept = [end for end in ends if end <= cut]
    found, end = read_frames(full[:cut], PATH)
    assert found == payloads[: len(kept)]
    assert end == (kept[-1] if kept else HEADER_SIZE)


def test_last_record_failing_its_crc_is_a_torn_tail() -> None:
    data = bytearray(journal(b"first", b"second", b"third"))
    data[-1] ^= 0xFF  # a crash mid-write left the last record's bytes wrong
    payloads, end = read_frames(bytes(data), PATH)
    assert payloads == [b"first", b"second"]
    assert end == boundaries(bytes(data))[1]


def test_crc_failure_in_the_middle_is_corrupt_and_names_the_offset() -> None:
    data = bytearray(journal(b"first", b"second", b"third"))
    second = boundaries(bytes(data))[0]
    data[second + 8] ^= 0x01  # a payload byte of the second record
    message = (
        rf"^{PATH}: offset {second}: record fails its CRC check and is followed by "
        rf"{8 + len(b'third')} more bytes"
    )
    with pytest.raises(JournalCorrupt, match=message):
        read_frames(bytes(data), PATH)


def test_crc_field_damage_in_the_middle_is_corrupt() -> None:
    data = bytearray(journal(b"first", b"second"))
    data[HEADER_SIZE + 4] ^= 0x80  # the first record's CRC
    with pytest.raises(JournalCorrupt, match=rf"offset {HEADER_SIZE}: record fails its CRC"):
        read_frames(bytes(data), PATH)


def test_length_running_past_the_end_with_valid_records_after_it_is_corrupt() -> None:
    payloads = [b'[1,0.0,"a",[]]', b'[2,0.0,"b",[]]', b'[3,0.0,"c",[]]']
    data = bytearray(journal(*payloads))
    data[HEADER_SIZE + 2] ^= 0x01  # record 0 now claims 64 KiB more than the file has
    second = boundaries(journal(*payloads))[0]
    message = (
        rf"^{PATH}: offset {HEADER_SIZE}: record length \d+ runs past the end of the file "
        rf"but a valid record follows at offset {second} "
    )
    with pytest.raises(JournalCorrupt, match=message):
        read_frames(bytes(data), PATH)


def test_garbage_length_at_the_end_is_a_torn_tail() -> None:
    data = journal(b"first") + struct.pack("<II", MAX_RECORD + 1, 0)
    assert read_frames(data, PATH) == ([b"first"], HEADER_SIZE + 8 + 5)


def test_read_frames_from_an_offset() -> None:
    data = journal(b"a", b"b")
    first_end = boundaries(data)[0]
    assert read_frames(data, PATH, start=first_end) == ([b"b"], len(data))


# -------------------------------------------------------------------- entries

RUN = Run(
    run_id="r1",
    messages=(
        Message(role="user", content="My name is Alice", metadata={"lang": "en"}),
        Message(role="assistant", content="Hello Alice", name="helper", created_at=5.0),
    ),
    status="completed",
    metadata={"tokens": [1, 2, {"deep": None}]},
    created_at=5.0,
)
RECORDS: list[Any] = [
    Session(
        session_id="s1",
        user_id="alice",
        session_type="team",
        team_id="t",
        name="Trip",
        state={"cart": ["a", "b"], "n": 3, "ok": True, "pi": 3.25, "none": None},
        metadata={"nested": {"x": [1, [2, 3]]}},
        runs=(RUN,),
        summary=SessionSummary(summary="Alice", topics=("name",), updated_at=6.0),
        created_at=1.0,
        updated_at=6.0,
        expires_at=106.0,
    ),
    RUN,
    RUN.messages[0],
    SessionSummary(summary="s", topics=("a", "b")),
    UserMemory(user_id="alice", memory_id="m1", memory="Vegan", topics=("food",), input="x"),
    WorkingMemory(conversation_id="c1", data='ü ✓ \n"quoted"', metadata={"k": "v"}),
    KnowledgeDoc(doc_id="d1", name="Doc", description="d", content_hash="h", metadata={}),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_kind_round_trips(record: Any) -> None:
    seq, now, op, args = decode_entry(encode_entry(7, 123.5, "op", (record,)))
    assert (seq, now, op) == (7, 123.5, "op")
    assert args == (record,)
    assert type(args[0]) is type(record)


def test_argument_tags_round_trip() -> None:
    args = (
        None,
        "text",
        True,
        0,
        -3,
        2.5,
        DEFAULT,
        freeze({"a": [1, 2], "b": {"c": None}}, "payload"),
        ("s1", "s2"),
        (),
        frozenset({"user", "assistant"}),
    )
    _, _, _, decoded = decode_entry(encode_entry(1, 0.0, "op", args))
    assert decoded == args
    assert decoded[6] is DEFAULT
    assert isinstance(decoded[7], FrozenDict)
    assert isinstance(decoded[8], tuple) and isinstance(decoded[10], frozenset)


def test_entries_are_json_not_pickle() -> None:
    payload = encode_entry(3, 10.25, "store_working", (RECORDS[5], 60.0))
    parsed = json.loads(payload)  # the standard library reads it
    assert parsed[:3] == [3, 10.25, "store_working"]
    assert parsed[3][0]["$"] == "WorkingMemory"
    assert parsed[3][1] == 60.0


def test_now_survives_exactly() -> None:
    now = 1_700_000_000.123_456_7
    assert decode_entry(encode_entry(1, now, "clear", ()))[1] == now


def test_unjournalable_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot journal an argument of type list"):
        encode_entry(1, 0.0, "op", ([1, 2],))


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'["1", 0.0, "op", []]',
        b'[1, "now", "op", []]',
        b"[1, 0.0, 5, []]",
        b'[1, 0.0, "op", [{"$": "Pickle"}]]',
    ],
)
def test_malformed_entries_are_value_errors(payload: bytes) -> None:
    with pytest.raises(ValueError):
        decode_entry(payload)


def test_iter_entries_names_the_file() -> None:
    good = encode_entry(1, 0.0, "clear", ())
    entries = iter_entries([good, b"{oops"], PATH)
    assert next(entries)[0] == 1
    with pytest.raises(JournalCorrupt, match=rf"^{PATH}: record 1: undecodable entry"):
        next(entries)
    entries = iter_entries([b"{oops"], PATH, offsets=[1234])
    with pytest.raises(JournalCorrupt, match=rf"^{PATH}: offset 1234: undecodable entry"):
        next(entries)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=5), inner)
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=5), JSON))
def test_payloads_round_trip(state: dict[str, Any]) -> None:
    session = Session(session_id="s", state=state)
    _, _, _, (decoded,) = decode_entry(encode_entry(1, 0.0, "upsert_session", (session,)))
    assert decoded == session


# ------------------------------------------------------------------ snapshots

SNAP = "/data/g0001-s0000.snapshot"
BODY = {
    "shard": 0,
    "shards": 1,
    "seq": 12,
    "segment": 3,
    "taken_at": 100.5,
    "records": [["WorkingMemory", RECORDS[5].to_dict(), 60.0]],
}


def test_snapshot_layout_and_round_trip() -> None:
    data = encode_snapshot(BODY)
    magic, version, crc = struct.unpack_from("<4sHI", data)
    assert (magic, version) == (SNAPSHOT_MAGIC, FORMAT_VERSION)
    assert crc == zlib.crc32(data[10:])
    assert orjson.loads(data[10:]) == BODY
    assert decode_snapshot(data, SNAP) == BODY


def test_snapshot_crc_failure_is_corrupt() -> None:
    data = bytearray(encode_snapshot(BODY))
    data[len(data) // 2] ^= 0x04
    with pytest.raises(JournalCorrupt, match=rf"^{SNAP}: offset 10: snapshot fails its CRC"):
        decode_snapshot(bytes(data), SNAP)


def test_snapshot_bad_magic_version_and_truncation_are_corrupt() -> None:
    data = encode_snapshot(BODY)
    with pytest.raises(JournalCorrupt, match=rf"^{SNAP}: offset 0: not a shardmem snapshot"):
        decode_snapshot(JOURNAL_MAGIC + data[4:], SNAP)
    other = struct.pack("<4sH", SNAPSHOT_MAGIC, 9) + data[6:]
    with pytest.raises(JournalCorrupt, match=rf"^{SNAP}: offset 4: snapshot version 9 "):
        decode_snapshot(other, SNAP)
    with pytest.raises(JournalCorrupt, match=rf"^{SNAP}: offset 0: snapshot truncated"):
        decode_snapshot(data[:7], SNAP)
    with pytest.raises(JournalCorrupt, match="fails its CRC"):
        decode_snapshot(data[:-1], SNAP)  # a cut snapshot is caught by its CRC
