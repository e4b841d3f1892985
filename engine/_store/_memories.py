"""Shard store operations on user memories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine._core._queries import MemoryQuery
from engine._core._records import (
    UserMemory,
    replace,
)
from engine._core._rows import CREATED, EXPIRES, Row, memory_of, memory_row
from engine._store._base import MEMORY, TTL, StoreBase
from engine._store._memory_table import members
from engine._store._take import Ranked, take

__all__ = ["MemoryOps"]


class MemoryOps(StoreBase):
    """User memories: upsert, get, list, search (keyword/last_n/first_n), topics."""

    def upsert_memory(self, now: float, memory: UserMemory, ttl: TTL) -> UserMemory:
        """Insert or replace a user memory (``memory_id`` must be set)."""
        assert memory.memory_id is not None
        key = (memory.user_id, memory.memory_id)
        old = self._live_row(self.memories.records, MEMORY, key, now)
        if old is not None:
            created = old[CREATED]
        else:
            created = now if memory.created_at is None else memory.created_at
        expires = self._deadline(now, ttl)
        stored = replace(memory, created_at=created, updated_at=now, expires_at=expires)
        self._write_over(MEMORY, key, old, memory_row(stored), ttl, expires)
        return stored

    def get_memory(self, now: float, user_id: str, memory_id: str) -> UserMemory | None:
        """The live memory or ``None``."""
        key = (user_id, memory_id)
        row = self._live_row(self.memories.records, MEMORY, key, now)
        return None if row is None else memory_of(self._touch(MEMORY, key, row, now))

    def list_memories(self, now: float, query: MemoryQuery, k: int | None) -> Ranked[UserMemory]:
        """The first ``k`` live memories matching ``query``, with their sort keys."""
        taken, expired = take(self.memories.scan(query), k, now)
        for key in expired:
            self._expire(MEMORY, key)
        return [(sort, memory_of(row)) for sort, row in taken]

    def search_memories(
        self, now: float, user_id: str, query: str, method: str, limit: int | None
    ) -> list[UserMemory]:
        """A user's memories by ``method``: ``"keyword"`` (BM25-ranked, best first),
        ``"last_n"`` (the newest ``limit`` updates, oldest first) or ``"first_n"``
        (the oldest ``limit``, oldest first). ``limit=None``: every match."""
        if method == "keyword":
            memories = self.memories
            records = memories.records
            while True:
                everything = memories.by_updated.size(("user", user_id))
                ranked = memories.keywords.search(
                    user_id, query, everything if limit is None else limit
                )
                live: list[tuple[Any, Row]] = []
                swept = False
                for _, memory_id in ranked:
                    key: Any = (user_id, memory_id)
                    row = records.get(key)
                    if row is None:
                        continue
                    expires = row[EXPIRES]
                    if expires is not None and expires <= now:
                        self._expire(MEMORY, key)
                        swept = True
                    else:
                        live.append((key, row))
                if not swept:
                    touch = self._touch
                    return [memory_of(touch(MEMORY, key, row, now)) for key, row in live]
                # Expired memories were in the top k and are now removed: rank again.
        scan = MemoryQuery(user_id=user_id, descending=method == "last_n")
        taken, expired = take(self.memories.scan(scan), limit, now)
        for key in expired:
            self._expire(MEMORY, key)
        if method == "last_n":
            taken.reverse()
        return [memory_of(self._touch(MEMORY, key, row, now)) for (_, key), row in taken]

    def memory_topics(self, now: float, user_id: str | None) -> list[str]:
        """The topics of live memories (of one user, or all), sorted.

        A topic counts if one of its memories is live (checked with an early exit,
        so usually one look-up per topic); nothing is swept here. O(t) for t
        ``(user, topic)`` pairs considered.
        """
        memories = self.memories
        if user_id is None:
            users: Iterable[str] = memories.by_topic
        else:
            users = (user_id,) if user_id in memories.by_topic else ()
        found = set()
        for user in users:
            for topic, ids in memories.by_topic[user].items():
                if topic not in found and any(
                    self._alive(memories.records[(user, mid)], now) for mid in members(ids)
                ):
                    found.add(topic)
        return sorted(found)

    def delete_memory(self, now: float, user_id: str, memory_id: str) -> bool:
        """Delete one memory; ``False`` if there was no live one."""
        key = (user_id, memory_id)
        if self._live(MEMORY, key, now) is None:
            return False
        self._remove(MEMORY, key)
        return True

    def clear_memories(self, now: float, user_id: str) -> int:
        """Delete every memory of ``user_id``; return how many live ones were deleted."""
        live = [key for key in self.memories.user_keys(user_id) if self._live(MEMORY, key, now)]
        return self._remove_all(MEMORY, live)  # all or none
