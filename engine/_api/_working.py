"""``mem.working``: working memory of a conversation, with a TTL."""

from __future__ import annotations

from typing import Any

from engine._api._backend import Backend
from engine._core import _ops as ops
from engine._core._codec import freeze_mapping
from engine._core._config import EngineConfig
from engine._core._ops import Call
from engine._core._records import WorkingMemory
from engine._core._validate import DEFAULT, check_id, check_str, check_ttl

__all__ = ["Working", "WorkingRequests"]


class WorkingRequests:
    """The requests of :class:`Working`, built synchronously: each method takes the
    facade method's arguments, validates them (raising what the facade documents) and
    returns the :class:`Call` to send. Pipelines queue these."""

    __slots__ = ("_config",)

    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def store(
        self,
        conversation_id: str,
        data: str,
        *,
        memory_type: str = "working",
        metadata: dict[str, Any] | None = None,
        ttl: object = DEFAULT,
    ) -> Call:
        """The request of :meth:`Working.store`."""
        record = WorkingMemory(
            conversation_id=conversation_id, data=data, memory_type=memory_type, metadata=metadata
        )
        self._config.check_size("working memory", record)
        ttl_s = self._config.resolve_ttl("working", ttl)
        return Call(ops.STORE_WORKING, (record, ttl_s), conversation_id)

    def retrieve(self, conversation_id: str, *, memory_type: str = "working") -> Call:
        """The request of :meth:`Working.retrieve`."""
        check_id("conversation_id", conversation_id)
        check_id("memory_type", memory_type)
        return Call(ops.RETRIEVE_WORKING, (conversation_id, memory_type), conversation_id)

    def update(
        self,
        conversation_id: str,
        data: str,
        *,
        memory_type: str = "working",
        metadata: dict[str, Any] | None = None,
        ttl: object = DEFAULT,
    ) -> Call:
        """The request of :meth:`Working.update`."""
        check_id("conversation_id", conversation_id)
        check_id("memory_type", memory_type)
        check_str("data", data)
        frozen = None if metadata is None else freeze_mapping(metadata, "metadata")
        self._config.check_size("data", data)
        if frozen is not None:
            self._config.check_size("metadata", frozen)
        ttl_arg = DEFAULT if ttl is DEFAULT else check_ttl("ttl", ttl)
        args = (conversation_id, memory_type, data, frozen, ttl_arg)
        return Call(ops.UPDATE_WORKING, args, conversation_id)

    def delete(self, conversation_id: str, *, memory_type: str = "working") -> Call:
        """The request of :meth:`Working.delete`."""
        check_id("conversation_id", conversation_id)
        check_id("memory_type", memory_type)
        return Call(ops.DELETE_WORKING, (conversation_id, memory_type), conversation_id)


class Working:
    """Working memory keyed by ``(conversation_id, memory_type)``, sharded by
    ``conversation_id`` (Arshai's ``IMemoryManager`` shape).

    TTL: a ``store`` without ``ttl=`` lives for the ``working`` policy's default (12 h);
    ``ttl=None`` never expires. ``update`` restarts the TTL (``refresh_on_update``,
    on by default) unless given an explicit ``ttl``, which then replaces it. Reads do
    not refresh unless ``refresh_on_read`` is set.
    """

    __slots__ = ("_backend", "_requests")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._requests = WorkingRequests(backend.config)

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
        call = self._requests.store(
            conversation_id, data, memory_type=memory_type, metadata=metadata, ttl=ttl
        )
        stored: WorkingMemory = await self._backend.call(call)
        return stored

    async def retrieve(
        self, conversation_id: str, *, memory_type: str = "working"
    ) -> WorkingMemory | None:
        """The working memory, or ``None`` if absent or expired. O(1)."""
        call = self._requests.retrieve(conversation_id, memory_type=memory_type)
        record: WorkingMemory | None = await self._backend.call(call)
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
        call = self._requests.update(
            conversation_id, data, memory_type=memory_type, metadata=metadata, ttl=ttl
        )
        record: WorkingMemory = await self._backend.call(call)
        return record

    async def delete(self, conversation_id: str, *, memory_type: str = "working") -> bool:
        """Delete working memory; ``False`` if there was none."""
        call = self._requests.delete(conversation_id, memory_type=memory_type)
        deleted: bool = await self._backend.call(call)
        return deleted
