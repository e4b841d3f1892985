"""Agno run objects built once per stored run and shared by every read, as
``InMemoryDb``'s run-object cache does."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from agno.run.agent import RunOutput
from agno.run.team import TeamRunOutput

from engine import Run
from engine.integrations.agno._rows import run_from_record

__all__ = ["RunObjects"]


def _history_run(row: dict[str, Any]) -> Any:
    """An Agno run dict as ``AgentSession.from_dict`` builds it: an agent's run, a
    team's run, or ``None`` (left out of the session's runs)."""
    if "agent_id" in row:
        return RunOutput.from_dict(row)
    if "team_id" in row:
        return TeamRunOutput.from_dict(row)
    return None


class RunObjects:
    """The deserialized history runs of the most recently read sessions.

    An entry is the stored :class:`engine.Run` and the Agno run object built from it. It
    is valid while the session still holds that record: the same object (the embedded
    engine hands out its immutable records) or an equal one (a backend that decodes
    each read, such as Redis). Any write to a run stores a new record, so it misses.
    The run objects are shared by every read of the session and, as with
    ``InMemoryDb``, immutable by contract (Agno copies a history run before changing it).

    Thread-safe. Holds at most ``sessions`` sessions, least recently read dropped first.

    Args:
        sessions: how many sessions to keep run objects for (> 0).
    """

    def __init__(self, sessions: int = 1024) -> None:
        if sessions <= 0:
            raise ValueError(f"sessions: expected a positive int, got {sessions!r}")
        self._limit = sessions
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, dict[str, tuple[Run, Any]]] = OrderedDict()

    def runs(self, session_id: str, records: tuple[Run, ...]) -> list[Any]:
        """The Agno run objects for ``records`` (the session's runs, oldest first);
        runs that are neither an agent's nor a team's are left out (as
        ``AgentSession.from_dict`` does).

        Complexity: O(len(records)) plus one ``from_dict`` per run not seen before.
        """
        with self._lock:
            known = self._entries.get(session_id) or {}
        fresh: dict[str, tuple[Run, Any]] = {}
        objects = []
        for record in records:
            entry = known.get(record.run_id)
            if entry is None or (entry[0] is not record and entry[0] != record):
                entry = (record, _history_run(run_from_record(record)))
            fresh[record.run_id] = entry
            if entry[1] is not None:
                objects.append(entry[1])
        with self._lock:
            self._entries[session_id] = fresh
            self._entries.move_to_end(session_id)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)
        return objects

    def forget(self, session_ids: list[str]) -> None:
        """Drop the entries of deleted sessions."""
        with self._lock:
            for session_id in session_ids:
                self._entries.pop(session_id, None)
