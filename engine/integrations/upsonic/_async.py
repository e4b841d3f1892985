"""Upsonic's ``AsyncStorage`` on shardmem: every ``a*`` coroutine runs the matching
:class:`ShardmemStorage` method on a worker thread, so the awaiting loop never blocks."""

from __future__ import annotations

import abc
import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from upsonic.storage.base import AsyncStorage

from engine.integrations.upsonic._storage import ShardmemStorage

__all__ = ["AsyncShardmemStorage"]

_METHODS = (
    "upsert_session upsert_sessions get_session get_sessions delete_session delete_sessions "
    "upsert_user_memory upsert_user_memories get_user_memory get_user_memories "
    "delete_user_memory delete_user_memories delete_cultural_knowledge "
    "delete_cultural_knowledges get_cultural_knowledge get_all_cultural_knowledge "
    "upsert_cultural_knowledge upsert_knowledge_content get_knowledge_content "
    "get_knowledge_contents delete_knowledge_content delete_knowledge_contents clear_all "
    "get_usage upsert_model get_model delete_model list_models upsert_usage_entry "
    "query_usage_entries delete_usage_entries get_session_count get_user_memory_count"
).split()


def _awaitable(name: str) -> Callable[..., Awaitable[Any]]:
    async def method(self: AsyncShardmemStorage, *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(getattr(self.storage, name), *args, **kwargs)
        return await asyncio.to_thread(call)

    method.__name__ = method.__qualname__ = f"a{name}"
    method.__doc__ = f"As :meth:`ShardmemStorage.{name}`, awaited."
    return method


class AsyncShardmemStorage(AsyncStorage):  # type: ignore[misc,unused-ignore]
    """Upsonic's ``AsyncStorage`` face of :class:`ShardmemStorage`: the same
    arguments, results, errors and mapping, as ``a*`` coroutines (``table_exists`` and
    ``close`` keep their names, as in Upsonic).

    Args:
        storage: the synchronous storage whose engine to use (it stays open on
            ``close``); by default one is made from the arguments (see
            :class:`ShardmemStorage`) and closed with this one.
    """

    def __init__(
        self,
        session_table: str | None = None,
        user_memory_table: str | None = None,
        knowledge_table: str | None = None,
        id: str | None = None,
        *,
        storage: ShardmemStorage | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            session_table=session_table,
            user_memory_table=user_memory_table,
            knowledge_table=knowledge_table,
            id=id,
        )
        self._owned = storage is None
        if storage is None:
            storage = ShardmemStorage(
                session_table, user_memory_table, knowledge_table, id, **options
            )
        self.storage = storage

    async def table_exists(self, table_name: str) -> bool:
        """Always ``True``."""
        return True

    async def close(self) -> None:
        """Close the storage this face made (data kept; a given storage stays open)."""
        if self._owned:
            await asyncio.to_thread(self.storage.close)


for _name in _METHODS:
    setattr(AsyncShardmemStorage, f"a{_name}", _awaitable(_name))
abc.update_abstractmethods(AsyncShardmemStorage)  # fails to build if one is missing
