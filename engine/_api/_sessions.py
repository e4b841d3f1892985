"""``mem.sessions``: sessions with their runs, messages and summaries."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from engine._api._backend import Backend, list_merged
from engine._api._session_requests import SessionRequests
from engine._core import _ops as ops
from engine._core._ops import Call
from engine._core._queries import ORDER_FIELDS, SessionQuery
from engine._core._records import (
    SESSION_TYPES,
    Message,
    Run,
    Session,
    SessionSummary,
)
from engine._core._routing import shard_of
from engine._core._validate import (
    DEFAULT,
    check_bool,
    check_choice,
    check_limit,
    check_offset,
    check_optional_id,
    check_optional_str,
    check_str_tuple,
    check_timestamp,
)

__all__ = ["Sessions"]


class Sessions:
    """Sessions, sharded by ``session_id``; each holds its runs and summary.

    A ``user_id=`` given to a read, update or delete scopes it: a session of another
    user is "not found" (``None`` from ``get``, :class:`NotFound` from updates, not
    counted by deletes). Every method is a checkpoint and may raise
    :class:`EngineClosed` once the engine is closed.

    Cancellation: a call cancelled after its request reached the shard may still be
    applied; every write is idempotent (by ``session_id`` / ``run_id``), so retry.
    """

    __slots__ = ("_backend", "_requests")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._requests = SessionRequests(backend.config)

    async def upsert(self, session: Session, *, ttl: object = DEFAULT) -> Session:
        """Insert or replace a whole session (its runs and summary included).

        ``created_at`` is kept from the stored session; ``updated_at`` is now; runs and
        messages without ``created_at`` get now.

        Args:
            session: the :class:`Session`.
            ttl: seconds until it expires, ``None`` for never, or ``DEFAULT`` (the
                ``sessions`` policy's default: never).

        Returns:
            The stored :class:`Session`, timestamps filled.

        Raises:
            TypeError: if ``session`` is not a :class:`Session` or ``ttl`` not a number.
            InvalidArgument: for a NaN, infinite, zero or negative ``ttl``, or a session
                larger than ``EngineConfig.max_record_size`` bytes.
            OwnershipError: if the stored session belongs to another ``user_id``.

        Complexity: O(log n) index updates plus O(runs).
        """
        call = self._requests.upsert(session, ttl=ttl)
        stored: Session = await self._backend.call(call)
        return stored

    async def get(
        self, session_id: str, *, user_id: str | None = None, runs_limit: int | None = None
    ) -> Session | None:
        """The session, or ``None`` if absent, expired or owned by another ``user_id``.

        Args:
            session_id: the session.
            user_id: scope the read to this user.
            runs_limit: keep only the last ``runs_limit`` runs in the result.

        Raises:
            TypeError, InvalidArgument: for a bad argument.

        Complexity: O(1) (O(runs_limit) with ``runs_limit``).
        """
        call = self._requests.get(session_id, user_id=user_id, runs_limit=runs_limit)
        session: Session | None = await self._backend.call(call)
        return session

    async def list(
        self,
        *,
        user_id: str | None = None,
        session_type: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        workflow_id: str | None = None,
        name_contains: str | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
        order_by: str = "updated_at",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Session]:
        """Sessions matching every filter given, ordered, paginated.

        Each shard walks its narrowest ordered index (by user, else agent, team,
        workflow, else all) and returns its first ``offset + limit`` matches; the
        shards' sorted lists are merged. Ties are broken by ``session_id``.

        Args:
            user_id, session_type, agent_id, team_id, workflow_id: equality filters.
            name_contains: case-insensitive substring of ``name``.
            created_after: ``created_at >= created_after`` (epoch seconds).
            created_before: ``created_at < created_before`` (epoch seconds).
            order_by: ``"updated_at"`` or ``"created_at"``.
            descending: newest first (default) or oldest first.
            limit: at most this many (``None``: all); offset: skip this many first.

        Raises:
            TypeError, InvalidArgument: for a bad argument (e.g. ``limit=-1``).

        Complexity: O(shards * (log n + offset + limit)) when the filters beyond the
        chosen index match densely; a sparse filter walks further.
        """
        query = SessionQuery(
            user_id=check_optional_id("user_id", user_id),
            session_type=None
            if session_type is None
            else check_choice("session_type", session_type, SESSION_TYPES),
            agent_id=check_optional_id("agent_id", agent_id),
            team_id=check_optional_id("team_id", team_id),
            workflow_id=check_optional_id("workflow_id", workflow_id),
            name_contains=check_optional_str("name_contains", name_contains),
            created_after=check_timestamp("created_after", created_after),
            created_before=check_timestamp("created_before", created_before),
            order_by=check_choice("order_by", order_by, ORDER_FIELDS),
            descending=check_bool("descending", descending),
        )
        found: builtins.list[Session] = await list_merged(
            self._backend,
            ops.LIST_SESSIONS,
            query,
            check_limit("limit", limit),
            check_offset("offset", offset),
        )
        return found

    async def recent(
        self, *, user_id: str | None = None, limit: int = 10
    ) -> builtins.list[Session]:
        """The ``limit`` most recently updated sessions (of ``user_id`` if given).

        Newest first. Same errors and complexity as :meth:`list`.
        """
        return await self.list(user_id=user_id, limit=limit)

    async def rename(self, session_id: str, name: str, *, user_id: str | None = None) -> Session:
        """Set a session's ``name``; returns the updated session.

        Raises:
            NotFound: if there is no such session (for ``user_id``).
            TypeError, InvalidArgument: for a bad argument.
        """
        call = self._requests.rename(session_id, name, user_id=user_id)
        session: Session = await self._backend.call(call)
        return session

    async def delete(self, session_id: str, *, user_id: str | None = None) -> bool:
        """Delete a session with its runs and summary. ``False`` if there was none.

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        call = self._requests.delete(session_id, user_id=user_id)
        deleted: bool = await self._backend.call(call)
        return deleted

    async def delete_many(self, session_ids: Iterable[str], *, user_id: str | None = None) -> int:
        """Delete several sessions, one request per shard concerned.

        Returns:
            How many existed (for ``user_id``) and were deleted.

        Raises:
            TypeError, InvalidArgument: for a bad id (nothing is deleted then).
        """
        ids = check_str_tuple(
            "session_ids", list(session_ids) if not isinstance(session_ids, str) else session_ids
        )
        check_optional_id("user_id", user_id)
        shards = self._backend.config.shards
        per_shard: dict[int, builtins.list[str]] = {}
        for sid in dict.fromkeys(ids):
            per_shard.setdefault(shard_of(sid, shards), []).append(sid)
        total = 0
        for group in per_shard.values():
            call = Call(ops.DELETE_SESSIONS, (tuple(group), user_id), group[0])
            total += await self._backend.call(call)
        return total

    async def append_run(self, session_id: str, run: Run, *, user_id: str | None = None) -> Run:
        """Append ``run`` to a session, or replace the run with its ``run_id`` in place.

        Returns:
            The stored :class:`Run` (``created_at`` filled).

        Raises:
            NotFound: if there is no such session (for ``user_id``).
            TypeError, InvalidArgument: for a bad argument.

        Complexity: O(runs in the session).
        """
        call = self._requests.append_run(session_id, run, user_id=user_id)
        stored: Run = await self._backend.call(call)
        return stored

    async def runs(
        self, session_id: str, *, last_n: int | None = None, user_id: str | None = None
    ) -> tuple[Run, ...]:
        """The session's runs, oldest first (only the last ``last_n`` if given).

        Raises:
            NotFound: if there is no such session (for ``user_id``).
        """
        call = self._requests.runs(session_id, last_n=last_n, user_id=user_id)
        runs: tuple[Run, ...] = await self._backend.call(call)
        return runs

    async def messages(
        self,
        session_id: str,
        *,
        last_n_runs: int | None = None,
        roles: Iterable[str] | None = None,
        user_id: str | None = None,
    ) -> builtins.list[Message]:
        """The messages of the session's runs (the last ``last_n_runs``), in order.

        Args:
            roles: keep only messages with these roles (e.g. ``("user", "assistant")``).

        Raises:
            NotFound: if there is no such session (for ``user_id``).
            TypeError, InvalidArgument: for a bad argument (e.g. an unknown role).

        Complexity: O(messages returned).
        """
        call = self._requests.messages(
            session_id, last_n_runs=last_n_runs, roles=roles, user_id=user_id
        )
        messages: builtins.list[Message] = await self._backend.call(call)
        return messages

    async def set_summary(
        self,
        session_id: str,
        summary: SessionSummary | str,
        *,
        topics: Iterable[str] = (),
        user_id: str | None = None,
    ) -> SessionSummary:
        """Set the session's summary (a :class:`SessionSummary`, or text and ``topics``).

        Returns:
            The stored :class:`SessionSummary` (``updated_at`` = now).

        Raises:
            NotFound: if there is no such session (for ``user_id``).
            TypeError, InvalidArgument: for a bad argument.
        """
        call = self._requests.set_summary(session_id, summary, topics=topics, user_id=user_id)
        stored: SessionSummary = await self._backend.call(call)
        return stored

    async def get_summary(
        self, session_id: str, *, user_id: str | None = None
    ) -> SessionSummary | None:
        """The session's summary, or ``None`` if it has none.

        Raises:
            NotFound: if there is no such session (for ``user_id``).
        """
        call = self._requests.get_summary(session_id, user_id=user_id)
        summary: SessionSummary | None = await self._backend.call(call)
        return summary
