"""Agno's run methods on the runs of ``engine.sessions``, as plans (see ``_plan``)."""

from __future__ import annotations

import time
from typing import Any

from agno.db.in_memory.utils import apply_sorting
from agno.db.utils import deserialize_run, get_run_type

from engine import NotFound
from engine.integrations.agno._plan import Pipelined, Plan
from engine.integrations.agno._rows import (
    page_of,
    run_to_record,
    session_from_record,
    session_to_record,
)
from engine.integrations.agno._sessions import SessionPlans

__all__ = ["RUN_METHODS", "RunPlans"]

RUN_METHODS = ("upsert_run", "get_run", "get_runs", "delete_run", "delete_runs")
"""The Agno methods :class:`RunPlans` plans."""


class RunPlans(SessionPlans):
    """Runs, kept as :class:`engine.Run` records inside their session (mixed into
    :class:`AgnoPlans`)."""

    def upsert_run(
        self, run: Any, session_id: str, user_id: str | None = None, run_index: int | None = None
    ) -> Plan[None]:
        """Agno's ``upsert_run``: appends the run to its session, or replaces the run with
        its ``run_id`` keeping its ``run_index``; a missing session is skipped.

        One pipelined round trip (the engine's ``append_run``, with a read of the runs
        before it); a second one only when a replaced run must keep a different
        ``run_index``. O(runs in the session) in the shard.
        """
        run_dict = dict(run if isinstance(run, dict) else run.to_dict())
        if not run_dict.get("run_id"):
            raise ValueError("Run must have a run_id")
        given = run_dict.get("run_index")
        if given is None and run_index is not None:
            run_dict["run_index"] = run_index
        new = run_to_record(run_dict, touched=int(time.time()))
        before, written = yield Pipelined(
            (
                lambda p: p.sessions.runs(session_id),
                lambda p: p.sessions.append_run(session_id, new),
            ),
            raise_on_error=False,
        )
        try:
            stored = before.result()
        except NotFound:
            return
        written.result()
        previous = next((r for r in stored if r.run_id == new.run_id), None)
        if previous is None:
            return
        kept = previous.metadata["agno"].get("run_index", given)
        if kept != run_dict.get("run_index"):
            run_dict["run_index"] = kept
            if kept is None:
                del run_dict["run_index"]
            replacement = run_to_record(run_dict, touched=new.metadata["touched"])
            yield lambda e: e.sessions.append_run(session_id, replacement)

    def _all_runs(self) -> Plan[list[tuple[dict[str, Any], dict[str, Any]]]]:
        pairs = []
        found = yield lambda e: e.sessions.list(order_by="created_at", descending=False)
        for record in found:
            row = session_from_record(record)
            for run in row.get("runs") or ():
                pairs.append((row, run))
        return pairs

    def get_run(self, run_id: str, deserialize: bool | None = True) -> Plan[Any]:
        """Agno's ``get_run`` (a scan of the sessions: Agno gives no session id)."""
        for _, run in (yield from self._all_runs()):
            if run.get("run_id") == run_id:
                return run if not deserialize else deserialize_run(get_run_type(run), run)
        return None

    def get_runs(
        self,
        session_id: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        workflow_id: str | None = None,
        status: Any | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool | None = True,
    ) -> Plan[Any]:
        """Agno's ``get_runs`` with its filters; one session read with ``session_id``."""
        if session_id is not None:
            record = yield from self._scoped(session_id, user_id)
            row = session_from_record(record) if record is not None else None
            pairs = [(row, run) for run in (row or {}).get("runs") or ()] if row else []
        else:
            pairs = yield from self._all_runs()
        expected = getattr(status, "value", status)
        rows = [
            run
            for session, run in pairs
            if (user_id is None or session.get("user_id") == user_id)
            and (agent_id is None or run.get("agent_id") == agent_id)
            and (team_id is None or run.get("team_id") == team_id)
            and (workflow_id is None or run.get("workflow_id") == workflow_id)
            and (expected is None or run.get("status") == expected)
        ]
        total = len(rows)
        if sort_by is not None:
            rows = apply_sorting(rows, sort_by, sort_order)
        else:
            rows.sort(key=lambda r: (r.get("run_index") or 0, r.get("created_at") or 0))
        rows = page_of(rows, limit, page)
        if not deserialize:
            return rows, total
        return [deserialize_run(get_run_type(r), r) for r in rows]

    def delete_run(self, run_id: str) -> Plan[bool]:
        """Agno's ``delete_run``: ``True`` if a session held it."""
        return (yield from self._drop_runs({run_id}, first_only=True))

    def delete_runs(self, run_ids: list[str]) -> Plan[None]:
        """Agno's ``delete_runs``."""
        if run_ids:
            yield from self._drop_runs(set(run_ids), first_only=False)

    def _drop_runs(self, wanted: set[str], *, first_only: bool) -> Plan[bool]:
        found = False
        listed = yield lambda e: e.sessions.list(order_by="created_at", descending=False)
        for record in listed:
            runs = tuple(r for r in record.runs if r.run_id not in wanted)
            if len(runs) != len(record.runs):
                row = session_from_record(record, with_runs=False)
                row["updated_at"] = int(time.time())
                rewritten = session_to_record(row, runs)
                yield lambda e, rewritten=rewritten: e.sessions.upsert(rewritten)
                found = True
                if first_only:
                    return True
        return found
