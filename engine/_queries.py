"""Validated list queries, built at the API edge and sent to every shard."""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["ORDER_FIELDS", "KnowledgeQuery", "MemoryQuery", "SessionQuery"]

ORDER_FIELDS: Final = ("updated_at", "created_at")


@attrs.frozen(kw_only=True)
class SessionQuery:
    """Filters and ordering of ``sessions.list``; every filter given must match.

    ``created_after`` is inclusive and ``created_before`` exclusive (epoch seconds).
    """

    user_id: str | None = None
    session_type: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    workflow_id: str | None = None
    name_contains: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    order_by: str = "updated_at"
    descending: bool = True


@attrs.frozen(kw_only=True)
class MemoryQuery:
    """Filters and ordering of ``memories.list``.

    ``topics`` matches memories having any of them; ``text`` is a case-insensitive
    substring of the memory text.
    """

    user_id: str | None = None
    topics: tuple[str, ...] | None = None
    agent_id: str | None = None
    team_id: str | None = None
    text: str | None = None
    order_by: str = "updated_at"
    descending: bool = True


@attrs.frozen(kw_only=True)
class KnowledgeQuery:
    """Filters and ordering of ``knowledge.list``."""

    status: str | None = None
    order_by: str = "updated_at"
    descending: bool = True
