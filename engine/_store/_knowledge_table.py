"""The knowledge registry of one shard, ordered by ``updated_at`` and ``created_at``."""

from __future__ import annotations

from collections.abc import Iterator

from engine._core._queries import KnowledgeQuery
from engine._core._rows import CREATED, K_ID, K_STATUS, UPDATED, Row
from engine._store._ordered import OrderedGroups

__all__ = ["KnowledgeTable"]

_ALL = ("all",)


class KnowledgeTable:
    """Knowledge rows (``engine._core._rows``) by ``doc_id``, with ordered indexes.

    put/remove O(log n)."""

    __slots__ = ("by_created", "by_updated", "records")

    def __init__(self) -> None:
        self.records: dict[str, Row] = {}
        self.by_updated = OrderedGroups()
        self.by_created = OrderedGroups()

    def put(self, doc: Row) -> None:
        """Insert or replace ``doc`` (timestamps must be set). All or nothing: if an
        index update fails part-way, the previous document is back and the error
        propagates."""
        old = self.records.get(doc[K_ID])
        if old is not None:
            self.remove(doc[K_ID])
        try:
            self._add(doc)
        except BaseException:
            self._scrub(doc)
            if old is not None:
                self._add(old)
            raise

    def _add(self, doc: Row) -> None:
        self.records[doc[K_ID]] = doc
        self.by_updated.add(_ALL, doc[UPDATED], doc[K_ID])
        self.by_created.add(_ALL, doc[CREATED], doc[K_ID])

    def load_many(self, rows: list[Row]) -> None:
        """Insert rows of documents not stored yet, building the indexes in bulk. For
        recovery: not all or nothing."""
        for doc in rows:
            if doc[K_ID] in self.records:
                raise ValueError(f"load_many: document {doc[K_ID]!r} is already stored")
            self.records[doc[K_ID]] = doc
        self.by_updated.add_many(((_ALL,), doc[UPDATED], doc[K_ID]) for doc in rows)
        self.by_created.add_many(((_ALL,), doc[CREATED], doc[K_ID]) for doc in rows)

    def remove(self, doc_id: str) -> Row | None:
        """Remove and return the document, or ``None``. All or nothing."""
        doc = self.records.get(doc_id)
        if doc is None:
            return None
        try:
            self.by_updated.remove(_ALL, doc[UPDATED], doc_id)
            self.by_created.remove(_ALL, doc[CREATED], doc_id)
            del self.records[doc_id]
        except BaseException:
            self._scrub(doc)
            self._add(doc)
            raise
        return doc

    def _scrub(self, doc: Row) -> None:
        """Remove every trace of ``doc``, tolerating a half-done put or remove."""
        if self.records.get(doc[K_ID]) is doc:
            del self.records[doc[K_ID]]
        self.by_updated.discard_from((_ALL,), doc[UPDATED], doc[K_ID])
        self.by_created.discard_from((_ALL,), doc[CREATED], doc[K_ID])

    def scan(self, query: KnowledgeQuery) -> Iterator[tuple[float, str, Row]]:
        """Documents matching ``query`` in its order (expired ones included)."""
        index = self.by_created if query.order_by == "created_at" else self.by_updated
        for timestamp, doc_id in index.scan(_ALL, descending=query.descending):
            doc = self.records[doc_id]
            if query.status is None or doc[K_STATUS] == query.status:
                yield timestamp, doc_id, doc

    def clear(self) -> None:
        """Remove every document."""
        self.records.clear()
        self.by_updated.clear()
        self.by_created.clear()

    def _check(self) -> None:
        """Assert invariants (for tests)."""
        self.by_updated._check()
        self.by_created._check()
        assert self.by_updated.size(_ALL) == len(self.records) == self.by_created.size(_ALL)
