"""Agno's knowledge contents, eval runs, metrics and schema versions on
``engine.knowledge``: one :class:`engine.KnowledgeDoc` per row, ``doc_id``
``"agno:<kind>:<id>"``, ``status`` the kind (so each kind is one status index), the row
in ``metadata["row"]``."""

from __future__ import annotations

import time
from typing import Any

from agno.db.in_memory.utils import apply_sorting
from agno.db.schemas.evals import EvalFilterType, EvalRunRecord
from agno.db.schemas.knowledge import KnowledgeRow

from engine import KnowledgeDoc
from engine.integrations.agno._plan import Plan
from engine.integrations.agno._rows import json_safe, page_of, plain

__all__ = ["REGISTRY_METHODS", "RegistryPlans"]

REGISTRY_METHODS = (
    "table_exists",
    "get_latest_schema_version",
    "upsert_schema_version",
    "upsert_knowledge_content",
    "get_knowledge_content",
    "get_knowledge_contents",
    "delete_knowledge_content",
    "create_eval_run",
    "get_eval_run",
    "get_eval_runs",
    "rename_eval_run",
    "update_eval_run_user_id",
    "delete_eval_runs",
)
"""The Agno methods :class:`RegistryPlans` plans."""


class RegistryPlans:
    """Knowledge, evals, schema versions (mixed into :class:`AgnoPlans`)."""

    def _put(self, kind: str, key: str, row: dict[str, Any]) -> Plan[None]:
        doc = KnowledgeDoc(
            doc_id=f"agno:{kind}:{key}",
            name=str(row.get("name") or key),
            status=f"agno-{kind}",
            metadata={"row": json_safe(row)},
        )
        yield lambda e: e.knowledge.upsert(doc)

    def _get(self, kind: str, key: str) -> Plan[dict[str, Any] | None]:
        doc = yield lambda e: e.knowledge.get(f"agno:{kind}:{key}")
        return None if doc is None else plain(doc.metadata["row"])

    def _all(self, kind: str) -> Plan[list[dict[str, Any]]]:
        order = {"order_by": "created_at", "descending": False}
        docs = yield lambda e: e.knowledge.list(status=f"agno-{kind}", **order)
        return [plain(doc.metadata["row"]) for doc in docs]

    def _drop(self, kind: str, key: str) -> Plan[bool]:
        return bool((yield lambda e: e.knowledge.delete(f"agno:{kind}:{key}")))

    # -- schema ---------------------------------------------------------------

    def table_exists(self, table_name: str) -> bool:
        """Always ``True``: the engine needs no tables."""
        return True

    def get_latest_schema_version(self, table_name: str = "") -> Plan[str | None]:
        """The version last recorded for ``table_name`` (``"2.0.0"`` if none)."""
        row = yield from self._get("schema", table_name)
        return "2.0.0" if row is None else row["version"]

    def upsert_schema_version(self, table_name: str = "", version: str = "") -> Plan[None]:
        """Record ``version`` for ``table_name``."""
        yield from self._put("schema", table_name, {"version": version})

    # -- knowledge ------------------------------------------------------------

    def upsert_knowledge_content(self, knowledge_row: KnowledgeRow) -> Plan[KnowledgeRow]:
        """Agno's ``upsert_knowledge_content`` (a scoped write never takes another's row).

        Raises:
            ValueError: if the row exists and belongs to another user.
        """
        key = knowledge_row.id or ""
        existing = yield from self._get("knowledge", key)
        if (
            existing is not None
            and knowledge_row.user_id is not None
            and existing.get("user_id") != knowledge_row.user_id
        ):
            raise ValueError(f"Knowledge content {knowledge_row.id} not found")
        yield from self._put("knowledge", key, knowledge_row.model_dump(mode="json"))
        return knowledge_row

    def get_knowledge_content(
        self, id: str, user_id: str | None = None
    ) -> Plan[KnowledgeRow | None]:
        """Agno's ``get_knowledge_content`` (own or unowned rows with ``user_id``)."""
        row = yield from self._get("knowledge", id)
        if row is None or not _visible(row, user_id):
            return None
        return KnowledgeRow.model_validate(row)

    def get_knowledge_contents(
        self,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        linked_to: str | None = None,
        user_id: str | None = None,
    ) -> Plan[tuple[list[KnowledgeRow], int]]:
        """Agno's ``get_knowledge_contents``: filtered, sorted, paged, with the total."""
        rows = [
            row
            for row in (yield from self._all("knowledge"))
            if (linked_to is None or row.get("linked_to") == linked_to) and _visible(row, user_id)
        ]
        total = len(rows)
        rows = page_of(apply_sorting(rows, sort_by, sort_order), limit, page)
        return [KnowledgeRow.model_validate(row) for row in rows], total

    def delete_knowledge_content(self, id: str, user_id: str | None = None) -> Plan[None]:
        """Agno's ``delete_knowledge_content`` (a scoped call deletes only own rows)."""
        row = yield from self._get("knowledge", id)
        if row is not None and (user_id is None or row.get("user_id") == user_id):
            yield from self._drop("knowledge", id)

    # -- evals ----------------------------------------------------------------

    def create_eval_run(self, eval_run: EvalRunRecord) -> Plan[EvalRunRecord]:
        """Agno's ``create_eval_run`` (``created_at``/``updated_at`` = now)."""
        now = int(time.time())
        row = eval_run.model_dump(mode="json")
        row["created_at"] = row["updated_at"] = now
        yield from self._put("eval", eval_run.run_id, row)
        return eval_run

    def get_eval_run(
        self, eval_run_id: str, deserialize: bool | None = True, user_id: str | None = None
    ) -> Plan[Any]:
        """Agno's ``get_eval_run``."""
        row = yield from self._get("eval", eval_run_id)
        if row is None or (user_id is not None and row.get("user_id") != user_id):
            return None
        return EvalRunRecord.model_validate(row) if deserialize else row

    def get_eval_runs(
        self,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        workflow_id: str | None = None,
        model_id: str | None = None,
        filter_type: EvalFilterType | None = None,
        eval_type: list[Any] | None = None,
        deserialize: bool | None = True,
        user_id: str | None = None,
    ) -> Plan[Any]:
        """Agno's ``get_eval_runs`` with its filters (newest first by default)."""
        wanted = {getattr(t, "value", t) for t in eval_type or ()}
        needs = _FILTER_FIELDS.get(filter_type) if filter_type is not None else None
        equal = {"agent_id": agent_id, "team_id": team_id, "workflow_id": workflow_id}
        equal |= {"model_id": model_id, "user_id": user_id}
        rows = [
            row
            for row in (yield from self._all("eval"))
            if all(value is None or row.get(key) == value for key, value in equal.items())
            and (not wanted or row.get("eval_type") in wanted)
            and (needs is None or row.get(needs) is not None)
        ]
        total = len(rows)
        if sort_by is None:
            rows.sort(key=lambda r: r.get("created_at", 0), reverse=True)
        else:
            rows = apply_sorting(rows, sort_by, sort_order)
        rows = page_of(rows, limit, page)
        if not deserialize:
            return rows, total
        return [EvalRunRecord.model_validate(row) for row in rows]

    def rename_eval_run(
        self,
        eval_run_id: str,
        name: str,
        deserialize: bool | None = True,
        user_id: str | None = None,
    ) -> Plan[Any]:
        """Agno's ``rename_eval_run``."""
        row = yield from self._get("eval", eval_run_id)
        if row is None or (user_id is not None and row.get("user_id") != user_id):
            return None
        row["name"] = name
        row["updated_at"] = int(time.time())
        yield from self._put("eval", eval_run_id, row)
        return EvalRunRecord.model_validate(row) if deserialize else row

    def update_eval_run_user_id(self, eval_run_id: str, user_id: str) -> Plan[None]:
        """Agno's ``update_eval_run_user_id``."""
        row = yield from self._get("eval", eval_run_id)
        if row is not None:
            row["user_id"] = user_id
            yield from self._put("eval", eval_run_id, row)

    def delete_eval_runs(self, eval_run_ids: list[str], user_id: str | None = None) -> Plan[None]:
        """Agno's ``delete_eval_runs`` (only ``user_id``'s when given)."""
        for eval_run_id in eval_run_ids:
            row = yield from self._get("eval", eval_run_id)
            if row is not None and (user_id is None or row.get("user_id") == user_id):
                yield from self._drop("eval", eval_run_id)


_FILTER_FIELDS = {
    EvalFilterType.AGENT: "agent_id",
    EvalFilterType.TEAM: "team_id",
    EvalFilterType.WORKFLOW: "workflow_id",
}


def _visible(row: dict[str, Any], user_id: str | None) -> bool:
    return user_id is None or row.get("user_id") in (None, user_id)
