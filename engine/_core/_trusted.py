"""Records from what the engine itself wrote, without validating them again.

Recovery reads records back from journal frames and snapshots whose CRC-32 checks
out: what they hold was validated when it was written, so re-running every
validator and converter (``Record.from_dict``) only costs time — most of a reopen's,
before this. :func:`trusted_record` builds them with the generated constructors of
``engine._core._rows`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from engine._core._encoded import _message, _run, _summary, frozen_object
from engine._core._records import (
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._core._rows import _doc, _memory, _session, _working

__all__ = ["trusted_record"]


def _message_of_fields(fields: dict[str, Any]) -> Message:
    message: Message = _message(
        fields["role"],
        fields["content"],
        fields.get("name"),
        frozen_object(fields.get("metadata")),
        fields.get("created_at"),
    )
    return message


def _run_of_fields(fields: dict[str, Any]) -> Run:
    run: Run = _run(
        fields["run_id"],
        tuple([_message_of_fields(m) for m in fields.get("messages", ())]),
        fields.get("status", "completed"),
        frozen_object(fields.get("metadata")),
        fields.get("created_at"),
    )
    return run


def _summary_of_fields(fields: dict[str, Any] | None) -> SessionSummary | None:
    if fields is None:
        return None
    summary: SessionSummary = _summary(
        fields["summary"], tuple(fields.get("topics", ())), fields.get("updated_at")
    )
    return summary


def _session_of_fields(f: dict[str, Any]) -> Session:
    session: Session = _session(
        f["session_id"],
        f.get("user_id"),
        f.get("session_type", "agent"),
        f.get("agent_id"),
        f.get("team_id"),
        f.get("workflow_id"),
        f.get("name"),
        frozen_object(f.get("state")),
        frozen_object(f.get("metadata")),
        tuple([_run_of_fields(run) for run in f.get("runs", ())]),
        _summary_of_fields(f.get("summary")),
        f.get("created_at"),
        f.get("updated_at"),
        f.get("expires_at"),
    )
    return session


def _memory_of_fields(f: dict[str, Any]) -> UserMemory:
    memory: UserMemory = _memory(
        f["user_id"],
        f.get("memory_id"),
        f["memory"],
        tuple(f.get("topics", ())),
        f.get("input"),
        f.get("agent_id"),
        f.get("team_id"),
        f.get("created_at"),
        f.get("updated_at"),
        f.get("expires_at"),
    )
    return memory


def _working_of_fields(f: dict[str, Any]) -> WorkingMemory:
    record: WorkingMemory = _working(
        f["conversation_id"],
        f.get("memory_type", "working"),
        f["data"],
        frozen_object(f.get("metadata")),
        f.get("created_at"),
        f.get("updated_at"),
        f.get("expires_at"),
    )
    return record


def _doc_of_fields(f: dict[str, Any]) -> KnowledgeDoc:
    doc: KnowledgeDoc = _doc(
        f["doc_id"],
        f["name"],
        f.get("description"),
        f.get("content_hash"),
        f.get("status", "ready"),
        frozen_object(f.get("metadata")),
        f.get("created_at"),
        f.get("updated_at"),
        f.get("expires_at"),
    )
    return doc


_OF_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Session": _session_of_fields,
    "Run": _run_of_fields,
    "Message": _message_of_fields,
    "SessionSummary": _summary_of_fields,
    "UserMemory": _memory_of_fields,
    "WorkingMemory": _working_of_fields,
    "KnowledgeDoc": _doc_of_fields,
}


def trusted_record(kind: str, fields: Any) -> Any:
    """The record of type ``kind`` (a class name) from its ``to_dict()`` output,
    *without* validation: for what the engine itself wrote and a CRC check vouches
    for (journal entries, snapshots). Defaults fill absent fields as the classes do.

    Raises:
        KeyError: for an unknown ``kind`` or a missing required field.
        TypeError, ValueError: for fields of an unusable shape.
    """
    if not isinstance(fields, dict):
        raise TypeError(f"{kind}: expected a dict of fields, got {type(fields).__name__}")
    unknown = fields.keys() - _FIELDS[kind]
    if unknown:
        raise ValueError(f"{kind}: unknown fields {sorted(unknown)}")
    return _OF_FIELDS[kind](fields)


_FIELDS: dict[str, frozenset[str]] = {
    cls.__name__: frozenset(field.name for field in attrs.fields(cls))
    for cls in (Session, Run, Message, SessionSummary, UserMemory, WorkingMemory, KnowledgeDoc)
}
