"""The on-disk formats of durability: journal framing, journal entries, snapshots.

Pure: bytes in, bytes out, no trio and no clock.

Journal file (one per shard and segment)::

    header  = b"SHMJ" | version u16 | shard u32 | shards u32 | segment u64   (22 bytes)
    record  = length u32 | crc32(payload) u32 | payload                        (repeated)
    payload = JSON [seq, now, op, args]                    (a logical entry)
            | msgpack [seq, now, op, kind, row, ttl]         (a row entry: _row_entries)

All integers are little-endian. ``op`` is a ``ShardStore`` method name; ``args`` its
arguments after ``now``, tagged so that records, tuples and the ``DEFAULT`` sentinel
come back as they were. Replaying the entries in order through the same methods with
the same ``now`` rebuilds the shard exactly (the store never reads a clock).

Shard snapshot file: ``b"SHMS" | version u16 | crc32(payload) u32 | payload``. Version 2
(written today): the payload is msgpack of the shard's rows as the store holds them
(:class:`~engine._durable._snapshot_rows.SnapshotRows`). Version 1 (still read): JSON
``{"shard", "shards", "seq", "segment", "taken_at", "records"}``, each record its
``[class name, to_dict(), ttl]``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any, Final

import attrs
import orjson

from engine._core._codec import FrozenDict
from engine._core._encoded import frozen
from engine._core._errors import EngineError
from engine._core._items import ChannelBlob, Checkpoint, Item, PendingWrite
from engine._core._records import (
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._core._trusted import trusted_record
from engine._core._validate import DEFAULT
from engine._durable._row_entries import ROW_ENTRY_MARK, decode_row_entry
from engine._durable._snapshot_rows import (
    SnapshotRows,
    decode_rows_body,
    encode_rows_body,
    rows_of_v1,
    v1_of_rows,
)

__all__ = [
    "JOURNAL_MAGIC",
    "JournalCorrupt",
    "JournalHeader",
    "decode_entry",
    "decode_record",
    "decode_snapshot",
    "encode_entry",
    "encode_header",
    "encode_snapshot",
    "frame",
    "read_frames",
    "read_snapshot",
    "scan_frames",
]

JOURNAL_MAGIC: Final = b"SHMJ"
SNAPSHOT_MAGIC: Final = b"SHMS"
FORMAT_VERSION: Final = 1
#: The snapshot version written today (rows); version 1 (JSON records) is still read.
SNAPSHOT_VERSION: Final = 2
_SNAPSHOT_V1: Final = 1
_HEADER = struct.Struct("<4sHIIQ")
_FRAME = struct.Struct("<II")
_SNAPSHOT_HEADER = struct.Struct("<4sHI")
MAX_RECORD: Final = 1 << 30  # bytes; a longer length field is garbage (a torn write)
#: The first byte of an entry's payload: JSON's ``[`` or a row entry's msgpack header.
_ENTRY_MARKS: Final = frozenset((ord("["), ROW_ENTRY_MARK))
_ROW_ENTRY: Final = bytes((ROW_ENTRY_MARK,))

RECORD_TYPES: Final = {
    cls.__name__: cls
    for cls in (
        *(Session, Run, Message, SessionSummary, UserMemory, WorkingMemory, KnowledgeDoc),
        *(Item, Checkpoint, ChannelBlob, PendingWrite),
    )
}
#: Records with ``bytes`` fields: journaled through their ``to_dict`` (base64).
_BINARY_RECORDS: Final = (Checkpoint, ChannelBlob, PendingWrite)
_LANGGRAPH_RECORDS: Final = frozenset((Item, Checkpoint, ChannelBlob, PendingWrite))


class JournalCorrupt(EngineError):
    """A journal or snapshot file is damaged where a crash cannot explain it.

    The message names the file and the byte offset; nothing is dropped silently.
    """


@attrs.frozen
class JournalHeader:
    """The header of one journal segment file."""

    shard: int
    shards: int
    segment: int


def encode_header(header: JournalHeader) -> bytes:
    """The 22-byte header of a journal segment."""
    return _HEADER.pack(JOURNAL_MAGIC, FORMAT_VERSION, header.shard, header.shards, header.segment)


def decode_header(data: bytes, path: str) -> JournalHeader:
    """Parse a journal header. Raises :class:`JournalCorrupt` naming ``path``."""
    if len(data) < _HEADER.size:
        raise JournalCorrupt(f"{path}: offset 0: header truncated ({len(data)} bytes)")
    magic, version, shard, shards, segment = _HEADER.unpack_from(data)
    if magic != JOURNAL_MAGIC:
        raise JournalCorrupt(f"{path}: offset 0: not a shardmem journal (magic {magic!r})")
    if version != FORMAT_VERSION:
        raise JournalCorrupt(f"{path}: offset 4: journal version {version} is not supported")
    return JournalHeader(shard, shards, segment)


HEADER_SIZE: Final = _HEADER.size


def frame(payload: bytes) -> bytes:
    """One framed journal record: length, CRC-32, payload."""
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes, path: str, start: int = HEADER_SIZE) -> tuple[list[bytes], int]:
    """Split journal bytes into payloads: ``(payloads, end)``.

    See :func:`scan_frames`, which also gives each record's offset.
    """
    payloads, _, end = scan_frames(data, path, start)
    return payloads, end


def scan_frames(
    data: bytes, path: str, start: int = HEADER_SIZE
) -> tuple[list[bytes], list[int], int]:
    """Split journal bytes into payloads.

    Returns:
        ``(payloads, offsets, end)``: the intact records, the byte offset of each,
        and the offset just past the last one. A torn tail — a last record cut short,
        a last record whose CRC fails and that reaches the end of the file, or a
        zero-filled tail (some filesystems show zeros after a power loss) — ends the
        list; the caller truncates the file at ``end``.

    Raises:
        JournalCorrupt: for damage that a crash cannot explain — a CRC failure, a
            length running past the end, or an empty record, followed by a valid
            record or non-zero bytes — naming ``path`` and the record's offset.
    """
    payloads: list[bytes] = []
    offsets: list[int] = []
    offset = start
    size = len(data)
    while offset < size:
        if offset + _FRAME.size > size:
            break  # torn: the frame header itself is cut
        length, crc = _FRAME.unpack_from(data, offset)
        end = offset + _FRAME.size + length
        if length == 0:
            # The writer never writes an empty record: zeros from here on are a
            # zero-filled tail; anything else is damage.
            if data.count(0, offset) == size - offset:
                break
            raise JournalCorrupt(
                f"{path}: offset {offset}: empty record followed by non-zero bytes "
                "(damage in the middle, not a torn write)"
            )
        if length > MAX_RECORD or end > size:
            # A cut payload — or a damaged length field in the middle, which a valid
            # record further on gives away.
            later = _next_valid_frame(data, offset + 1)
            if later is not None:
                raise JournalCorrupt(
                    f"{path}: offset {offset}: record length {length} runs past the end of "
                    f"the file but a valid record follows at offset {later} (damage in the "
                    "middle, not a torn write)"
                )
            break  # torn: the payload is cut
        payload = data[offset + _FRAME.size : end]
        if zlib.crc32(payload) != crc:
            if end == size:
                break  # torn: the last record was only partly written
            raise JournalCorrupt(
                f"{path}: offset {offset}: record fails its CRC check and is followed by "
                f"{size - end} more bytes (damage in the middle, not a torn write)"
            )
        payloads.append(payload)
        offsets.append(offset)
        offset = end
    return payloads, offsets, offset


def _next_valid_frame(data: bytes, start: int) -> int | None:
    """The offset of the first complete, CRC-valid record at or after ``start``.

    Used only when a record looks torn, to tell a torn tail (nothing valid after it)
    from a damaged length field in the middle. O(n * m) in the worst case for the n
    bytes after ``start``; a false match needs a 32-bit CRC collision.
    """
    size = len(data)
    for position in range(start, size - _FRAME.size + 1):
        length, crc = _FRAME.unpack_from(data, position)
        end = position + _FRAME.size + length
        body = position + _FRAME.size
        valid = length and end <= size and data[body] in _ENTRY_MARKS
        if valid and zlib.crc32(data[body:end]) == crc:
            return position
    return None


def _encode_arg(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if value is DEFAULT:
        return {"$": "DEFAULT"}
    kind = type(value)
    if kind.__name__ in RECORD_TYPES and RECORD_TYPES[kind.__name__] is kind:
        return {"$": kind.__name__, "v": value}  # fields via _record_fields, in C
    if isinstance(value, FrozenDict):
        return {"$": "dict", "v": value}  # orjson writes dict subclasses as objects
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_encode_arg(item) for item in value]}
    if isinstance(value, frozenset):
        return {"$": "frozenset", "v": sorted(value)}
    raise TypeError(f"cannot journal an argument of type {kind.__name__}")


def _decode_arg(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    tag = value.get("$")
    if tag == "DEFAULT":
        return DEFAULT
    if tag == "dict":  # CRC-checked, validated when written: trusted
        return frozen(value["v"])
    if tag == "tuple":
        return tuple(_decode_arg(item) for item in value["v"])
    if tag == "frozenset":
        return frozenset(value["v"])
    if str(tag) not in RECORD_TYPES:
        raise ValueError(f"unknown journal argument tag {tag!r}")
    return decode_record(str(tag), value["v"])


def decode_record(kind: str, fields: Any) -> Any:
    """The record of class ``kind`` from the ``to_dict()`` shape a journal or a
    snapshot holds: built without validation (:func:`trusted_record`; the frame's CRC
    vouches for it), but LangGraph's records (items, checkpoints: not stored as rows,
    with base64 binary fields) through their validating ``from_dict``.

    Raises:
        KeyError: for an unknown ``kind`` or a missing required field.
        TypeError, ValueError: for fields of an unusable shape.
    """
    cls = RECORD_TYPES[kind]
    if cls in _LANGGRAPH_RECORDS:
        return cls.from_dict(fields)
    return trusted_record(kind, fields)


_FIELD_NAMES: Final = {
    cls: tuple(field.name for field in attrs.fields(cls))
    for cls in RECORD_TYPES.values()
    if cls not in _BINARY_RECORDS
}


def _record_fields(value: Any) -> dict[str, Any]:
    """orjson's ``default``: a record as the dict of its fields (``to_dict``'s shape;
    tuples and frozen payloads are written by orjson itself)."""
    names = _FIELD_NAMES.get(type(value))
    if names is None and isinstance(value, _BINARY_RECORDS):
        return value.to_dict()
    if names is None:
        raise TypeError(f"cannot journal a value of type {type(value).__name__}")
    return {name: getattr(value, name) for name in names}


def encode_entry(seq: int, now: float, op: str, args: tuple[Any, ...]) -> bytes:
    """One journal entry's payload: JSON ``[seq, now, op, args]``."""
    return orjson.dumps([seq, now, op, [_encode_arg(arg) for arg in args]], default=_record_fields)


