"""``mem.knowledge``: the knowledge registry."""

from __future__ import annotations

import builtins

from engine._api._facade import EngineCore
from engine._core import _ops as ops
from engine._core._queries import ORDER_FIELDS, KnowledgeQuery
from engine._core._records import KnowledgeDoc
from engine._core._validate import (
    DEFAULT,
    check_choice,
    check_id,
    check_limit,
    check_offset,
    check_optional_str,
)

__all__ = ["Knowledge"]


class Knowledge:
    """Knowledge documents (metadata of content an agent can use), sharded by ``doc_id``."""

    __slots__ = ("_engine",)

    def __init__(self, engine: EngineCore) -> None:
        self._engine = engine

    async def upsert(self, doc: KnowledgeDoc, *, ttl: object = DEFAULT) -> KnowledgeDoc:
        """Insert or replace a document; returns it with timestamps filled.

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        if not isinstance(doc, KnowledgeDoc):
            raise TypeError(f"doc: expected KnowledgeDoc, got {type(doc).__name__}")
        self._engine.config.check_size("doc", doc)
        ttl_s = self._engine.config.resolve_ttl("knowledge", ttl)
        stored: KnowledgeDoc = await self._engine._call(doc.doc_id, ops.UPSERT_DOC, doc, ttl_s)
        return stored

    async def get(self, doc_id: str) -> KnowledgeDoc | None:
        """The document, or ``None`` if absent or expired. O(1)."""
        check_id("doc_id", doc_id)
        doc: KnowledgeDoc | None = await self._engine._call(doc_id, ops.GET_DOC, doc_id)
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
        if type(descending) is not bool:
            raise TypeError(f"descending: expected bool, got {type(descending).__name__}")
        query = KnowledgeQuery(
            status=check_optional_str("status", status),
            order_by=check_choice("order_by", order_by, ORDER_FIELDS),
            descending=descending,
        )
        found: builtins.list[KnowledgeDoc] = await self._engine._merged(
            ops.LIST_DOCS, query, check_limit("limit", limit), check_offset("offset", offset)
        )
        return found

    async def delete(self, doc_id: str) -> bool:
        """Delete a document; ``False`` if there was none."""
        check_id("doc_id", doc_id)
        deleted: bool = await self._engine._call(doc_id, ops.DELETE_DOC, doc_id)
        return deleted
