"""Agno's user-memory methods on ``engine.memories`` (sharded by user)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from agno.db.in_memory.utils import apply_sorting
from agno.db.schemas.memory import UserMemory as AgnoMemory

from engine import BlockingEngine
from engine.integrations.agno._rows import (
    ANONYMOUS,
    memory_from_record,
    memory_to_record,
    page_of,
)

__all__ = ["MemoryMethods"]


class MemoryMethods:
    """User memories (mixed into :class:`ShardmemDb`)."""

    engine: BlockingEngine

    def _rows(self, user_id: str | None = None) -> list[dict[str, Any]]:
        # insertion order (created_at is kept from the first write), as InMemoryDb's list
        order = {"order_by": "created_at", "descending": False}
        found = self.engine.memories.list(user_id=user_id or None, **order)
        return [memory_from_record(record) for record in found]

    def _find(self, memory_id: str, user_id: str | None) -> dict[str, Any] | None:
        if user_id is not None:
            record = self.engine.memories.get(memory_id, user_id=user_id)
            return None if record is None else memory_from_record(record)
        return next((row for row in self._rows() if row["memory_id"] == memory_id), None)

    def get_user_memory(
        self, memory_id: str, deserialize: bool | None = True, user_id: str | None = None
    ) -> Any:
        """Agno's ``get_user_memory`` (O(1) with ``user_id``, else a scan)."""
        row = self._find(memory_id, user_id)
        if row is None or not deserialize:
            return row
        return AgnoMemory.from_dict(row)

    def get_user_memories(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: list[str] | None = None,
        search_content: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool | None = True,
    ) -> Any:
        """Agno's ``get_user_memories``: the user's shard index, Agno's filters and order."""
        rows = [
            row
            for row in self._rows(user_id)
            if (agent_id is None or row.get("agent_id") == agent_id)
            and (team_id is None or row.get("team_id") == team_id)
            and (topics is None or any(t in row.get("topics", []) for t in topics))
            and (search_content is None or search_content.lower() in str(row["memory"]).lower())
        ]
        total = len(rows)
        rows = page_of(apply_sorting(rows, sort_by, sort_order), limit, page)
        if not deserialize:
            return rows, total
        return [AgnoMemory.from_dict(row) for row in rows]

    def get_all_memory_topics(self, user_id: str | None = None) -> list[str]:
        """Agno's ``get_all_memory_topics`` (the engine's topic index)."""
        return list(self.engine.memories.topics(user_id=user_id))

    def get_user_memory_stats(
        self, limit: int | None = None, page: int | None = None, user_id: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Agno's ``get_user_memory_stats``: per user, count and last update, newest first."""
        stats: dict[str, dict[str, Any]] = {}
        for row in self._rows(user_id):
            owner = row.get("user_id")
            if not owner:
                continue
            entry = stats.setdefault(
                owner, {"user_id": owner, "total_memories": 0, "last_memory_updated_at": 0}
            )
            entry["total_memories"] += 1
            entry["last_memory_updated_at"] = max(
                entry["last_memory_updated_at"], row["updated_at"]
            )
        listed = sorted(stats.values(), key=lambda s: s["last_memory_updated_at"], reverse=True)
        return page_of(listed, limit, page), len(listed)

    def upsert_user_memory(self, memory: AgnoMemory, deserialize: bool | None = True) -> Any:
        """Agno's ``upsert_user_memory`` (a missing ``memory_id`` is generated)."""
        if memory.memory_id is None:
            memory.memory_id = str(uuid4())
        previous = self._find(memory.memory_id, None)
        if previous is not None and previous.get("user_id") != memory.user_id:
            self.engine.memories.delete(
                memory.memory_id, user_id=previous.get("user_id") or ANONYMOUS
            )
        stored = self.engine.memories.upsert(memory_to_record(memory.to_dict()))
        row = memory_from_record(stored)
        return AgnoMemory.from_dict(row) if deserialize else row

    def upsert_memories(
        self,
        memories: list[AgnoMemory],
        deserialize: bool | None = True,
        preserve_updated_at: bool = False,
    ) -> list[Any]:
        """Agno's ``upsert_memories``."""
        return [self.upsert_user_memory(m, deserialize=deserialize) for m in memories or () if m]

    def delete_user_memory(self, memory_id: str, user_id: str | None = None) -> None:
        """Agno's ``delete_user_memory`` (only ``user_id``'s when given)."""
        row = self._find(memory_id, user_id)
        if row is not None:
            self.engine.memories.delete(memory_id, user_id=row.get("user_id") or ANONYMOUS)

    def delete_user_memories(self, memory_ids: list[str], user_id: str | None = None) -> None:
        """Agno's ``delete_user_memories``."""
        for memory_id in memory_ids:
            self.delete_user_memory(memory_id, user_id=user_id)

    def clear_memories(self) -> None:
        """Agno's ``clear_memories``: every user's memories."""
        for owner in {row.get("user_id") or ANONYMOUS for row in self._rows()}:
            self.engine.memories.clear(owner)
