""" "Bring your own dict": a :class:`ShardmemDb`'s whole content as a JSON-safe dict or
file, and back."""

from __future__ import annotations

import json
import os
from typing import Any

from engine import KnowledgeDoc, Session, UserMemory
from engine.integrations.agno._plan import Plan

__all__ = ["FORMAT", "PORTABLE_METHODS", "PortablePlans", "read_json", "write_json"]

PORTABLE_METHODS = ("export_dict", "import_dict")
"""The methods :class:`PortablePlans` plans."""

FORMAT = "shardmem-agno/1"
"""The ``"format"`` tag of an export."""


class PortablePlans:
    """Export and restore (mixed into :class:`AgnoPlans`)."""

    def export_dict(self) -> Plan[dict[str, Any]]:
        """Everything the db holds, as a JSON-safe dict.

        Returns:
            ``{"format": FORMAT, "sessions": [...], "memories": [...], "documents": [...]}``,
            each item a record's ``to_dict()`` (sessions with their runs and messages;
            documents include knowledge contents, eval runs, metrics and schema versions).
        Complexity: O(everything stored).
        """
        sessions = yield lambda e: e.sessions.list()
        memories = yield lambda e: e.memories.list()
        documents = yield lambda e: e.knowledge.list()
        return {
            "format": FORMAT,
            "sessions": [record.to_dict() for record in sessions],
            "memories": [record.to_dict() for record in memories],
            "documents": [record.to_dict() for record in documents],
        }

    def import_dict(self, data: dict[str, Any]) -> Plan[int]:
        """Restore an :meth:`export_dict` (records with the same ids are replaced).

        Returns:
            How many records were written.

        Raises:
            ValueError: if ``data`` is not an export of this format.
            InvalidArgument, TypeError: for a malformed record (records before it are
                already written).
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(
                f"import_dict: expected an export with format {FORMAT!r}, got {found!r}"
            )
        sessions = [Session.from_dict(item) for item in data.get("sessions", ())]
        memories = [UserMemory.from_dict(item) for item in data.get("memories", ())]
        documents = [KnowledgeDoc.from_dict(item) for item in data.get("documents", ())]
        for session in sessions:
            yield lambda e, session=session: e.sessions.upsert(session)
        for memory in memories:
            yield lambda e, memory=memory: e.memories.upsert(memory)
        for document in documents:
            yield lambda e, document=document: e.knowledge.upsert(document)
        return len(sessions) + len(memories) + len(documents)


def write_json(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write an export to ``path`` as JSON (UTF-8), replacing the file atomically (a
    temporary file renamed over it)."""
    temporary = f"{os.fspath(path)}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    os.replace(temporary, path)


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON in ``path``.

    Raises:
        OSError: if the file cannot be read; ValueError: if it is not JSON.
    """
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
