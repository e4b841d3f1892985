"""Snapshots: every live record as one JSON-safe dict, and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from engine._core._errors import InvalidArgument
from engine._core._items import (
    INTERNAL_LABEL,
    ChannelBlob,
    Checkpoint,
    Item,
    PendingWrite,
    namespace_key,
)
from engine._core._records import KnowledgeDoc, Session, UserMemory, WorkingMemory
from engine._core._validate import check_ttl

__all__ = ["AnyRecord", "SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "build_snapshot", "parse_snapshot"]

SNAPSHOT_FORMAT: Final = "shardmem.snapshot"
SNAPSHOT_VERSION: Final = 1
_KINDS: Final = {
    "sessions": Session,
    "memories": UserMemory,
    "working": WorkingMemory,
    "knowledge": KnowledgeDoc,
    "items": Item,
    "checkpoints": Checkpoint,
    "channel_blobs": ChannelBlob,
    "pending_writes": PendingWrite,
}

#: Kinds a snapshot lists only when it holds some (the LangGraph records).
_OPTIONAL: Final = frozenset({"items", "checkpoints", "channel_blobs", "pending_writes"})

Record = Session | UserMemory | WorkingMemory | KnowledgeDoc
#: Every record a snapshot holds: ``Record`` and LangGraph's.
AnyRecord = Record | Item | Checkpoint | ChannelBlob | PendingWrite


def build_snapshot(dumps: Iterable[Mapping[str, list[Any]]], taken_at: float) -> dict[str, Any]:
    """Merge the shards' dumps into one snapshot dict.

    Each dump maps a kind to its records, or to ``(record, ttl)`` pairs (the TTL in
    seconds each record was last written with, which later refreshes restart). The
    result holds only ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and
    ``None``: ``json.dumps`` takes it as is, and changing it changes nothing stored::

        {"format": "shardmem.snapshot", "version": 1, "taken_at": <epoch seconds>,
         "sessions": [...], "memories": [...], "working": [...], "knowledge": [...],
         "ttls": {"sessions": [<seconds or null>, ...], ...}}

    ``ttls`` runs parallel to each kind's list. Records are sorted by key, so equal
    contents give equal snapshots.
    """
    pairs: dict[str, list[tuple[AnyRecord, float | None]]] = {kind: [] for kind in _KINDS}
    for dump in dumps:
        for kind in _KINDS:
            for item in dump.get(kind, ()):
                pairs[kind].append(item if isinstance(item, tuple) else (item, None))
    snapshot: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "taken_at": taken_at,
    }
    ttls: dict[str, list[float | None]] = {}
    for kind, items in pairs.items():
        if not items and kind in _OPTIONAL:
            continue  # snapshots without LangGraph records keep their first shape
        items.sort(key=lambda pair: _key(pair[0]))
        snapshot[kind] = [record.to_dict() for record, _ in items]
        ttls[kind] = [ttl for _, ttl in items]
    snapshot["ttls"] = ttls
    return snapshot


def parse_snapshot(snapshot: object) -> list[tuple[AnyRecord, float | None]]:
    """Validate a snapshot dict and return its records with their TTLs.

    A snapshot without ``ttls`` (or with ``null`` for a record) gets each TTL
    re-derived at restore as ``expires_at - updated_at``.

    Raises:
        TypeError: if ``snapshot`` or a record is not a dict, or a field has a wrong type.
        InvalidArgument: for a wrong format or version, unknown keys or fields, a
            record without its timestamps, a bad ``ttls`` entry, or a duplicate key —
            naming the record.
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
    unknown = sorted(set(snapshot) - {"format", "version", "taken_at", "ttls", *_KINDS})
    if unknown:
        raise InvalidArgument(f"snapshot: unknown keys {unknown}")
    ttls = snapshot.get("ttls") or {}
    if not isinstance(ttls, Mapping):
        raise TypeError(f"snapshot['ttls']: expected a dict, got {type(ttls).__name__}")
    records: list[tuple[AnyRecord, float | None]] = []
    seen: set[tuple[str, Any]] = set()
    for kind, cls in _KINDS.items():
        items = snapshot.get(kind, [])
        if not isinstance(items, list):
            raise TypeError(f"snapshot[{kind!r}]: expected a list, got {type(items).__name__}")
        kind_ttls = ttls.get(kind)
        if kind_ttls is not None and (
            not isinstance(kind_ttls, list) or len(kind_ttls) != len(items)
        ):
            raise InvalidArgument(
                f"snapshot['ttls'][{kind!r}]: expected a list parallel to snapshot[{kind!r}]"
            )
        for index, item in enumerate(items):
            where = f"snapshot[{kind!r}][{index}]"
            try:
                record: AnyRecord = cls.from_dict(item)  # type: ignore[attr-defined]
                ttl = None if kind_ttls is None else check_ttl(f"ttl of {where}", kind_ttls[index])
            except (TypeError, ValueError) as error:
                raise type(error)(f"{where}: {error}") from None
            if isinstance(record, ChannelBlob | PendingWrite):
                pass  # no timestamps of their own
            elif isinstance(record, Checkpoint):
                if record.created_at is None:
                    raise InvalidArgument(f"{where}: expected created_at to be set")
            elif record.created_at is None or record.updated_at is None:
                raise InvalidArgument(f"{where}: expected created_at and updated_at to be set")
            if isinstance(record, UserMemory) and record.memory_id is None:
                raise InvalidArgument(f"{where}: expected memory_id to be set")
            ident = (kind, _key(record))
            if ident in seen:
                raise InvalidArgument(f"{where}: duplicate key {ident[1]!r}")
            seen.add(ident)
            records.append((record, ttl))
    return records


def _key(record: AnyRecord) -> Any:
    if isinstance(record, Session):
        return record.session_id
    if isinstance(record, UserMemory):
        return (record.user_id, record.memory_id)
    if isinstance(record, WorkingMemory):
        return (record.conversation_id, record.memory_type)
    if isinstance(record, Item):
        return (record.namespace, record.key)
    if isinstance(record, Checkpoint):
        return (record.thread_id, record.checkpoint_ns, record.checkpoint_id)
    if isinstance(record, ChannelBlob):
        return (record.thread_id, record.checkpoint_ns, record.channel, record.version)
    if isinstance(record, PendingWrite):
        ident = (record.thread_id, record.checkpoint_ns, record.checkpoint_id)
        return (*ident, record.task_id, record.idx)
    return record.doc_id


def routing_key(record: AnyRecord) -> str:
    """The key that chooses a record's shard (session, user, conversation, doc id;
    an item's namespace, or its user for a memory's vector; a checkpoint's thread)."""
    if isinstance(record, Session):
        return record.session_id
    if isinstance(record, UserMemory):
        return record.user_id
    if isinstance(record, WorkingMemory):
        return record.conversation_id
    if isinstance(record, Item):
        if record.namespace[0] == INTERNAL_LABEL:  # a memory's vector: its user's shard
            return record.namespace[-1]
        return namespace_key(record.namespace)
    if isinstance(record, Checkpoint | ChannelBlob | PendingWrite):
        return record.thread_id
    doc_id: str = record.doc_id
    return doc_id
