""" "Bring your own dict": a :class:`ShardmemDb`'s whole content as a JSON-safe dict or
file, and back."""

from __future__ import annotations

import json
import os
from typing import Any

from engine import BlockingEngine, KnowledgeDoc, Session, UserMemory

__all__ = ["FORMAT", "PortableMethods"]

FORMAT = "shardmem-agno/1"
"""The ``"format"`` tag of an export."""


class PortableMethods:
    """Export and restore (mixed into :class:`ShardmemDb`)."""

    engine: BlockingEngine

    def export_dict(self) -> dict[str, Any]:
        """Everything the db holds, as a JSON-safe dict.

        Returns:
            ``{"format": FORMAT, "sessions": [...], "memories": [...], "documents": [...]}``,
            each item a record's ``to_dict()`` (sessions with their runs and messages;
            documents include knowledge contents, eval runs, metrics and schema versions).
        Complexity: O(everything stored).
        """
        return {
            "format": FORMAT,
            "sessions": [record.to_dict() for record in self.engine.sessions.list()],
            "memories": [record.to_dict() for record in self.engine.memories.list()],
            "documents": [record.to_dict() for record in self.engine.knowledge.list()],
        }

    def import_dict(self, data: dict[str, Any]) -> int:
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
            self.engine.sessions.upsert(session)
        for memory in memories:
            self.engine.memories.upsert(memory)
        for document in documents:
            self.engine.knowledge.upsert(document)
        return len(sessions) + len(memories) + len(documents)

    def export_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`export_dict` to ``path`` as JSON (UTF-8), replacing the file
        atomically (a temporary file renamed over it)."""
        temporary = f"{os.fspath(path)}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.export_dict(), handle, ensure_ascii=False)
        os.replace(temporary, path)

    def import_json(self, path: str | os.PathLike[str]) -> int:
        """Restore a file written by :meth:`export_json`; returns the records written.

        Raises:
            OSError: if the file cannot be read; what :meth:`import_dict` raises.
        """
        with open(path, encoding="utf-8") as handle:
            return self.import_dict(json.load(handle))
