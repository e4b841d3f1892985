"""Snapshots: every live record as one JSON-safe dict, and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from engine._errors import InvalidArgument
from engine._records import KnowledgeDoc, Session, UserMemory, WorkingMemory

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "build_snapshot", "parse_snapshot"]

SNAPSHOT_FORMAT: Final = "shardmem.snapshot"
SNAPSHOT_VERSION: Final = 1
_KINDS: Final = {
    "sessions": Session,
    "memories": UserMemory,
    "working": WorkingMemory,
    "knowledge": KnowledgeDoc,
}

Record = Session | UserMemory | WorkingMemory | KnowledgeDoc


def build_snapshot(dumps: Iterable[Mapping[str, list[Any]]], taken_at: float) -> dict[str, Any]:
    """Merge the shards' dumps into one snapshot dict.

    The result holds only ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and
    ``None``: ``json.dumps`` takes it as is, and changing it changes nothing stored::

        {"format": "shardmem.snapshot", "version": 1, "taken_at": <epoch seconds>,
         "sessions": [...], "memories": [...], "working": [...], "knowledge": [...]}

    Records are sorted by key, so equal contents give equal snapshots.
    """
    snapshot: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "taken_at": taken_at,
    }
    for kind in _KINDS:
        snapshot[kind] = []
    for dump in dumps:
        for kind in _KINDS:
            snapshot[kind].extend(record.to_dict() for record in dump[kind])
    snapshot["sessions"].sort(key=lambda r: r["session_id"])
    snapshot["memories"].sort(key=lambda r: (r["user_id"], r["memory_id"]))
    snapshot["working"].sort(key=lambda r: (r["conversation_id"], r["memory_type"]))
    snapshot["knowledge"].sort(key=lambda r: r["doc_id"])
    return snapshot


def parse_snapshot(snapshot: object) -> list[Record]:
    """Validate a snapshot dict and return its records.

    Raises:
        TypeError: if ``snapshot`` or a record is not a dict, or a field has a wrong type.
        InvalidArgument: for a wrong format or version, unknown keys or fields, a
            record without its timestamps, or a duplicate key — naming the record.
    """
    if not isinstance(snapshot, Mapping):
        raise TypeError(f"snapshot: expected a dict, got {type(snapshot).__name__}")
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise InvalidArgument(
            f"snapshot: expected format {SNAPSHOT_FORMAT!r}, got {snapshot.get('format')!r}"
        )
    if snapshot.get("version") != SNAPSHOT_VERSION:
        raise InvalidArgument(
            f"snapshot: expected version {SNAPSHOT_VERSION}, got {snapshot.get('version')!r}"
        )
    unknown = sorted(set(snapshot) - {"format", "version", "taken_at", *_KINDS})
    if unknown:
        raise InvalidArgument(f"snapshot: unknown keys {unknown}")
    records: list[Record] = []
    seen: set[tuple[str, Any]] = set()
    for kind, cls in _KINDS.items():
        items = snapshot.get(kind, [])
        if not isinstance(items, list):
            raise TypeError(f"snapshot[{kind!r}]: expected a list, got {type(items).__name__}")
        for index, item in enumerate(items):
            where = f"snapshot[{kind!r}][{index}]"
            try:
                record: Record = cls.from_dict(item)  # type: ignore[attr-defined]
            except (TypeError, ValueError) as error:
                raise type(error)(f"{where}: {error}") from None
            if record.created_at is None or record.updated_at is None:
                raise InvalidArgument(f"{where}: expected created_at and updated_at to be set")
            if isinstance(record, UserMemory) and record.memory_id is None:
                raise InvalidArgument(f"{where}: expected memory_id to be set")
            ident = (kind, _key(record))
            if ident in seen:
                raise InvalidArgument(f"{where}: duplicate key {ident[1]!r}")
            seen.add(ident)
            records.append(record)
    return records


def _key(record: Record) -> Any:
    if isinstance(record, Session):
        return record.session_id
    if isinstance(record, UserMemory):
        return (record.user_id, record.memory_id)
    if isinstance(record, WorkingMemory):
        return (record.conversation_id, record.memory_type)
    return record.doc_id


def routing_key(record: Record) -> str:
    """The key that chooses a record's shard (session, user, conversation, doc id)."""
    if isinstance(record, Session):
        return record.session_id
    if isinstance(record, UserMemory):
        return record.user_id
    if isinstance(record, WorkingMemory):
        return record.conversation_id
    return record.doc_id
