"""Shard store operations on the knowledge registry."""

from __future__ import annotations

from engine._core._queries import KnowledgeQuery
from engine._core._records import (
    KnowledgeDoc,
    replace,
)
from engine._core._rows import CREATED, Row, doc_of, doc_row
from engine._store._base import KNOWLEDGE, TTL, StoreBase
from engine._store._take import Ranked, take

__all__ = ["KnowledgeOps"]


class KnowledgeOps(StoreBase):
    """Knowledge documents keyed by ``doc_id``."""

    def upsert_doc(self, now: float, doc: KnowledgeDoc, ttl: TTL) -> KnowledgeDoc:
        """Insert or replace a knowledge document."""
        old = self._live(KNOWLEDGE, doc.doc_id, now)
        if old is not None:
            created = old[CREATED]
        else:
            created = now if doc.created_at is None else doc.created_at
        expires = self._deadline(now, ttl)
        stored = replace(doc, created_at=created, updated_at=now, expires_at=expires)
        self._write(KNOWLEDGE, doc.doc_id, doc_row(stored), ttl, expires)
        return stored

    def get_doc(self, now: float, doc_id: str) -> KnowledgeDoc | None:
        """The live document or ``None``."""
        row = self._live(KNOWLEDGE, doc_id, now)
        return None if row is None else doc_of(self._touch(KNOWLEDGE, doc_id, row, now))

    def list_docs(self, now: float, query: KnowledgeQuery, k: int | None) -> Ranked[Row]:
        """The first ``k`` live documents matching ``query`` as *rows*, with their sort
        keys: the engine merges the shards' lists and builds (``doc_of``) only the
        documents it returns."""
        taken, expired = take(self.knowledge.scan(query), k, now)
        for key in expired:
            self._expire(KNOWLEDGE, key)
        return taken

    def delete_doc(self, now: float, doc_id: str) -> bool:
        """Delete a document; ``False`` if there was no live one."""
        if self._live(KNOWLEDGE, doc_id, now) is None:
            return False
        self._remove(KNOWLEDGE, doc_id)
        return True
