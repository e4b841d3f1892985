"""Agno's user-memory methods on ``engine.memories`` (sharded by user), as plans."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from agno.db.in_memory.utils import apply_sorting
from agno.db.schemas.memory import UserMemory as AgnoMemory

from engine.integrations.agno._plan import Plan
from engine.integrations.agno._rows import (
    ANONYMOUS,
    memory_from_record,
    memory_to_record,
    page_of,
)

__all__ = ["MEMORY_METHODS", "MemoryPlans"]

MEMORY_METHODS = (
    "get_user_memory",
    "get_user_memories",
    "get_all_memory_topics",
    "get_user_memory_stats",
    "upsert_user_memory",
    "upsert_memories",
    "delete_user_memory",
    "delete_user_memories",
    "clear_memories",
)
"""The Agno methods :class:`MemoryPlans` plans."""


class MemoryPlans:
    """User memories (mixed into :class:`AgnoPlans`)."""

    def _rows(self, user_id: str | None = None) -> Plan[list[dict[str, Any]]]:
        # insertion order (created_at is kept from the first write), as InMemoryDb's list
        order = {"order_by": "created_at", "descending": False}
        found = yield lambda e: e.memories.list(user_id=user_id or None, **order)
        return [memory_from_record(record) for record in found]

    def _find(self, memory_id: str, user_id: str | None) -> Plan[dict[str, Any] | None]:
        if user_id is not None:
            record = yield lambda e: e.memories.get(memory_id, user_id=user_id)
            return None if record is None else memory_from_record(record)
        rows = yield from self._rows()
        return next((row for row in rows if row["memory_id"] == memory_id), None)

    def get_user_memory(
        self, memory_id: str, deserialize: bool | None = True, user_id: str | None = None
    ) -> Plan[Any]:
        """Agno's ``get_user_memory`` (O(1) with ``user_id``, else a scan)."""
        row = yield from self._find(memory_id, user_id)
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
    ) -> Plan[Any]:
        """Agno's ``get_user_memories``: the user's shard index, Agno's filters and order."""
        rows = [
            row
            for row in (yield from self._rows(user_id))
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

    def get_all_memory_topics(self, user_id: str | None = None) -> Plan[list[str]]:
        """Agno's ``get_all_memory_topics`` (the engine's topic index)."""
        return list((yield lambda e: e.memories.topics(user_id=user_id)))

    def get_user_memory_stats(
        self, limit: int | None = None, page: int | None = None, user_id: str | None = None
    ) -> Plan[tuple[list[dict[str, Any]], int]]:
        """Agno's ``get_user_memory_stats``: per user, count and last update, newest first."""
        stats: dict[str, dict[str, Any]] = {}
        for row in (yield from self._rows(user_id)):
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

    def upsert_user_memory(self, memory: AgnoMemory, deserialize: bool | None = True) -> Plan[Any]:
        """Agno's ``upsert_user_memory`` (a missing ``memory_id`` is generated)."""
        if memory.memory_id is None:
            memory.memory_id = str(uuid4())
        memory_id = memory.memory_id
        previous = yield from self._find(memory_id, None)
        if previous is not None and previous.get("user_id") != memory.user_id:
            owner = previous.get("user_id") or ANONYMOUS
            yield lambda e: e.memories.delete(memory_id, user_id=owner)
        record = memory_to_record(memory.to_dict())
        stored = yield lambda e: e.memories.upsert(record)
        row = memory_from_record(stored)
        return AgnoMemory.from_dict(row) if deserialize else row

    def upsert_memories(
        self,
        memories: list[AgnoMemory],
        deserialize: bool | None = True,
        preserve_updated_at: bool = False,
    ) -> Plan[list[Any]]:
        """Agno's ``upsert_memories``."""
        written = []
        for memory in memories or ():
            if memory:
                written.append((yield from self.upsert_user_memory(memory, deserialize)))
        return written

    def delete_user_memory(self, memory_id: str, user_id: str | None = None) -> Plan[None]:
        """Agno's ``delete_user_memory`` (only ``user_id``'s when given)."""
        row = yield from self._find(memory_id, user_id)
        if row is not None:
            owner = row.get("user_id") or ANONYMOUS
            yield lambda e: e.memories.delete(memory_id, user_id=owner)

    def delete_user_memories(self, memory_ids: list[str], user_id: str | None = None) -> Plan[None]:
        """Agno's ``delete_user_memories``."""
        for memory_id in memory_ids:
            yield from self.delete_user_memory(memory_id, user_id=user_id)

    def clear_memories(self) -> Plan[None]:
        """Agno's ``clear_memories``: every user's memories."""
        rows = yield from self._rows()
        for owner in {row.get("user_id") or ANONYMOUS for row in rows}:
            yield lambda e, owner=owner: e.memories.clear(owner)
