"""Row entries: the journal entry of a whole-record write is the row it stored.

An upsert (``upsert_session``, ``upsert_memory``, ``store_working``, ``upsert_doc``)
replaces one record whole, so its effect is exactly "the row at this key is now
``row``, with this TTL": the durable shard journals that row (``engine._core._rows``,
as the store holds it) instead of the request's record. Replay then puts the row back
without stamping, validating or encoding anything, and a run of such entries for keys
not stored yet loads in bulk (``engine._durable._recovery``).

Payload (msgpack, through ``msgspec``; a JSON entry starts with ``[``, a row entry
with the msgpack header of a 6-array, ``0x96``)::

    [seq, now, op, kind, row, ttl]

``kind`` is the store's kind number (sessions 0, memories 1, working 2, knowledge 3)
and ``row`` is checked against that kind's row layout (``_snapshot_rows``) when decoded.
Partial updates (``append_run``, ``rename_session``, ``set_summary``,
``update_working``) stay logical entries: journaling their whole row would make a long
session's journal grow with the square of its runs.

Pure: values in, bytes out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, NamedTuple

import msgspec

from engine._core._ops import STORE_WORKING, UPSERT_DOC, UPSERT_MEMORY, UPSERT_SESSION, Op
from engine._durable._snapshot_rows import DocRow, MemoryRow, SessionRow, WorkingRow

__all__ = [
    "ROW_ENTRY_MARK",
    "ROW_WRITES",
    "RowWrite",
    "check_row_write",
    "decode_row_entry",
    "encode_row_entry",
]

#: The first byte of a row entry's payload (msgpack: an array of 6).
ROW_ENTRY_MARK: Final = 0x96

#: The writes journaled as row entries: op -> (kind number, the key from its args).
ROW_WRITES: Final[dict[Op, tuple[int, Callable[[tuple[Any, ...]], Any]]]] = {
    UPSERT_SESSION: (0, lambda args: args[0].session_id),
    UPSERT_MEMORY: (1, lambda args: (args[0].user_id, args[0].memory_id)),
    STORE_WORKING: (2, lambda args: (args[0].conversation_id, args[0].memory_type)),
    UPSERT_DOC: (3, lambda args: args[0].doc_id),
}


class RowWrite(NamedTuple):
    """A decoded row entry's argument: store ``row`` of ``kind`` (with ``ttl``,
    seconds or ``None``) at the key the row names."""

    kind: int
    row: tuple[Any, ...]
    ttl: float | None


_Ttl = int | float | None
_ENCODER: Final = msgspec.msgpack.Encoder()
_ENTRY: Final = msgspec.msgpack.Decoder(tuple[int, float, str, int, msgspec.Raw, _Ttl])
_ROWS: Final = tuple(
    msgspec.msgpack.Decoder(layout) for layout in (SessionRow, MemoryRow, WorkingRow, DocRow)
)


def encode_row_entry(
    seq: int, now: float, op: str, kind: int, row: tuple[Any, ...], ttl: float | None
) -> bytes:
    """The payload of a row entry. O(size of the row)."""
    return _ENCODER.encode((seq, now, op, kind, row, ttl))


def check_row_write(args: tuple[Any, ...]) -> None:
    """Check, before a whole-record write ``(record, ttl)`` is applied, that the row it
    will store can be journaled. Its strings were checked when the record was built
    (no lone surrogate) and its payloads are bytes; what msgpack could still refuse are
    the record's timestamps and the TTL as ints beyond 64 bits. O(1).

    Raises:
        OverflowError: if one of them is such an int.
    """
    record = args[0]
    _ENCODER.encode((record.created_at, record.updated_at, record.expires_at, args[1]))


def decode_row_entry(payload: bytes) -> tuple[int, float, str, tuple[RowWrite]]:
    """Parse :func:`encode_row_entry`'s output as ``(seq, now, op, (RowWrite,))``.

    Raises:
        ValueError: (``msgspec.DecodeError`` among them) if it is not a row entry of
            a known kind whose row has that kind's layout.
    """
    seq, now, op, kind, raw, ttl = _ENTRY.decode(payload)
    if not 0 <= kind < len(_ROWS):
        raise ValueError(f"row entry of unknown kind {kind}")
    return seq, now, op, (RowWrite(kind, _ROWS[kind].decode(raw), ttl),)
