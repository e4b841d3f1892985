"""``mem.memories``: user memories with topics and search."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable
from typing import Final

import attrs

from engine._api._backend import Backend, list_merged
from engine._api._semantic import EMBEDDED_METHODS, forget_memory, index_memory, semantic_search
from engine._core import _ops as ops
from engine._core._config import EngineConfig
from engine._core._errors import InvalidArgument
from engine._core._ops import Call
from engine._core._queries import ORDER_FIELDS, MemoryQuery
from engine._core._records import UserMemory
from engine._core._validate import (
    DEFAULT,
    check_bool,
    check_choice,
    check_id,
    check_limit,
    check_offset,
    check_optional_id,
    check_optional_str,
    check_str,
    check_str_tuple,
)

__all__ = ["SEARCH_METHODS", "Memories", "MemoryRequests"]

SEARCH_METHODS: Final = ("keyword", "last_n", "first_n", "semantic", "hybrid")


class MemoryRequests:
    """The single-shard requests of :class:`Memories`, built synchronously (see
    :class:`~engine._api._working.WorkingRequests`)."""

    __slots__ = ("_config",)

    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def upsert(self, memory: UserMemory, *, ttl: object = DEFAULT) -> Call:
        """The request of :meth:`Memories.upsert` (a missing ``memory_id`` is generated
        here)."""
        if not isinstance(memory, UserMemory):
            raise TypeError(f"memory: expected UserMemory, got {type(memory).__name__}")
        self._config.check_size("memory", memory)
        ttl_s = self._config.resolve_ttl("memories", ttl)
        if memory.memory_id is None:
            memory = attrs.evolve(memory, memory_id=uuid.uuid4().hex)
        return Call(ops.UPSERT_MEMORY, (memory, ttl_s), memory.user_id)

    def get(self, memory_id: str, *, user_id: str) -> Call:
        """The request of :meth:`Memories.get`."""
        check_id("memory_id", memory_id)
        check_id("user_id", user_id)
        return Call(ops.GET_MEMORY, (user_id, memory_id), user_id)

    def search(
        self,
        user_id: str,
        query: str | None = None,
        *,
        method: str = "keyword",
        limit: int | None = 10,
    ) -> Call:
        """The request of :meth:`Memories.search` (not for ``"semantic"`` or
        ``"hybrid"``, which embed the query first: those raise InvalidArgument here)."""
        check_id("user_id", user_id)
        check_choice("method", method, SEARCH_METHODS)
        if method in EMBEDDED_METHODS:
            raise InvalidArgument(
                f"search: method={method!r} embeds the query in a worker thread and cannot "
                "be pipelined; call mem.memories.search"
            )
        count = check_limit("limit", limit)
        if method == "keyword":
            check_str("query", query)
        else:
            check_optional_str("query", query)
        return Call(ops.SEARCH_MEMORIES, (user_id, query or "", method, count), user_id)

    def delete(self, memory_id: str, *, user_id: str) -> Call:
        """The request of :meth:`Memories.delete`."""
        check_id("memory_id", memory_id)
        check_id("user_id", user_id)
        return Call(ops.DELETE_MEMORY, (user_id, memory_id), user_id)

    def clear(self, user_id: str) -> Call:
        """The request of :meth:`Memories.clear`."""
        check_id("user_id", user_id)
        return Call(ops.CLEAR_MEMORIES, (user_id,), user_id)


class Memories:
    """User memories, sharded by ``user_id``; identity is ``(user_id, memory_id)``.

    Every method is a checkpoint and may raise :class:`EngineClosed` once the engine
    is closed. Cancellation: a write cancelled after its request reached the shard
    may still be applied; upserting again with the same ``memory_id`` is safe (pass a
    ``memory_id`` when you need idempotent retries — one generated for you differs
    per call).
    """

    __slots__ = ("_backend", "_requests")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._requests = MemoryRequests(backend.config)

    async def upsert(self, memory: UserMemory, *, ttl: object = DEFAULT) -> UserMemory:
        """Insert or replace a user memory; a missing ``memory_id`` is generated.

        Args:
            memory: the :class:`UserMemory`.
            ttl: seconds, ``None`` for never, or ``DEFAULT`` (the ``memories`` policy).

        Returns:
            The stored memory (``memory_id`` and timestamps filled).

        Raises:
            TypeError, InvalidArgument: for a bad argument, or a memory larger than
                ``EngineConfig.max_record_size`` bytes.

        Complexity: O(log n + words + topics).
        """
        stored: UserMemory = await self._backend.call(self._requests.upsert(memory, ttl=ttl))
        await index_memory(self._backend, stored)
        return stored

    async def get(self, memory_id: str, *, user_id: str) -> UserMemory | None:
        """The memory, or ``None`` if absent or expired. O(1).

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        call = self._requests.get(memory_id, user_id=user_id)
        memory: UserMemory | None = await self._backend.call(call)
        return memory

    async def list(
        self,
        *,
        user_id: str | None = None,
        topics: Iterable[str] | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        text: str | None = None,
        order_by: str = "updated_at",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[UserMemory]:
        """Memories matching every filter given, ordered, paginated.

        With ``user_id`` only that user's shard is asked; otherwise all shards, merged.

        Args:
            user_id: whose memories (``None``: every user's).
            topics: keep memories having any of these topics.
            agent_id, team_id: equality filters.
            text: case-insensitive substring of the memory text.
            order_by: ``"updated_at"`` or ``"created_at"``; descending: newest first.
            limit: at most this many (``None``: all); offset: skip this many first.

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        query = MemoryQuery(
            user_id=check_optional_id("user_id", user_id),
            topics=None if topics is None else check_str_tuple("topics", _listed(topics)),
            agent_id=check_optional_id("agent_id", agent_id),
            team_id=check_optional_id("team_id", team_id),
            text=check_optional_str("text", text),
            order_by=check_choice("order_by", order_by, ORDER_FIELDS),
            descending=check_bool("descending", descending),
        )
        count = check_limit("limit", limit)
        skip = check_offset("offset", offset)
        if user_id is None:
            found: builtins.list[UserMemory] = await list_merged(
                self._backend, ops.LIST_MEMORIES, query, count, skip
            )
            return found
        k = None if count is None else skip + count
        ranked = await self._backend.call(Call(ops.LIST_MEMORIES, (query, k), user_id))
        return [memory for _, memory in ranked[skip:k]]

    async def search(
        self,
        user_id: str,
        query: str | None = None,
        *,
        method: str = "keyword",
        limit: int | None = 10,
    ) -> builtins.list[UserMemory]:
        """Find a user's memories.

        Methods:
            ``"keyword"``: BM25-ranked token match of ``query`` over the memory text
            and topics, best first; only memories sharing a word with the query.
            ``"last_n"``: the ``limit`` most recently updated, oldest first.
            ``"first_n"``: the ``limit`` least recently updated, oldest first.
            ``"semantic"``: by cosine similarity of the memories' vectors to the
                query's (needs ``EngineConfig.embedder``; each memory is embedded
                when stored), best first.
            ``"hybrid"``: BM25 and semantic rankings fused by reciprocal rank
                (``1 / (60 + rank)`` summed), best first: words and meaning count.

        Raises:
            TypeError: if ``query`` is not a ``str`` for ``"keyword"``.
            InvalidArgument: for an unknown ``method``, a negative ``limit``, or
                ``"semantic"``/``"hybrid"`` on an engine without an embedder.

        Complexity: keyword O(postings of the query's words); last_n/first_n O(log n + limit).
        """
        if method in EMBEDDED_METHODS:
            check_id("user_id", user_id)
            count = check_limit("limit", limit)
            text = check_str("query", query)
            return await semantic_search(self._backend, user_id, text, method, count)
        call = self._requests.search(user_id, query, method=method, limit=limit)
        found: builtins.list[UserMemory] = await self._backend.call(call)
        return found

    async def topics(self, *, user_id: str | None = None) -> builtins.list[str]:
        """The sorted topics of live memories (of ``user_id``, or of everyone)."""
        check_optional_id("user_id", user_id)
        if user_id is not None:
            call = Call(ops.MEMORY_TOPICS, (user_id,), user_id)
            found: builtins.list[str] = await self._backend.call(call)
            return found
        parts = await self._backend.scatter(Call(ops.MEMORY_TOPICS, (None,)))
        return sorted({topic for part in parts for topic in part})

    async def delete(self, memory_id: str, *, user_id: str) -> bool:
        """Delete one memory; ``False`` if there was none."""
        deleted: bool = await self._backend.call(self._requests.delete(memory_id, user_id=user_id))
        await forget_memory(self._backend, user_id, memory_id)
        return deleted

    async def clear(self, user_id: str) -> int:
        """Delete every memory of ``user_id``; return how many. O(k log n)."""
        deleted: int = await self._backend.call(self._requests.clear(user_id))
        return deleted


def _listed(values: Iterable[str]) -> object:
    return values if isinstance(values, str) else list(values)
