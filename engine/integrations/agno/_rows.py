"""Pure conversions between Agno's row dicts and shardmem's records.

What maps where:

- an Agno session row -> :class:`engine.Session`: ``session_id``, ``user_id``,
  ``session_type``, ``agent_id``/``team_id``/``workflow_id`` as is; ``name`` from
  ``session_data["session_name"]``; ``state`` from ``session_data["session_state"]``;
  every other column (``session_data``, ``agent_data``, ``metadata``, Agno's own
  ``created_at``/``updated_at``, ...) in ``metadata["agno"]``; the summary as a
  :class:`engine.SessionSummary` (its text and topics) with Agno's full summary dict in
  ``metadata["agno_summary"]``;
- an Agno run (``RunOutput``/``TeamRunOutput``/``WorkflowRunOutput`` dict) -> a
  :class:`engine.Run`: ``run_id``, ``status``; its messages -> :class:`engine.Message`
  (role, text content, name; ``developer`` -> ``system``, any other role ->
  ``assistant``), each with the whole Agno message dict in ``metadata["agno"]``; the rest of
  the run, losslessly, in ``metadata["agno"]``;
- an Agno ``UserMemory`` -> :class:`engine.UserMemory` (``feedback`` is not kept).

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from engine import Message, Run, Session, SessionSummary, UserMemory

__all__ = [
    "ANONYMOUS",
    "json_safe",
    "page_of",
    "plain",
    "memory_from_record",
    "memory_to_record",
    "run_from_record",
    "run_to_record",
    "session_from_record",
    "session_to_record",
]

ANONYMOUS = "agno:anonymous"
"""The engine's ``user_id`` for an Agno memory without a user (Agno allows ``None``)."""

_ROLES = {"system": "system", "developer": "system", "user": "user", "tool": "tool"}
_SESSION_COLUMNS = ("session_id", "user_id", "session_type", "agent_id", "team_id", "workflow_id")


def json_safe(value: Any) -> Any:
    """A JSON round trip: Agno rows may carry enums or tuples; the engine wants JSON."""
    return json.loads(json.dumps(value, default=_default))


def page_of(rows: list[Any], limit: int | None, page: int | None) -> list[Any]:
    """Agno's paging: ``limit`` rows of 1-based ``page`` (all rows without ``limit``)."""
    if limit is None:
        return rows
    start = (page - 1) * limit if page is not None else 0
    return rows[start : start + limit]


def plain(value: Any) -> Any:
    """A plain, mutable deep copy of a frozen engine payload, as :func:`engine.thaw`
    gives, through orjson in C (about 3x faster). Everything the engine accepts
    (64-bit integers, finite floats, nesting up to 64) is JSON orjson round-trips."""
    return orjson.loads(orjson.dumps(value))


def _default(value: Any) -> Any:
    enum_value = getattr(value, "value", None)
    if enum_value is not None:
        return enum_value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return json.dumps(content, default=_default)


def _message(item: Mapping[str, Any]) -> Message:
    role = _ROLES.get(str(item.get("role")), "assistant")
    name = item.get("name")
    return Message(
        role=role,
        content=_text(item.get("content")),
        name=name if isinstance(name, str) else None,
        metadata={"agno": item},
    )


def run_to_record(run: Mapping[str, Any], *, touched: int | None = None) -> Run:
    """An Agno run dict -> :class:`engine.Run` (messages as Messages, the rest in metadata).

    ``touched`` (epoch seconds) marks a run written by ``upsert_run``: it moves its
    session's Agno ``updated_at`` (see :func:`session_from_record`).

    Raises:
        ValueError: if the run has no ``run_id``.
    """
    row = json_safe(dict(run))
    run_id = row.get("run_id")
    if not run_id:
        raise ValueError("Run must have a run_id")
    messages = row.pop("messages", None)
    rest = {"agno": row, "has_messages": messages is not None}
    if touched is not None:
        rest["touched"] = touched
    return Run(
        run_id=str(run_id),
        messages=tuple(_message(item) for item in messages or () if isinstance(item, Mapping)),
        status=str(row.get("status") or "completed"),
        metadata=rest,
    )


