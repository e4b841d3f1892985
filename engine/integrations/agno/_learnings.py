"""Agno's learnings (what its ``LearningMachine`` keeps: user profiles, session
contexts, entity facts...) as registry documents, ``doc_id`` ``"agno:learning:<id>"``,
as plans. Traces and spans are not held (as with ``InMemoryDb``)."""

from __future__ import annotations

import time
from typing import Any

from engine.integrations.agno._plan import Plan
from engine.integrations.agno._registry import RegistryPlans

__all__ = ["LEARNING_METHODS", "UNSUPPORTED", "LearningPlans"]

LEARNING_METHODS = (
    "upsert_learning",
    "update_learning",
    "get_learning",
    "get_learnings",
    "delete_learning",
    "delete_user_learnings",
)
"""The Agno methods :class:`LearningPlans` plans."""

UNSUPPORTED = (
    "upsert_trace",
    "get_trace",
    "get_traces",
    "get_trace_stats",
    "create_span",
    "create_spans",
    "get_span",
    "get_spans",
)
"""Agno's abstract tracing methods, which raise ``NotImplementedError`` as ``InMemoryDb``'s do."""

_SCOPE = (
    "user_id",
    "agent_id",
    "team_id",
    "workflow_id",
    "session_id",
    "namespace",
    "entity_id",
    "entity_type",
)


def _unsupported(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"ShardmemDb.{name} is not supported (as InMemoryDb)")

    method.__name__ = name
    method.__doc__ = f"Agno's ``{name}``: raises ``NotImplementedError`` (as ``InMemoryDb``)."
    return method


def _matching(rows: list[dict[str, Any]], **wanted: Any) -> list[dict[str, Any]]:
    """The rows equal to every non-``None`` filter, most recently updated first."""
    found = [
        row
        for row in rows
        if all(value is None or row.get(key) == value for key, value in wanted.items())
    ]
    found.sort(key=lambda row: row.get("updated_at") or 0, reverse=True)
    return found


class LearningPlans(RegistryPlans):
    """Learnings: one registry document each, rows shaped as Agno's SQL dbs return them
    (``learning_id``, ``learning_type``, the scope columns, ``content``, ``metadata``,
    ``created_at``, ``updated_at``). Reads walk the learnings (O(learnings))."""

    locals().update({name: _unsupported(name) for name in UNSUPPORTED})

    def upsert_learning(
        self,
        id: str,
        learning_type: str,
        content: dict[str, Any],
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        session_id: str | None = None,
        namespace: str | None = None,
        entity_id: str | None = None,
        entity_type: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Plan[None]:
        """Agno's ``upsert_learning``: a new learning, or new ``content`` and
        ``metadata`` for the one with ``id`` (its type, scope and ``created_at`` stay)."""
        now = int(time.time())
        row = yield from self._get("learning", id)
        if row is None:
            row = {"learning_id": id, "learning_type": learning_type, "created_at": now}
            scope = {"user_id": user_id, "agent_id": agent_id, "team_id": team_id}
            scope |= {"workflow_id": None, "session_id": session_id, "namespace": namespace}
            row |= scope | {"entity_id": entity_id, "entity_type": entity_type}
        row |= {"content": content, "metadata": metadata, "updated_at": now}
        yield from self._put("learning", id, row)

    def update_learning(
        self, id: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> Plan[bool]:
        """Agno's ``update_learning``: new ``content``/``metadata`` for an existing
        learning; ``False`` (and nothing written) if there is none."""
        row = yield from self._get("learning", id)
        if row is None:
            return False
        row |= {"content": content, "metadata": metadata, "updated_at": int(time.time())}
        yield from self._put("learning", id, row)
        return True

    def get_learning(
        self,
        learning_type: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        session_id: str | None = None,
        namespace: str | None = None,
        entity_id: str | None = None,
        entity_type: str | None = None,
        workflow_id: str | None = None,
    ) -> Plan[dict[str, Any] | None]:
        """Agno's ``get_learning``: ``{"content": ...}`` of the most recently updated
        learning of ``learning_type`` matching every filter given, or ``None``."""
        rows = yield from self._all("learning")
        scope = {"user_id": user_id, "agent_id": agent_id, "team_id": team_id}
        scope |= {"workflow_id": workflow_id, "session_id": session_id, "namespace": namespace}
        scope |= {"entity_id": entity_id, "entity_type": entity_type}
        found = _matching(rows, learning_type=learning_type, **scope)
        return {"content": found[0].get("content")} if found else None

    def get_learnings(
        self,
        learning_type: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        session_id: str | None = None,
        namespace: str | None = None,
        entity_id: str | None = None,
        entity_type: str | None = None,
        limit: int | None = None,
        workflow_id: str | None = None,
    ) -> Plan[list[dict[str, Any]]]:
        """Agno's ``get_learnings``: the matching rows, most recently updated first."""
        rows = yield from self._all("learning")
        scope = {"user_id": user_id, "agent_id": agent_id, "team_id": team_id}
        scope |= {"workflow_id": workflow_id, "session_id": session_id, "namespace": namespace}
        scope |= {"entity_id": entity_id, "entity_type": entity_type}
        found = _matching(rows, learning_type=learning_type, **scope)
        return found if limit is None else found[:limit]

    def delete_learning(self, id: str) -> Plan[bool]:
        """Agno's ``delete_learning``: ``True`` if it existed."""
        return (yield from self._drop("learning", id))

    def delete_user_learnings(self, user_id: str, learning_type: str | None = None) -> Plan[int]:
        """Agno's ``delete_user_learnings``: how many of ``user_id``'s were deleted."""
        rows = yield from self._all("learning")
        deleted = 0
        for row in _matching(rows, user_id=user_id, learning_type=learning_type):
            deleted += yield from self._drop("learning", row["learning_id"])
        return deleted
