"""``mem.working``: working memory of a conversation, with a TTL."""

from __future__ import annotations

from typing import Any

from engine._api._facade import EngineCore
from engine._core import _ops as ops
from engine._core._codec import freeze_mapping
from engine._core._records import WorkingMemory
from engine._core._validate import DEFAULT, check_id, check_str, check_ttl

__all__ = ["Working"]


class Working:
    """Working memory keyed by ``(conversation_id, memory_type)``, sharded by
    ``conversation_id`` (Arshai's ``IMemoryManager`` shape).

    TTL: a ``store`` without ``ttl=`` lives for the ``working`` policy's default (12 h);
    ``ttl=None`` never expires. ``update`` restarts the TTL (``refresh_on_update``,
    on by default) unless given an explicit ``ttl``, which then replaces it. Reads do
    not refresh unless ``refresh_on_read`` is set.
    """

    __slots__ = ("_engine",)

    def __init__(self, engine: EngineCore) -> None:
        self._engine = engine

    async def store(
        self,
        conversation_id: str,
        data: str,
        *,
        memory_type: str = "working",
        metadata: dict[str, Any] | None = None,
        ttl: object = DEFAULT,
    ) -> WorkingMemory:
        """Store (insert or replace) working memory; returns the stored record.

        Raises:
            TypeError: for a non-``str`` ``data`` or a non-JSON ``metadata``.
            InvalidArgument: for an empty id, a bad ``ttl``, or a record larger than
                ``EngineConfig.max_record_size`` bytes.
        """
        record = WorkingMemory(
            conversation_id=conversation_id, data=data, memory_type=memory_type, metadata=metadata
        )
        self._engine.config.check_size("working memory", record)
        ttl_s = self._engine.config.resolve_ttl("working", ttl)
        stored: WorkingMemory = await self._engine._call(
            conversation_id, ops.STORE_WORKING, record, ttl_s
        )
        return stored

    async def retrieve(
        self, conversation_id: str, *, memory_type: str = "working"
    ) -> WorkingMemory | None:
        """The working memory, or ``None`` if absent or expired. O(1)."""
        check_id("conversation_id", conversation_id)
        check_id("memory_type", memory_type)
        record: WorkingMemory | None = await self._engine._call(
            conversation_id, ops.RETRIEVE_WORKING, conversation_id, memory_type
        )
        return record

    async def update(
        self,
        conversation_id: str,
        data: str,
        *,
        memory_type: str = "working",
        metadata: dict[str, Any] | None = None,
        ttl: object = DEFAULT,
    ) -> WorkingMemory:
        """Replace the data (and ``metadata`` unless ``None``) of existing working memory.

        Raises:
            NotFound: if there is none (or it expired).
            TypeError, InvalidArgument: for a bad argument.
        """
        check_id("conversation_id", conversation_id)
        check_id("memory_type", memory_type)
        check_str("data", data)
        frozen = None if metadata is None else freeze_mapping(metadata, "metadata")
        self._engine.config.check_size("data", data)
        if frozen is not None:
            self._engine.config.check_size("metadata", frozen)
        ttl_arg = DEFAULT if ttl is DEFAULT else check_ttl("ttl", ttl)
        record: WorkingMemory = await self._engine._call(
            conversation_id,
            ops.UPDATE_WORKING,
            conversation_id,
            memory_type,
            data,
            frozen,
            ttl_arg,
        )
        return record

    async def delete(self, conversation_id: str, *, memory_type: str = "working") -> bool:
        """Delete working memory; ``False`` if there was none."""
        check_id("conversation_id", conversation_id)
        check_id("memory_type", memory_type)
        deleted: bool = await self._engine._call(
            conversation_id, ops.DELETE_WORKING, conversation_id, memory_type
        )
        return deleted
