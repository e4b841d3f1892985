"""Upsonic's document-like tables on shardmem's knowledge registry: cultural knowledge,
knowledge rows, the usage ledger and the generic models (one ``KnowledgeDoc`` per row,
``status`` naming the table; see ``_rows``)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from upsonic.culture.cultural_knowledge import CulturalKnowledge
from upsonic.storage.in_memory.utils import apply_pagination, apply_sorting
from upsonic.storage.schemas import KnowledgeRow

from engine import BlockingEngine
from engine.integrations.upsonic import _rows

__all__ = ["DocumentTables"]

_USAGE_FILTERS = (
    "chat_usage_id",
    "agent_usage_id",
    "task_usage_id",
    "team_usage_id",
    "workflow_usage_id",
    "system_usage_id",
    "run_id",
    "user_id",
    "kind",
)


class DocumentTables:
    """The ``Storage`` methods of the document-like tables, for :class:`ShardmemStorage`
    (mixed in: it provides ``engine``). Each list walks the table's rows, oldest first,
    then filters and sorts them with Upsonic's own helpers: O(n log n) in the table's rows.
    """

    if TYPE_CHECKING:

        @property
        def engine(self) -> BlockingEngine: ...

    @staticmethod
    def _matches(row: dict[str, Any], agent_id: str | None, team_id: str | None) -> bool:
        return (agent_id is None or row.get("agent_id") == agent_id) and (
            team_id is None or row.get("team_id") == team_id
        )

    # -- document tables (cultural knowledge, knowledge rows, usage, models) -----

    def _docs(self, table: str) -> list[Any]:
        docs: list[Any] = self.engine.knowledge.list(
            status=f"{_rows.FIELD}/{table}", order_by="created_at", descending=False
        )
        return docs

    def _rows_of(self, table: str) -> list[dict[str, Any]]:
        return [_rows.row_of_doc(doc) for doc in self._docs(table)]

    def _put(self, table: str, key: str, row: dict[str, Any]) -> None:
        self.engine.knowledge.upsert(_rows.doc_of_row(table, key, row))

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        doc = self.engine.knowledge.get(_rows.doc_id(table, key))
        return None if doc is None else _rows.row_of_doc(doc)

    def _delete(self, table: str, key: str) -> bool:
        return bool(self.engine.knowledge.delete(_rows.doc_id(table, key)))

    def upsert_cultural_knowledge(self, cultural_knowledge: Any, deserialize: bool = True) -> Any:
        """Insert or replace a cultural-knowledge entry (an id is made if missing)."""
        from upsonic.utils.dttm import to_epoch_s

        if cultural_knowledge.id is None:
            cultural_knowledge.id = str(uuid.uuid4())
        row = cultural_knowledge.to_dict()
        for field in ("created_at", "updated_at"):
            if isinstance(row.get(field), str):
                row[field] = to_epoch_s(row[field])
        if row.get("updated_at") is None:
            row["updated_at"] = int(time.time())
        self._delete("cultural", cultural_knowledge.id)  # a replaced entry moves last
        self._put("cultural", cultural_knowledge.id, row)
        return CulturalKnowledge.from_dict(row) if deserialize else row

    def get_cultural_knowledge(self, id: str, deserialize: bool = True) -> Any:
        """The entry, or ``None``."""
        row = self._get("cultural", id)
        if row is None or not deserialize:
            return row
        return CulturalKnowledge.from_dict(row)

    def get_all_cultural_knowledge(
        self,
        name: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        deserialize: bool = True,
    ) -> Any:
        """Entries matching the filters, sorted, paged (``page`` counts from 1)."""
        rows = [
            row
            for row in self._rows_of("cultural")
            if (name is None or row.get("name") == name) and self._matches(row, agent_id, team_id)
        ]
        if sort_by:
            rows = apply_sorting(rows, sort_by, sort_order)
        total = len(rows)
        if limit:
            start = (page - 1) * limit if page else 0
            rows = rows[start : start + limit]
        if not deserialize:
            return rows, total
        return [CulturalKnowledge.from_dict(row) for row in rows]

    def delete_cultural_knowledge(self, id: str) -> None:
        """Delete an entry (absent: nothing happens)."""
        self._delete("cultural", id)

    def upsert_knowledge_content(self, knowledge_row: KnowledgeRow) -> KnowledgeRow:
        """Insert or replace a knowledge row."""
        row = knowledge_row.to_dict()
        now = int(time.time())
        row.setdefault("created_at", now)
        row["updated_at"] = now
        self._delete("knowledge", row["id"])
        self._put("knowledge", row["id"], row)
        return KnowledgeRow.from_dict(row)

    def get_knowledge_content(self, id: str) -> KnowledgeRow | None:
        """The row, or ``None``."""
        row = self._get("knowledge", id)
        return None if row is None else KnowledgeRow.from_dict(row)

    def get_knowledge_contents(
        self,
        knowledge_base_id: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[KnowledgeRow], int]:
        """Rows (of one knowledge base if given), sorted (default newest first),
        paginated; and the total before pagination."""
        rows = [
            row
            for row in self._rows_of("knowledge")
            if knowledge_base_id is None or row.get("knowledge_base_id") == knowledge_base_id
        ]
        ordered = apply_sorting(rows, sort_by or "created_at", sort_order or "desc")
        return [KnowledgeRow.from_dict(r) for r in apply_pagination(ordered, limit, page)], len(
            rows
        )

    def delete_knowledge_content(self, id: str) -> bool:
        """Delete a row; ``False`` if there was none."""
        return self._delete("knowledge", id)

    def delete_knowledge_contents(self, ids: list[str]) -> int:
        """Delete rows; how many there were."""
        return sum(self._delete("knowledge", i) for i in dict.fromkeys(ids or ()))

    # -- the usage ledger ------------------------------------------------------

    def upsert_usage_entry(self, entry: dict[str, Any]) -> None:
        """Insert or replace a usage entry (keyed by ``entry_id``)."""
        key = entry.get("entry_id")
        if not key:
            raise ValueError("usage entry must have a non-empty entry_id")
        self._put("usage", key, dict(entry))

    def query_usage_entries(
        self, *, limit: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Usage entries equal to every filter given (``chat_usage_id``, ``run_id``,
        ``user_id``, ``kind``, ...), oldest first, at most ``limit``."""
        unknown = set(filters) - set(_USAGE_FILTERS)
        if unknown:
            raise TypeError(f"query_usage_entries: unknown filters {sorted(unknown)}")
        wanted = {k: v for k, v in filters.items() if v is not None}
        out = [
            row for row in self._rows_of("usage") if all(row.get(k) == v for k, v in wanted.items())
        ]
        return out if limit is None else out[:limit]

    def delete_usage_entries(self, **filters: Any) -> int:
        """Delete the usage entries matching the filters; how many."""
        rows = self.query_usage_entries(**filters)
        for row in rows:
            self._delete("usage", row["entry_id"])
        return len(rows)

    # -- generic models --------------------------------------------------------

    def upsert_model(self, key: str, model: Any, collection: str = "generic_models") -> None:
        """Store a pydantic model (its ``model_dump()``) under ``key``."""
        data = model.model_dump() if hasattr(model, "model_dump") else dict(model)
        self._put(f"models/{collection}", key, data)

    def get_model(self, key: str, model_type: Any, collection: str = "generic_models") -> Any:
        """The model under ``key`` built as ``model_type``, or ``None``."""
        row = self._get(f"models/{collection}", key)
        return None if row is None else model_type(**row)

    def delete_model(self, key: str, collection: str = "generic_models") -> bool:
        """Delete the model under ``key``; ``False`` if there was none."""
        return self._delete(f"models/{collection}", key)

    def list_models(self, model_type: Any, collection: str = "generic_models") -> list[Any]:
        """Every model of the collection, built as ``model_type``."""
        return [model_type(**row) for row in self._rows_of(f"models/{collection}")]
