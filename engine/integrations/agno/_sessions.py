"""Agno's session methods on ``engine.sessions``, as plans (see ``_plan``)."""

from __future__ import annotations

import time
from copy import deepcopy
from typing import Any

from agno.db.base import SessionType
from agno.db.in_memory.utils import apply_sorting
from agno.db.utils import (
    deserialize_session,
    deserialize_sessions,
    filter_context_runs,
)
from agno.session import AgentSession, TeamSession, WorkflowSession

from engine import OwnershipError, Run, Session
from engine.integrations.agno._cache import RunObjects
from engine.integrations.agno._plan import Pipelined, Plan
from engine.integrations.agno._rows import (
    page_of,
    run_from_record,
    run_to_record,
    session_from_record,
    session_to_record,
)

__all__ = ["SESSION_METHODS", "SessionPlans"]

_TYPES = {AgentSession: "agent", TeamSession: "team", WorkflowSession: "workflow"}


def _type_value(session_type: Any) -> str | None:
    if session_type is None:
        return None
    return str(session_type.value if isinstance(session_type, SessionType) else session_type)


class SessionPlans:
    """Sessions and runs (mixed into :class:`AgnoPlans`)."""

    run_objects: RunObjects

    # -- sessions -------------------------------------------------------------

    def get_session(
        self,
        session_id: str,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        deserialize: bool | None = True,
        runs_limit: int | None = None,
    ) -> Plan[Any]:
        """Agno's ``get_session``: one O(1) engine read; ``None`` if absent or not
        ``user_id``'s. An agent session's history runs come from the run-object cache
        (built once per stored run, shared by reads, as with ``InMemoryDb``)."""
        record = yield from self._scoped(session_id, user_id)
        if record is None:
            return None
        if (
            runs_limit is None
            and deserialize
            and record.session_type == "agent"
            and _type_value(session_type) in (None, "agent")
        ):
            row = session_from_record(record, with_runs=False)
            row["runs"] = None
            session = AgentSession.from_dict(row)
            if session is not None:
                session.runs = self.run_objects.runs(session_id, record.runs)
                return session
        if runs_limit is None:
            row = session_from_record(record)
        else:  # only the window's runs are converted
            row = session_from_record(record, with_runs=False)
            row["runs"] = [run_from_record(run) for run in _context_window(record, runs_limit)]
        if not deserialize:
            return row
        return deserialize_session(session_type, row)

    def get_sessions(
        self,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        component_id: str | None = None,
        session_name: str | None = None,
        start_timestamp: int | None = None,
        end_timestamp: int | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool | None = True,
        include_runs: bool = True,
    ) -> Plan[Any]:
        """Agno's ``get_sessions``: the engine's indexes narrow by user, type and
        component; Agno's own name/time filters, sorting and paging apply to the rest."""
        kind = _type_value(session_type)
        narrow: dict[str, Any] = {"user_id": user_id or None, "session_type": kind}
        if component_id is not None and kind is not None:
            narrow[f"{kind}_id"] = component_id
        rows = []
        found = yield lambda e: e.sessions.list(**narrow, order_by="created_at", descending=False)
        for record in found:
            row = session_from_record(record, with_runs=include_runs)
            if user_id is not None and row.get("user_id") != user_id:
                continue
            if (
                component_id is not None
                and kind is None
                and component_id
                not in (
                    row.get("agent_id"),
                    row.get("team_id"),
                    row.get("workflow_id"),
                )
            ):
                continue
            created = row.get("created_at") or 0
            if start_timestamp is not None and created < start_timestamp:
                continue
            if end_timestamp is not None and created > end_timestamp:
                continue
            if session_name is not None:
                stored = (row.get("session_data") or {}).get("session_name") or ""
                if session_name.lower() not in stored.lower():
                    continue
            rows.append(row)
        total = len(rows)
        rows = page_of(apply_sorting(rows, sort_by, sort_order), limit, page)
        if not include_runs:
            for row in rows:
                row["runs"] = None
        if not deserialize:
            return rows, total
        return deserialize_sessions(session_type, rows)

    def rename_session(
        self,
        session_id: str,
        session_type: SessionType | None,
        session_name: str,
        user_id: str | None = None,
        deserialize: bool | None = True,
    ) -> Plan[Any]:
        """Agno's ``rename_session`` (``None`` if absent, of another type or user)."""
        record = yield from self._scoped(session_id, user_id)
        if record is None:
            return None
        if session_type is not None and record.session_type != _type_value(session_type):
            return None
        row = session_from_record(record)
        row["session_data"] = {**(row.get("session_data") or {}), "session_name": session_name}
        yield lambda e: e.sessions.upsert(session_to_record(row, record.runs))
        if not deserialize:
            return row
        return deserialize_session(session_type, row)

    def upsert_session(self, session: Any, deserialize: bool | None = True) -> Plan[Any]:
        """Agno's ``upsert_session``: the session row; runs already stored are kept.

        Returns ``None`` (and writes nothing) when the stored session belongs to
        another user (Agno's ownership guard).
        """
        existing = yield lambda e: e.sessions.get(session.session_id)
        prepared = _prepare(session, existing, preserve_updated_at=False)
        if prepared is None:
            return None
        record = prepared[1]
        try:
            yield lambda e: e.sessions.upsert(record)
        except OwnershipError:
            return None
        return _result(session, prepared, deserialize)

    def upsert_sessions(
        self,
        sessions: list[Any],
        deserialize: bool | None = True,
        preserve_updated_at: bool = False,
    ) -> Plan[list[Any]]:
        """Agno's ``upsert_sessions``: two pipelined round trips (one request per shard
        each) for the whole batch; sessions refused by the ownership guard are left out.
        With ``preserve_updated_at`` an existing session keeps the given ``updated_at``."""
        batch = [session for session in sessions or () if session is not None]
        found = yield Pipelined(tuple(_get(session.session_id) for session in batch))
        prepared = [
            _prepare(session, read.result(), preserve_updated_at=preserve_updated_at)
            for session, read in zip(batch, found, strict=True)
        ]
        records = [p[1] for p in prepared if p is not None]
        done = iter((yield Pipelined(tuple(_upsert(r) for r in records), raise_on_error=False)))
        written = [None if p is None else next(done) for p in prepared]
        results = []
        for session, item, write in zip(batch, prepared, written, strict=True):
            if item is None or write is None:
                continue
            try:
                write.result()
            except OwnershipError:
                continue
            results.append(_result(session, item, deserialize))
        return results

    def delete_session(self, session_id: str, user_id: str | None = None) -> Plan[bool]:
        """Agno's ``delete_session``: ``True`` if it existed (for ``user_id``)."""
        if user_id == "":  # Agno's "" owns nothing (no engine owner is "")
            return False
        self.run_objects.forget([session_id])
        return bool((yield lambda e: e.sessions.delete(session_id, user_id=user_id)))

    def delete_sessions(self, session_ids: list[str], user_id: str | None = None) -> Plan[None]:
        """Agno's ``delete_sessions``: one engine request per shard concerned."""
        if user_id != "":
            self.run_objects.forget(list(session_ids))
            yield lambda e: e.sessions.delete_many(list(session_ids), user_id=user_id)

    def _scoped(self, session_id: str, user_id: str | None) -> Plan[Session | None]:
        """The session if ``user_id`` is ``None`` or its owner; Agno's ``""`` owns nothing."""
        if user_id == "":
            return None
        record: Session | None = yield lambda e: e.sessions.get(session_id, user_id=user_id)
        return record


