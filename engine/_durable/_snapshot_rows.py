"""The body of a version-2 shard snapshot: the shard's rows as they are, in msgpack.

A version-1 snapshot held every record as its JSON ``to_dict()``: loading one built
each record and encoded its row again. Version 2 holds the store's rows themselves
(``engine._core._rows``: tuples of atomic values, payloads as the orjson bytes the store
keeps) per kind, so loading decodes straight into the tuples the tables store — no
record is built and nothing is re-encoded. msgpack (through ``msgspec``) carries
``bytes`` as they are, and ``msgspec`` decodes the body against the row layouts below
in C, so a body of the wrong shape fails as a whole (``msgspec.ValidationError``)
before anything is stored.

The row types here must follow the layouts of ``engine._core._rows``: a change of a
layout is a new snapshot version (``tests/engine/test_snapshot_rows.py`` round-trips
a row of every kind with every field set, so a layout change fails there first).

Pure: bytes in, values out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec

from engine._core._records import KnowledgeDoc, Session, UserMemory, WorkingMemory
from engine._core._rows import doc_of, memory_of, row_of, session_of, working_of
from engine._core._trusted import trusted_record

__all__ = [
    "DocRow",
    "MemoryRow",
    "SessionRow",
    "SnapshotRows",
    "WorkingRow",
    "decode_rows_body",
    "encode_rows_body",
    "rows_of_v1",
    "v1_of_rows",
]

_Time = int | float  # epoch seconds: a float the engine stamped, or a caller's int
_Deadline = int | float | None
_Ttl = int | float | None  # seconds, or None: never expires

SessionRow = tuple[
    _Deadline,
    _Time,
    _Time,
    str,  # session_id
    str | None,  # user_id
    str,  # session_type
    str | None,  # agent_id
    str | None,  # team_id
    str | None,  # workflow_id
    str | None,  # name
    bytes | None,  # state
    bytes | None,  # metadata
    tuple[str, ...],  # run ids
    tuple[bytes, ...],  # encoded runs
    bytes | None,  # summary
]
MemoryRow = tuple[
    _Deadline,
    _Time,
    _Time,
    str,  # user_id
    str,  # memory_id
    str,  # memory
    tuple[str, ...],  # topics
    str | None,  # input
    str | None,  # agent_id
    str | None,  # team_id
]
WorkingRow = tuple[
    _Deadline,
    _Time,
    _Time,
    str,  # conversation_id
    str,  # memory_type
    str,  # data
    bytes | None,  # metadata
]
DocRow = tuple[
    _Deadline,
    _Time,
    _Time,
    str,  # doc_id
    str,  # name
    str | None,  # description
    str | None,  # content_hash
    str,  # status
    bytes | None,  # metadata
]


class SnapshotRows(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One shard's contents at ``taken_at``, as a version-2 snapshot holds them.

    Attributes:
        shard, shards: which shard of how many.
        seq: the last journal entry the snapshot covers.
        segment: the first journal segment to replay after it.
        taken_at: epoch seconds the rows were read at (every row alive then).
        sessions, memories, working, knowledge: the rows of each kind.
        ttls: per kind (sessions, memories, working, knowledge), the TTL (seconds)
            each row was last written with, parallel to its rows (``None``: none).
        records: the records that are not rows (LangGraph items and checkpoint
            threads, in dump order) as ``[class name, to_dict(), ttl]``, as in
            version 1.
    """

    shard: int
    shards: int
    seq: int
    segment: int
    taken_at: float
    sessions: list[SessionRow]
    memories: list[MemoryRow]
    working: list[WorkingRow]
    knowledge: list[DocRow]
    ttls: tuple[list[_Ttl], list[_Ttl], list[_Ttl], list[_Ttl]]
    records: list[tuple[str, dict[str, Any], _Ttl]]

    def rows(self) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """The row lists by kind number (sessions 0, memories 1, working 2,
        knowledge 3: ``engine._store._base``'s numbering)."""
        return (self.sessions, self.memories, self.working, self.knowledge)


_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(SnapshotRows)


def encode_rows_body(body: SnapshotRows) -> bytes:
    """The msgpack payload of a version-2 snapshot. O(size)."""
    return _ENCODER.encode(body)


def decode_rows_body(payload: bytes) -> SnapshotRows:
    """Parse :func:`encode_rows_body`'s output, checking every row against its layout.

    Raises:
        msgspec.DecodeError: (a ``ValueError``) if ``payload`` is not msgpack of that
            shape, naming where (e.g. ``$.sessions[3][4]``).
    """
    return _DECODER.decode(payload)


#: The classes stored as rows, by kind number, and how each is built from its row.
_ROW_KINDS: Final[tuple[tuple[type, Callable[[Any], Any]], ...]] = (
    (Session, session_of),
    (UserMemory, memory_of),
    (WorkingMemory, working_of),
    (KnowledgeDoc, doc_of),
)
_KIND_OF: Final = {cls.__name__: kind for kind, (cls, _) in enumerate(_ROW_KINDS)}


def rows_of_v1(body: dict[str, Any]) -> SnapshotRows:
    """A version-1 snapshot body (JSON records) as version 2's rows: each record built
    without validation (the file's CRC vouches for it, as for a journal entry) and
    its row encoded; LangGraph records are kept as they are. O(size).

    Raises:
        ValueError: ``"record <index>: ..."`` for a record of an unknown kind or an
            unusable shape, or a body without its fields.
    """
    rows: tuple[list[Any], ...] = ([], [], [], [])
    ttls: tuple[list[Any], ...] = ([], [], [], [])
    records = []
    for index, entry in enumerate(body["records"]):
        try:
            name, fields, ttl = entry
            kind = _KIND_OF.get(name)
            if kind is None:
                records.append((str(name), fields, ttl))  # items, checkpoints: as stored
                continue
            rows[kind].append(row_of(trusted_record(name, fields)))
            ttls[kind].append(ttl)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"record {index}: {error!r}") from None
    return SnapshotRows(
        shard=int(body["shard"]),
        shards=int(body["shards"]),
        seq=int(body["seq"]),
        segment=int(body["segment"]),
        taken_at=float(body["taken_at"]),
        sessions=rows[0],
        memories=rows[1],
        working=rows[2],
        knowledge=rows[3],
        ttls=(ttls[0], ttls[1], ttls[2], ttls[3]),
        records=records,
    )


def v1_of_rows(body: SnapshotRows) -> dict[str, Any]:
    """A version-2 body in version 1's JSON shape (``{"shard", "shards", "seq",
    "segment", "taken_at", "records": [[class name, to_dict(), ttl], ...]}``), for
    tools that read snapshots as JSON. Builds every record: O(size).

    Raises:
        ValueError: if a kind's TTLs do not run parallel to its rows.
    """
    records: list[Any] = []
    for (cls, build), rows, ttls in zip(_ROW_KINDS, body.rows(), body.ttls, strict=True):
        name = cls.__name__
        records.extend(
            [name, build(row).to_dict(), ttl] for row, ttl in zip(rows, ttls, strict=True)
        )
    records.extend(list(entry) for entry in body.records)
    return {
        "shard": body.shard,
        "shards": body.shards,
        "seq": body.seq,
        "segment": body.segment,
        "taken_at": body.taken_at,
        "records": records,
    }
