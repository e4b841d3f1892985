"""Validated list queries, built at the API edge and sent to every shard."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import attrs

from engine._core._records import Message, Run, Session

__all__ = [
    "ORDER_FIELDS",
    "KnowledgeQuery",
    "MemoryQuery",
    "SessionQuery",
    "messages_of",
    "session_matches",
]

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


def session_matches(session: Session, query: SessionQuery, needle: str | None) -> bool:
    """Whether ``session`` passes every filter of ``query``.

    ``needle`` is ``query.name_contains.casefold()`` (computed once per scan).
    """
    if query.user_id is not None and session.user_id != query.user_id:
        return False
    if query.session_type is not None and session.session_type != query.session_type:
        return False
    if query.agent_id is not None and session.agent_id != query.agent_id:
        return False
    if query.team_id is not None and session.team_id != query.team_id:
        return False
    if query.workflow_id is not None and session.workflow_id != query.workflow_id:
        return False
    if needle is not None and (session.name is None or needle not in session.name.casefold()):
        return False
    created = session.created_at
    assert created is not None
    if query.created_after is not None and created < query.created_after:
        return False
    return query.created_before is None or created < query.created_before


def messages_of(runs: Iterable[Run], roles: frozenset[str] | None) -> list[Message]:
    """The messages of ``runs`` in order, only those whose role is in ``roles`` if
    given (the embedded and Redis stores' ``get_messages``). O(messages)."""
    if roles is None:
        return [message for run in runs for message in run.messages]
    return [message for run in runs for message in run.messages if message.role in roles]
