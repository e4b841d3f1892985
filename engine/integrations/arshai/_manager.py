"""Arshai's ``IMemoryManager`` on shardmem's working memory.

A manager keeps one working-memory record per ``(conversation_id, memory_type)``:
shardmem's ``mem.working``, sharded by conversation, expiring through the engine's
expiry index (O(log n) per record, no scan). The record's ``data`` is the JSON array
of the stored items' texts (``IWorkingMemory.working_memory``), its ``metadata`` the
input's metadata. The key a ``store`` returns is Arshai's own,
``memory:<MEMORY_TYPE>:<conversation_id>``.

Where this differs from Arshai's ``InMemoryManager`` (each on purpose):

- several items in one ``store`` are all kept (the reference keeps the last);
- ``update`` restarts the TTL (``refresh_on_update=True``) and keeps the metadata;
- ``ttl=None`` means "never expires" (the reference fails on its first sweep);
- expiry costs O(log n) per record in the engine, not a scan of every entry on every
  call; and concurrent threads or tasks are safe.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from arshai.core.interfaces.imemorymanager import (
    ConversationMemoryType,
    IMemoryInput,
    IWorkingMemory,
)

from engine import (
    DEFAULT,
    BlockingEngine,
    EngineConfig,
    InvalidArgument,
    KindPolicy,
    NotFound,
    WorkingMemory,
    start_blocking_engine,
)

__all__ = ["AsyncShardmemMemoryManager", "ShardmemMemoryManager"]

logger = logging.getLogger(__name__)

ARSHAI_TTL = 12 * 3600.0
"""Arshai's default working-memory TTL, seconds (``InMemoryManager``'s ``ttl``)."""

_PREFIX = "memory"


def _ttl(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidArgument(f"ttl: expected seconds > 0 or None, got {value!r}")
    return float(value)


def _as_input(value: IMemoryInput | Mapping[str, Any]) -> IMemoryInput:
    """An ``IMemoryInput``, from one or from the dict ``WorkingMemoryAgent`` passes
    (``{"conversation_id", "working_memory"?, "metadata"?}``, working memory)."""
    if isinstance(value, IMemoryInput):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"input: expected IMemoryInput or dict, got {type(value).__name__}")
    fields = dict(value)
    text = fields.pop("working_memory", None)
    fields.setdefault("memory_type", ConversationMemoryType.WORKING_MEMORY)
    if text is not None:
        fields["data"] = [IWorkingMemory(working_memory=text)]
    return IMemoryInput(**fields)


class ShardmemMemoryManager:
    """Arshai's ``IMemoryManager`` (synchronous ``store``/``retrieve``/``update``/
    ``delete`` of ``IMemoryInput``) on a shardmem engine: thread-safe, TTL'd by the
    engine, durable with ``data_dir``, shared by processes with ``redis_url``.

    Args:
        ttl: seconds a stored memory lives (default 12 h, Arshai's); ``None`` = never.
        refresh_on_update: ``update`` restarts the TTL (default ``True``).
        engine: a :class:`engine.BlockingEngine` to share (it stays open when the
            manager closes); by default the manager starts its own.
        data_dir, fsync: make the manager's own engine durable (see
            ``docs/durability.md``).
        redis_url: run the manager's own engine on Redis/Valkey (same class for
            development and production: Arshai's ``RedisWorkingMemoryManager``'s role).
        **options: more options of :func:`engine.start_blocking_engine`
            (``shards``, ``prefix``, ``cluster``, ``timeout``, ...).

    Raises:
        InvalidArgument: for a bad ``ttl``; what ``start_blocking_engine`` raises.
    """

    def __init__(
        self,
        *,
        ttl: float | None = ARSHAI_TTL,
        refresh_on_update: bool = True,
        engine: BlockingEngine | None = None,
        data_dir: str | None = None,
        fsync: str | None = None,
        redis_url: str | None = None,
        **options: Any,
    ) -> None:
        self.ttl = _ttl(ttl)
        self.refresh_on_update = bool(refresh_on_update)
        self.prefix = _PREFIX
        if engine is None:
            policy = KindPolicy(default_ttl=self.ttl, refresh_on_update=self.refresh_on_update)
            engine = start_blocking_engine(
                config=EngineConfig(working=policy),
                data_dir=data_dir,
                fsync=fsync,
                redis_url=redis_url,
                **options,
            )
            self._owned = True
        else:
            self._owned = False
        self.engine = engine

    # -- the IMemoryManager protocol -------------------------------------------

    def store(self, input: IMemoryInput | Mapping[str, Any]) -> str:
        """Store the input's items (all of them, in order) as the conversation's working
        memory of its ``memory_type``, replacing what was there; the TTL restarts.

        Returns:
            Arshai's key, ``memory:<MEMORY_TYPE>:<conversation_id>``.

        Raises:
            ValueError: if the input carries no data (as Arshai's managers).
        """
        request = _as_input(input)
        items = self._items(request, "store")
        self.engine.working.store(
            request.conversation_id,
            json.dumps(items, ensure_ascii=False),
            memory_type=str(request.memory_type),
            metadata=request.metadata,
            ttl=self.ttl,
        )
        return self.key(request)

    def retrieve(self, input: IMemoryInput | Mapping[str, Any]) -> list[IWorkingMemory]:
        """The stored items as ``IWorkingMemory`` objects; ``[]`` if none or expired."""
        request = _as_input(input)
        record = self.engine.working.retrieve(
            request.conversation_id, memory_type=str(request.memory_type)
        )
        return [] if record is None else _items_of(record)

    def update(self, input: IMemoryInput | Mapping[str, Any]) -> None:
        """Replace the stored items (metadata kept); restarts the TTL unless the
        manager was made with ``refresh_on_update=False``. Updating a conversation that
        has no working memory logs a warning and changes nothing (as Arshai's).

        Raises:
            ValueError: if the input carries no data.
        """
        request = _as_input(input)
        items = self._items(request, "update")
        try:
            self.engine.working.update(
                request.conversation_id,
                json.dumps(items, ensure_ascii=False),
                memory_type=str(request.memory_type),
                ttl=self.ttl if self.refresh_on_update else DEFAULT,
            )
        except NotFound:
            logger.warning("No existing data found for key: %s", self.key(request))

    def delete(self, input: IMemoryInput | Mapping[str, Any]) -> None:
        """Delete the conversation's working memory of the input's ``memory_type``."""
        request = _as_input(input)
        self.engine.working.delete(request.conversation_id, memory_type=str(request.memory_type))

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        """Stop the manager's own engine (a shared one stays open). Idempotent."""
        if self._owned and not self.engine.closed:
            self.engine.close()

    def __enter__(self) -> ShardmemMemoryManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------

    def key(self, request: IMemoryInput) -> str:
        """Arshai's key for a request: ``memory:<MEMORY_TYPE>:<conversation_id>``."""
        return f"{self.prefix}:{request.memory_type}:{request.conversation_id}"

    @staticmethod
    def _items(request: IMemoryInput, verb: str) -> list[str]:
        if not request.data:
            raise ValueError(f"No data provided to {verb}")
        return [item.working_memory for item in request.data]


def _items_of(record: WorkingMemory) -> list[IWorkingMemory]:
    try:
        items = json.loads(record.data)
    except ValueError:
        items = [record.data]  # written by something else: one plain text
    if not isinstance(items, list):
        items = [record.data]
    return [IWorkingMemory(working_memory=str(text)) for text in items]


class AsyncShardmemMemoryManager:
    """The awaitable face, for Arshai's ``WorkingMemoryAgent``, which awaits
    ``retrieve({"conversation_id": ...})`` and ``store({"conversation_id": ...,
    "working_memory": ..., "metadata": ...})`` (dicts mean working memory). The same
    methods, arguments and semantics as :class:`ShardmemMemoryManager`; calls never
    block the event loop.

    Args:
        manager: the synchronous manager whose engine and settings to use; by default
            one is made from ``**options`` (see :class:`ShardmemMemoryManager`).
    """

    def __init__(self, manager: ShardmemMemoryManager | None = None, **options: Any) -> None:
        self.manager = ShardmemMemoryManager(**options) if manager is None else manager
        self._owned = manager is None
        self._working = self.manager.engine.asyncio().working

    async def store(self, input: IMemoryInput | Mapping[str, Any]) -> str:
        """As :meth:`ShardmemMemoryManager.store`."""
        request = _as_input(input)
        items = ShardmemMemoryManager._items(request, "store")
        await self._working.store(
            request.conversation_id,
            json.dumps(items, ensure_ascii=False),
            memory_type=str(request.memory_type),
            metadata=request.metadata,
            ttl=self.manager.ttl,
        )
        return self.manager.key(request)

    async def retrieve(self, input: IMemoryInput | Mapping[str, Any]) -> list[IWorkingMemory]:
        """As :meth:`ShardmemMemoryManager.retrieve`."""
        request = _as_input(input)
        record = await self._working.retrieve(
            request.conversation_id, memory_type=str(request.memory_type)
        )
        return [] if record is None else _items_of(record)

    async def update(self, input: IMemoryInput | Mapping[str, Any]) -> None:
        """As :meth:`ShardmemMemoryManager.update`."""
        request = _as_input(input)
        items = ShardmemMemoryManager._items(request, "update")
        manager = self.manager
        try:
            await self._working.update(
                request.conversation_id,
                json.dumps(items, ensure_ascii=False),
                memory_type=str(request.memory_type),
                ttl=manager.ttl if manager.refresh_on_update else DEFAULT,
            )
        except NotFound:
            logger.warning("No existing data found for key: %s", manager.key(request))

    async def delete(self, input: IMemoryInput | Mapping[str, Any]) -> None:
        """As :meth:`ShardmemMemoryManager.delete`."""
        request = _as_input(input)
        await self._working.delete(request.conversation_id, memory_type=str(request.memory_type))

    def close(self) -> None:
        """Close the manager this face made (a given one stays open)."""
        if self._owned:
            self.manager.close()
