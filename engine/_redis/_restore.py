"""Restore a snapshot into a Redis engine (``open_redis_memory(snapshot=...)``).

Each record goes back with its timestamps and TTL through the same script that
writes it (``upsert_session``, ``upsert_memory``, ``store_working``, ``upsert_doc``),
run at the record's ``updated_at`` as the engine time, so its indexes, counters and
deadline are exactly those of a record last written then. The calls are sent in
pipelined batches (:meth:`Connection.run_batch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from engine._core._errors import InvalidArgument
from engine._core._records import KnowledgeDoc, Session, UserMemory, WorkingMemory
from engine._core._routing import shard_of
from engine._core._snapshot import Record, routing_key
from engine._redis._codec import doc_fields, memory_fields, session_fields, ts, working_fields
from engine._redis._conn import Connection
from engine._redis._keys import NUL

__all__ = ["restore_records"]

_BATCH: Final = 256  # script calls per pipeline

Call = tuple[str, int, float, Sequence[Any]]


def _call(record: Record, ttl: float | None, partition: int) -> Call:
    """The script call that writes ``record`` as it was (timestamps kept)."""
    assert record.updated_at is not None
    expires = record.expires_at
    if expires is not None and ttl is None:
        ttl = max(expires - record.updated_at, 1e-9)
    if expires is None:
        ttl = None
    when, created = record.updated_at, ts(record.created_at)
    if isinstance(record, Session):
        fields, ix, runs = session_fields(record)
        args: list[Any] = [
            record.session_id, ts(ttl), ts(expires), created, ix, record.user_id or "",
            str(len(fields) // 2), *fields, *runs,
        ]  # fmt: skip
        return "upsert_session", partition, when, args
    if isinstance(record, UserMemory):
        fields, ix = memory_fields(record)
        member = f"{record.user_id}{NUL}{record.memory_id}"
        args = [member, ts(ttl), ts(expires), created, ix, str(len(fields) // 2), *fields]
        return "upsert_memory", partition, when, args
    if isinstance(record, WorkingMemory):
        fields, ix = working_fields(record)
        member = f"{record.conversation_id}{NUL}{record.memory_type}"
        args = [member, ts(ttl), ts(expires), created, ix, str(len(fields) // 2), *fields]
        return "store_working", partition, when, args
    assert isinstance(record, KnowledgeDoc)
    fields, ix = doc_fields(record)
    args = [record.doc_id, ts(ttl), ts(expires), created, ix, str(len(fields) // 2), *fields]
    return "upsert_doc", partition, when, args


def _calls(
    records: Iterable[tuple[Record, float | None]], partitions: int, now: float
) -> Iterator[Call]:
    for record, ttl in records:
        if record.expires_at is not None and record.expires_at <= now:
            continue  # already expired: dropped, as the embedded engine does
        yield _call(record, ttl, shard_of(routing_key(record), partitions))


async def restore_records(
    conn: Connection,
    records: Sequence[tuple[Record, float | None]],
    partitions: int,
    now: float,
    stored: int,
) -> int:
    """Write ``records`` (from :func:`engine._core._snapshot.parse_snapshot`) into an empty
    prefix; return how many were restored (the expired ones are dropped).

    Cost: O(records) script calls in pipelines of 256 (one round trip each).

    Raises:
        InvalidArgument: if the prefix already holds records (``stored`` > 0).
        BackendUnavailable: if the server fails mid-way (the restore is then partial).
    """
    if stored:
        raise InvalidArgument(
            f"snapshot: expected an empty prefix to restore into, got one holding {stored} "
            "live records (drop() them first or use another prefix)"
        )
    calls = list(_calls(records, partitions, now))
    for start in range(0, len(calls), _BATCH):
        batch = calls[start : start + _BATCH]
        for (name, _, _, args), reply in zip(batch, await conn.run_batch(batch), strict=True):
            if isinstance(reply, Exception):
                raise reply
            if name == "upsert_session" and reply[0] == "own":  # pragma: no cover
                raise InvalidArgument(f"snapshot: session {args[0]!r} is already stored")
    return len(calls)