def run_from_record(record: Run) -> dict[str, Any]:
    """:class:`engine.Run` -> the Agno run dict it was made from."""
    meta = record.metadata
    row: dict[str, Any] = plain(meta.get("agno", {}))
    if meta.get("has_messages"):
        row["messages"] = [plain(message.metadata["agno"]) for message in record.messages]
    return row


def session_to_record(row: Mapping[str, Any], runs: tuple[Run, ...]) -> Session:
    """An Agno session row (without runs) and its stored runs -> :class:`engine.Session`."""
    data = json_safe({key: value for key, value in row.items() if key != "runs"})
    summary = data.pop("summary", None)
    session_data = data.get("session_data") or {}
    name = session_data.get("session_name")
    state = session_data.get("session_state")
    return Session(
        session_id=data["session_id"],
        user_id=data.get("user_id") or None,
        session_type=data.get("session_type") or "agent",
        agent_id=data.get("agent_id"),
        team_id=data.get("team_id"),
        workflow_id=data.get("workflow_id"),
        name=name if isinstance(name, str) else None,
        state=state if isinstance(state, Mapping) else None,
        metadata={"agno": data, "agno_summary": summary, "runs_touched": _touched(runs)},
        runs=runs,
        summary=_summary(summary),
    )


def _touched(runs: tuple[Run, ...]) -> int:
    """When ``upsert_run`` last wrote one of ``runs`` (0 if never). O(runs)."""
    return max((run.metadata.get("touched", 0) for run in runs), default=0)


def _summary(summary: Any) -> SessionSummary | None:
    if not isinstance(summary, Mapping):
        return None
    topics = summary.get("topics") or ()
    return SessionSummary(
        summary=_text(summary.get("summary")),
        topics=tuple(str(topic) for topic in topics if topic is not None),
    )


def session_from_record(record: Session, *, with_runs: bool = True) -> dict[str, Any]:
    """:class:`engine.Session` -> Agno's session row (runs as Agno dicts, or ``None``;
    without ``with_runs`` the row has no ``runs`` key).

    A run written by ``upsert_run`` after the session row moves the row's ``updated_at``
    to the run's write time, as ``InMemoryDb``'s ``upsert_run`` does. O(runs).
    """
    row: dict[str, Any] = plain(record.metadata.get("agno", {}))
    touched = _touched(record.runs)
    if touched > record.metadata.get("runs_touched", 0):
        row["updated_at"] = max(row.get("updated_at") or 0, touched)
    row["summary"] = plain(record.metadata.get("agno_summary"))
    if with_runs:
        row["runs"] = [run_from_record(run) for run in record.runs] or None
    if "session_id" not in row:  # a record not written through Agno
        for column in _SESSION_COLUMNS:
            row[column] = getattr(record, column)
    return row


def memory_to_record(row: Mapping[str, Any]) -> UserMemory:
    """Agno's memory dict -> :class:`engine.UserMemory` (``None`` user -> ANONYMOUS)."""
    return UserMemory(
        user_id=row.get("user_id") or ANONYMOUS,
        memory=_text(row.get("memory")),
        memory_id=row["memory_id"],
        topics=tuple(row.get("topics") or ()),
        input=row.get("input"),
        agent_id=row.get("agent_id"),
        team_id=row.get("team_id"),
    )


def memory_from_record(record: UserMemory) -> dict[str, Any]:
    """:class:`engine.UserMemory` -> Agno's memory dict (the shape of ``to_dict()``)."""
    row: dict[str, Any] = {
        "memory_id": record.memory_id,
        "memory": record.memory,
        "topics": list(record.topics),
        "created_at": int(record.created_at or 0),
        "updated_at": int(record.updated_at or 0),
        "input": record.input,
        "user_id": None if record.user_id == ANONYMOUS else record.user_id,
        "agent_id": record.agent_id,
        "team_id": record.team_id,
    }
    return {key: value for key, value in row.items() if value is not None}
