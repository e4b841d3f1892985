"""Upsonic's rows <-> shardmem's records (pure conversions, no engine calls).

Where each Upsonic table lives in shardmem:

- sessions -> :class:`engine.Session` (``session_id``, ``user_id``, ``agent_id``,
  ``team_id``, ``workflow_id``, ``session_type`` as shardmem fields and indexes; the whole
  Upsonic row, JSON, in ``metadata["upsonic"]``);
- user-memory profiles -> :class:`engine.UserMemory` (one per ``(user_id, agent_id,
  team_id)``; the row, JSON, as the memory's text);
- cultural knowledge, knowledge rows, the usage ledger and the generic models ->
  :class:`engine.KnowledgeDoc` with ``status`` naming the table and the row, JSON, in
  ``metadata["upsonic"]``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from engine import KnowledgeDoc, Session, UserMemory

__all__ = [
    "FIELD",
    "doc_id",
    "engine_id",
    "is_upsonic_memory",
    "is_upsonic_session",
    "profile_id",
    "doc_of_row",
    "memory_of_row",
    "row_of_doc",
    "row_of_memory",
    "row_of_session",
    "session_of_row",
    "session_type_of",
]

FIELD = "upsonic"
"""The metadata key that holds an Upsonic row's JSON."""

_SESSION_TYPES = ("agent", "team", "workflow")


def _dump(row: Mapping[str, Any]) -> str:
    try:
        return json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    except TypeError as error:
        raise TypeError(f"Upsonic row: expected JSON-serialisable values ({error})") from None


def engine_id(value: object) -> str | None:
    """``value`` as a shardmem id field: ``None`` for what shardmem cannot index
    (``None``, not a ``str``, blank or holding control characters). The row keeps the
    exact value; lists filter on the row, so such ids still match exactly."""
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        return None
    return value


def session_type_of(row: Mapping[str, Any]) -> str:
    """The session type of a row (``"agent"`` when absent), as Upsonic reads it."""
    value = row.get("session_type")
    if isinstance(value, Mapping):
        value = value.get("session_type", "agent")
    return value if isinstance(value, str) else "agent"


def session_of_row(row: Mapping[str, Any]) -> Session:
    """The shardmem session that stores an Upsonic session row."""
    kind = session_type_of(row)
    return Session(
        session_id=row["session_id"],
        user_id=engine_id(row.get("user_id")),
        session_type=kind if kind in _SESSION_TYPES else "agent",
        agent_id=engine_id(row.get("agent_id")),
        team_id=engine_id(row.get("team_id")),
        workflow_id=engine_id(row.get("workflow_id")),
        metadata={FIELD: _dump(row)},
    )


def is_upsonic_session(session: Session) -> bool:
    """Whether a shardmem session holds an Upsonic row (a shared engine may hold others)."""
    return FIELD in session.metadata


def row_of_session(session: Session) -> dict[str, Any]:
    """The Upsonic row a shardmem session stores (a fresh dict)."""
    row: dict[str, Any] = json.loads(session.metadata[FIELD])
    return row


def profile_id() -> str:
    """A new memory id for a profile: ``upsonic/<hex>``, which marks it as Upsonic's."""
    return f"{FIELD}/{uuid.uuid4().hex}"


def is_upsonic_memory(memory: UserMemory) -> bool:
    """Whether a shardmem memory is an Upsonic profile (a shared engine may hold others)."""
    return (memory.memory_id or "").startswith(f"{FIELD}/")


def memory_of_row(row: Mapping[str, Any], memory_id: str) -> UserMemory:
    """The shardmem memory that stores an Upsonic user-memory profile row."""
    return UserMemory(
        user_id=row["user_id"],
        memory_id=memory_id,
        memory=_dump(row),
        agent_id=engine_id(row.get("agent_id")),
        team_id=engine_id(row.get("team_id")),
    )


def row_of_memory(memory: UserMemory) -> dict[str, Any]:
    """The Upsonic profile row a shardmem memory stores."""
    row: dict[str, Any] = json.loads(memory.memory)
    return row


def doc_id(table: str, key: str) -> str:
    """The shardmem document id of row ``key`` of ``table`` (``upsonic/<table>/<key>``)."""
    return f"{FIELD}/{table}/{key}"


def doc_of_row(table: str, key: str, row: Mapping[str, Any]) -> KnowledgeDoc:
    """The shardmem document that stores row ``key`` of ``table``."""
    return KnowledgeDoc(
        doc_id=doc_id(table, key),
        name=key,
        status=f"{FIELD}/{table}",
        metadata={FIELD: _dump(row)},
    )


def row_of_doc(doc: KnowledgeDoc) -> dict[str, Any]:
    """The Upsonic row a shardmem document stores."""
    row: dict[str, Any] = json.loads(doc.metadata[FIELD])
    return row