def decode_entry(payload: bytes) -> tuple[int, float, str, tuple[Any, ...]]:
    """Parse :func:`encode_entry`'s output, or a row entry's
    (:func:`~engine._durable._row_entries.encode_row_entry`: its one argument is a
    :class:`~engine._durable._row_entries.RowWrite`). Raises ``ValueError`` if
    malformed."""
    if payload[:1] == _ROW_ENTRY:
        return decode_row_entry(payload)
    seq, now, op, args = orjson.loads(payload)
    if type(seq) is not int or not isinstance(now, int | float) or type(op) is not str:
        raise ValueError("malformed journal entry")
    return seq, float(now), op, tuple(_decode_arg(arg) for arg in args)


def encode_snapshot(body: dict[str, Any] | SnapshotRows) -> bytes:
    """A shard snapshot file's bytes: magic, version, CRC-32, payload.

    A :class:`SnapshotRows` is written as version 2 (what the engine writes); a dict
    in version 1's JSON shape as version 1 (to make files of the previous release).
    """
    if isinstance(body, SnapshotRows):
        payload, version = encode_rows_body(body), SNAPSHOT_VERSION
    else:
        payload, version = orjson.dumps(body), _SNAPSHOT_V1
    return _SNAPSHOT_HEADER.pack(SNAPSHOT_MAGIC, version, zlib.crc32(payload)) + payload


