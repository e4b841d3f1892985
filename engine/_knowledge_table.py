"""The knowledge registry of one shard, ordered by ``updated_at`` and ``created_at``."""

from __future__ import annotations

from collections.abc import Iterator

from engine._ordered import OrderedGroups
from engine._queries import KnowledgeQuery
from engine._records import KnowledgeDoc

__all__ = ["KnowledgeTable"]

_ALL = ("all",)


class KnowledgeTable:
    """Knowledge documents by ``doc_id``, with ordered indexes. put/remove O(log n)."""

    __slots__ = ("by_created", "by_updated", "records")

    def __init__(self) -> None:
        self.records: dict[str, KnowledgeDoc] = {}
        self.by_updated = OrderedGroups()
        self.by_created = OrderedGroups()

    def put(self, doc: KnowledgeDoc) -> None:
        """Insert or replace ``doc`` (timestamps must be set)."""
        if doc.doc_id in self.records:
            self.remove(doc.doc_id)
        self.records[doc.doc_id] = doc
        self.by_updated.add(_ALL, doc.updated_at, doc.doc_id)  # type: ignore[arg-type]
        self.by_created.add(_ALL, doc.created_at, doc.doc_id)  # type: ignore[arg-type]

    def remove(self, doc_id: str) -> KnowledgeDoc | None:
        """Remove and return the document, or ``None``."""
        doc = self.records.pop(doc_id, None)
        if doc is not None:
            self.by_updated.remove(_ALL, doc.updated_at, doc_id)  # type: ignore[arg-type]
            self.by_created.remove(_ALL, doc.created_at, doc_id)  # type: ignore[arg-type]
        return doc

    def scan(self, query: KnowledgeQuery) -> Iterator[tuple[float, str, KnowledgeDoc]]:
        """Documents matching ``query`` in its order (expired ones included)."""
        index = self.by_created if query.order_by == "created_at" else self.by_updated
        for timestamp, doc_id in index.scan(_ALL, descending=query.descending):
            doc = self.records[doc_id]
            if query.status is None or doc.status == query.status:
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
