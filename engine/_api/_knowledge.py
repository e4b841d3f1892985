"""``mem.knowledge``: the knowledge registry."""

from __future__ import annotations

import builtins

from engine._api._backend import Backend, list_merged
from engine._core import _ops as ops
from engine._core._config import EngineConfig
from engine._core._ops import Call
from engine._core._queries import ORDER_FIELDS, KnowledgeQuery
from engine._core._records import KnowledgeDoc
from engine._core._validate import (
    DEFAULT,
    check_bool,
    check_choice,
    check_id,
    check_limit,
    check_offset,
    check_optional_str,
)

__all__ = ["Knowledge", "KnowledgeRequests"]


class KnowledgeRequests:
    """The single-shard requests of :class:`Knowledge`, built synchronously (see
    :class:`~engine._api._working.WorkingRequests`)."""

    __slots__ = ("_config",)

    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def upsert(self, doc: KnowledgeDoc, *, ttl: object = DEFAULT) -> Call:
        """The request of :meth:`Knowledge.upsert`."""
        if not isinstance(doc, KnowledgeDoc):
            raise TypeError(f"doc: expected KnowledgeDoc, got {type(doc).__name__}")
        self._config.check_size("doc", doc)
        ttl_s = self._config.resolve_ttl("knowledge", ttl)
        return Call(ops.UPSERT_DOC, (doc, ttl_s), doc.doc_id)

    def get(self, doc_id: str) -> Call:
        """The request of :meth:`Knowledge.get`."""
        check_id("doc_id", doc_id)
        return Call(ops.GET_DOC, (doc_id,), doc_id)

    def delete(self, doc_id: str) -> Call:
        """The request of :meth:`Knowledge.delete`."""
        check_id("doc_id", doc_id)
        return Call(ops.DELETE_DOC, (doc_id,), doc_id)


class Knowledge:
    """Knowledge documents (metadata of content an agent can use), sharded by ``doc_id``."""

    __slots__ = ("_backend", "_requests")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._requests = KnowledgeRequests(backend.config)

    async def upsert(self, doc: KnowledgeDoc, *, ttl: object = DEFAULT) -> KnowledgeDoc:
        """Insert or replace a document; returns it with timestamps filled.

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        stored: KnowledgeDoc = await self._backend.call(self._requests.upsert(doc, ttl=ttl))
        return stored

    async def get(self, doc_id: str) -> KnowledgeDoc | None:
        """The document, or ``None`` if absent or expired. O(1)."""
        doc: KnowledgeDoc | None = await self._backend.call(self._requests.get(doc_id))
        return doc

    async def list(
        self,
        *,
        status: str | None = None,
        order_by: str = "updated_at",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[KnowledgeDoc]:
        """Documents (with ``status`` if given), ordered and paginated across shards.

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        query = KnowledgeQuery(
            status=check_optional_str("status", status),
            order_by=check_choice("order_by", order_by, ORDER_FIELDS),
            descending=check_bool("descending", descending),
        )
        found: builtins.list[KnowledgeDoc] = await list_merged(
            self._backend,
            ops.LIST_DOCS,
            query,
            check_limit("limit", limit),
            check_offset("offset", offset),
        )
        return found

    async def delete(self, doc_id: str) -> bool:
        """Delete a document; ``False`` if there was none."""
        deleted: bool = await self._backend.call(self._requests.delete(doc_id))
        return deleted