def _context_window(record: Session, limit: int) -> list[Run]:
    """The last ``limit`` runs Agno keeps in context (its ``filter_context_runs``: no
    member sub-runs, no skipped statuses), without converting the others."""
    probes = [
        {"parent_run_id": meta.get("parent_run_id"), "status": meta.get("status"), "at": at}
        for at, run in enumerate(record.runs)
        for meta in (run.metadata.get("agno") or {},)
    ]
    return [record.runs[probe["at"]] for probe in filter_context_runs(probes)[-limit:]]


def _get(session_id: str) -> Any:
    return lambda p: p.sessions.get(session_id)


def _upsert(record: Session) -> Any:
    return lambda p: p.sessions.upsert(record)


SESSION_METHODS = (
    "get_session",
    "get_sessions",
    "rename_session",
    "upsert_session",
    "upsert_sessions",
    "delete_session",
    "delete_sessions",
)
"""The Agno methods :class:`SessionPlans` plans."""


def _prepare(
    session: Any, existing: Session | None, *, preserve_updated_at: bool
) -> tuple[dict[str, Any], Session] | None:
    """Agno's session row and the record to store; ``None`` if another user owns it."""
    row = session.to_dict(include_runs=False)
    for cls, value in _TYPES.items():
        if isinstance(session, cls):
            row["session_type"] = value
    now = int(time.time())
    if existing is not None:
        if existing.user_id is not None and existing.user_id != row.get("user_id"):
            return None
        if not (preserve_updated_at and row.get("updated_at") is not None):
            row["updated_at"] = now
        runs = existing.runs
    else:
        row["created_at"] = row.get("created_at", now)
        row["updated_at"] = row.get("created_at")
        runs = tuple(
            run_to_record(run if isinstance(run, dict) else run.to_dict())
            for run in session.runs or ()
        )
    return row, session_to_record(row, runs)


def _result(
    session: Any, prepared: tuple[dict[str, Any], Session], deserialize: bool | None
) -> Any:
    """What Agno's upsert returns: the row with the stored runs (``deserialize=False``),
    or the session object carrying the caller's runs."""
    row, record = prepared
    result = deepcopy(row)
    if not deserialize:
        result["runs"] = [run_from_record(run) for run in record.runs]
        return result
    upserted = deserialize_session(None, result)
    upserted.runs = session.runs
    return upserted
