"""Shard store operations on working memory."""

from __future__ import annotations

from typing import Any

from engine._core._errors import NotFound
from engine._core._records import (
    WorkingMemory,
    replace,
)
from engine._core._rows import CREATED, EXPIRES, shared, working_of, working_row
from engine._core._validate import DEFAULT, Default
from engine._store._base import TTL, WORKING, StoreBase

__all__ = ["WorkingOps"]


class WorkingOps(StoreBase):
    """Working memory keyed by ``(conversation_id, memory_type)``."""

    def store_working(self, now: float, record: WorkingMemory, ttl: TTL) -> WorkingMemory:
        """Insert or replace working memory; ``created_at`` kept from the stored one."""
        key = (record.conversation_id, shared(record.memory_type))
        old = self._live_row(self.working, WORKING, key, now)
        created = old[CREATED] if old is not None else now
        expires = None if ttl is None else now + ttl
        stored = replace(record, created_at=created, updated_at=now, expires_at=expires)
        self._write_over(WORKING, key, old, working_row(stored), ttl, expires)
        return stored

    def retrieve_working(
        self, now: float, conversation_id: str, memory_type: str
    ) -> WorkingMemory | None:
        """The live working memory or ``None``."""
        key = (conversation_id, memory_type)
        row = self._live_row(self.working, WORKING, key, now)
        return None if row is None else working_of(self._touch(WORKING, key, row, now))

    def update_working(
        self,
        now: float,
        conversation_id: str,
        memory_type: str,
        data: str,
        metadata: Any,
        ttl: TTL | Default,
    ) -> WorkingMemory:
        """Replace the data (and metadata, unless ``None``) of existing working memory.

        The TTL: an explicit ``ttl`` sets a new one; ``DEFAULT`` restarts the stored
        TTL if ``refresh_on_update`` (the default for working memory), else keeps the
        deadline. Raises ``NotFound``.
        """
        key = (conversation_id, memory_type)
        row = self._live(WORKING, key, now)
        if row is None:
            raise NotFound(
                f"no working memory {memory_type!r} for conversation {conversation_id!r}"
            )
        old = working_of(row)
        changes: dict[str, Any] = {"data": data, "updated_at": now}
        if metadata is not None:
            changes["metadata"] = metadata
        if ttl is DEFAULT:
            expires = self._refreshed(WORKING, key, now, row[EXPIRES])
        else:
            assert not isinstance(ttl, Default)
            expires = self._deadline(now, ttl)
        new = replace(old, expires_at=expires, **changes)
        new_row = working_row(new)
        self._make_room(WORKING, key, new_row)
        if ttl is DEFAULT:
            self.expiry.set(WORKING, key, expires)
        else:
            assert not isinstance(ttl, Default)
            self._set_deadline(WORKING, key, ttl, expires)
        self._table_put(WORKING, key, new_row)
        return new

    def delete_working(self, now: float, conversation_id: str, memory_type: str) -> bool:
        """Delete working memory; ``False`` if there was no live one."""
        key = (conversation_id, memory_type)
        if self._live(WORKING, key, now) is None:
            return False
        self._remove(WORKING, key)
        return True