def _snapshot_payload(data: bytes, path: str) -> tuple[int, bytes]:
    """The version and CRC-checked payload of a snapshot file."""
    if len(data) < _SNAPSHOT_HEADER.size:
        raise JournalCorrupt(f"{path}: offset 0: snapshot truncated")
    magic, version, crc = _SNAPSHOT_HEADER.unpack_from(data)
    if magic != SNAPSHOT_MAGIC:
        raise JournalCorrupt(f"{path}: offset 0: not a shardmem snapshot (magic {magic!r})")
    if version not in (_SNAPSHOT_V1, SNAPSHOT_VERSION):
        raise JournalCorrupt(f"{path}: offset 4: snapshot version {version} is not supported")
    payload = data[_SNAPSHOT_HEADER.size :]
    if zlib.crc32(payload) != crc:
        raise JournalCorrupt(
            f"{path}: offset {_SNAPSHOT_HEADER.size}: snapshot fails its CRC check"
        )
    return version, payload


def read_snapshot(data: bytes, path: str) -> SnapshotRows:
    """Parse a shard snapshot file of either version into rows (what recovery loads).

    A version-2 file decodes straight into the stored rows; a version-1 file's
    records are built (without validation) and encoded into rows. O(size).

    Raises:
        JournalCorrupt: for a bad header, a CRC failure or a body of the wrong shape,
            naming ``path`` (and, where known, the record).
    """
    version, payload = _snapshot_payload(data, path)
    try:
        if version == SNAPSHOT_VERSION:
            return decode_rows_body(payload)
        return rows_of_v1(orjson.loads(payload))
    except (KeyError, TypeError, ValueError) as error:  # msgspec's errors are ValueErrors
        raise JournalCorrupt(f"{path}: offset {_SNAPSHOT_HEADER.size}: {error}") from None


def decode_snapshot(data: bytes, path: str) -> dict[str, Any]:
    """Parse a shard snapshot file of either version into version 1's JSON shape
    (builds every record of a version-2 file: for tools and tests; recovery uses
    :func:`read_snapshot`). Raises :class:`JournalCorrupt` naming ``path``."""
    version, payload = _snapshot_payload(data, path)
    try:
        if version == SNAPSHOT_VERSION:
            return v1_of_rows(decode_rows_body(payload))
        body: dict[str, Any] = orjson.loads(payload)
    except (KeyError, TypeError, ValueError) as error:
        raise JournalCorrupt(f"{path}: offset {_SNAPSHOT_HEADER.size}: {error}") from None
    return body


def iter_entries(
    payloads: list[bytes], path: str, offsets: list[int] | None = None
) -> Iterator[tuple[int, float, str, tuple[Any, ...]]]:
    """Decode payloads, naming ``path`` in any error."""
    for index, payload in enumerate(payloads):
        try:
            yield decode_entry(payload)
        except (ValueError, TypeError) as error:
            where = f"record {index}" if offsets is None else f"offset {offsets[index]}"
            raise JournalCorrupt(f"{path}: {where}: undecodable entry ({error})") from None
