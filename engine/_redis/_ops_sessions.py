"""The session operations of the Redis engine (same names and semantics as
:class:`engine.ShardStore`'s, minus ``now``, plus the partition)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs

from engine._core._config import EngineConfig
from engine._core._errors import NotFound, OwnershipError
from engine._core._queries import SessionQuery, messages_of, session_matches
from engine._core._records import Message, Run, Session, SessionSummary
from engine._core._stamps import stamp_run, stamp_runs
from engine._redis._codec import (
    decode_run,
    decode_session,
    dumps,
    fields_of,
    session_fields,
    ts,
)
from engine._redis._conn import Connection
from engine._redis._keys import NUL

__all__ = ["Ranked", "SessionOps", "scan_index"]

Ranked = list[tuple[tuple[float, Any], Any]]


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _not_found(session_id: str, user_id: str | None) -> NotFound:
    scope = "" if user_id is None else f" for user {user_id!r}"
    return NotFound(f"no session {session_id!r}{scope}")


async def scan_index(
    conn: Connection,
    partition: int,
    now: float,
    index: str,
    kind: str,
    query_range: tuple[str, str],
    descending: bool,
    k: int | None,
    entry: Callable[[Any], tuple[tuple[float, Any], Any]],
    accept: Callable[[Any], bool],
) -> Ranked:
    """Walk one ordered index of a partition in batches (one script call each);
    return the first ``k`` live records ``accept`` keeps, as ``((ts, key), record)``.

    Each batch is atomic; a long walk may interleave with concurrent writes.
    """
    taken: Ranked = []
    if k == 0:
        return taken
    offset = 0
    batch = 64 if k is None else min(max(k, 16), 1024)
    lo, hi = query_range
    while True:
        seen, gone, values = await conn.run(
            "scan", partition, now, index, _flag(descending), lo, hi, str(offset), str(batch), kind
        )
        for value in values:
            item = entry(value)
            if accept(item[1]):
                taken.append(item)
                if k is not None and len(taken) >= k:
                    return taken
        if seen < batch:
            return taken
        offset += seen - gone
        batch = min(batch * 2, 1024)


class SessionOps:
    """Sessions on Redis; see :class:`engine.ShardStore` for each method's contract."""

    def __init__(self, conn: Connection, config: EngineConfig) -> None:
        self._conn = conn
        policy = config.policy("sessions")
        self._on_read = _flag(policy.refresh_on_read)
        self._on_update = _flag(policy.refresh_on_update)

    def _session(self, session_id: str, value: Any) -> Session:
        flat, runs = value
        return decode_session(session_id, flat, runs)

    async def upsert_session(
        self, p: int, now: float, session: Session, ttl: float | None
    ) -> Session:
        summary = session.summary
        if summary is not None and summary.updated_at is None:
            summary = attrs.evolve(summary, updated_at=now)
        expires = None if ttl is None else now + ttl
        stored = attrs.evolve(
            session,
            runs=stamp_runs(session.runs, now),
            summary=summary,
            updated_at=now,
            expires_at=expires,
        )
        fields, ix, runs = session_fields(stored)
        reply = await self._conn.run(
            "upsert_session", p, now, session.session_id, ts(ttl), ts(expires),
            ts(session.created_at), ix, session.user_id or "", str(len(fields) // 2),
            *fields, *runs,
        )  # fmt: skip
        if reply[0] == "own":
            raise OwnershipError(
                f"session {session.session_id!r} is owned by another user; "
                f"got user_id={session.user_id!r}"
            )
        return attrs.evolve(stored, created_at=float(reply[1]))

    async def get_session(
        self, p: int, now: float, session_id: str, user_id: str | None, runs_limit: int | None
    ) -> Session | None:
        limit = -1 if runs_limit is None else runs_limit
        value = await self._conn.run(
            "get_session", p, now, session_id, user_id or "", str(limit), self._on_read
        )
        return None if value is None else self._session(session_id, value)

    async def list_sessions(self, p: int, now: float, query: SessionQuery, k: int | None) -> Ranked:
        if query.user_id is not None:
            group = f"user{NUL}{query.user_id}"
        elif query.agent_id is not None:
            group = f"agent{NUL}{query.agent_id}"
        elif query.team_id is not None:
            group = f"team{NUL}{query.team_id}"
        elif query.workflow_id is not None:
            group = f"workflow{NUL}{query.workflow_id}"
        else:
            group = "all"
        by_created = query.order_by == "created_at"
        lo, hi = "-inf", "+inf"
        if by_created and query.created_after is not None:
            lo = ts(query.created_after)
        if by_created and query.created_before is not None:
            hi = "(" + ts(query.created_before)
        needle = None if query.name_contains is None else query.name_contains.casefold()

        def entry(value: Any) -> tuple[tuple[float, Any], Session]:
            flat, runs = value
            fields = fields_of(flat)
            session = decode_session(json.loads(fields["ix"])["id"], fields, runs)
            stamp = session.created_at if by_created else session.updated_at
            assert stamp is not None
            return (stamp, session.session_id), session

        index = f"si:{'c' if by_created else 'u'}:{group}"
        return await scan_index(
            self._conn, p, now, index, "s", (lo, hi), query.descending, k, entry,
            lambda session: session_matches(session, query, needle),
        )  # fmt: skip

    async def rename_session(
        self, p: int, now: float, session_id: str, name: str, user_id: str | None
    ) -> Session:
        reply = await self._conn.run(
            "rename_session", p, now, session_id, user_id or "", name, self._on_update
        )
        if reply[0] == "nf":
            raise _not_found(session_id, user_id)
        return self._session(session_id, reply[1])

    async def delete_sessions(
        self, p: int, now: float, session_ids: tuple[str, ...], user_id: str | None
    ) -> int:
        deleted: int = await self._conn.run("delete_sessions", p, now, user_id or "", *session_ids)
        return deleted

    async def delete_session(
        self, p: int, now: float, session_id: str, user_id: str | None
    ) -> bool:
        return await self.delete_sessions(p, now, (session_id,), user_id) == 1

    async def append_run(
        self, p: int, now: float, session_id: str, run: Run, user_id: str | None
    ) -> Run:
        run = stamp_run(run, now)
        reply = await self._conn.run(
            "append_run", p, now, session_id, user_id or "", run.run_id, dumps(run.to_dict()),
            self._on_update,
        )  # fmt: skip
        if reply[0] == "nf":
            raise _not_found(session_id, user_id)
        return run

    async def get_runs(
        self, p: int, now: float, session_id: str, last_n: int | None, user_id: str | None
    ) -> tuple[Run, ...]:
        limit = -1 if last_n is None else last_n
        reply = await self._conn.run(
            "get_runs", p, now, session_id, user_id or "", str(limit), self._on_read
        )
        if reply[0] == "nf":
            raise _not_found(session_id, user_id)
        return tuple(decode_run(blob) for blob in reply[1])

    async def get_messages(
        self,
        p: int,
        now: float,
        session_id: str,
        last_n_runs: int | None,
        roles: frozenset[str] | None,
        user_id: str | None,
    ) -> list[Message]:
        runs = await self.get_runs(p, now, session_id, last_n_runs, user_id)
        return messages_of(runs, roles)

    async def set_summary(
        self, p: int, now: float, session_id: str, summary: SessionSummary, user_id: str | None
    ) -> SessionSummary:
        summary = attrs.evolve(summary, updated_at=now)
        reply = await self._conn.run(
            "set_summary", p, now, session_id, user_id or "", dumps(summary.to_dict()),
            self._on_update,
        )  # fmt: skip
        if reply[0] == "nf":
            raise _not_found(session_id, user_id)
        return summary

    async def get_summary(
        self, p: int, now: float, session_id: str, user_id: str | None
    ) -> SessionSummary | None:
        reply = await self._conn.run(
            "get_summary", p, now, session_id, user_id or "", self._on_read
        )
        if reply[0] == "nf":
            raise _not_found(session_id, user_id)
        blob = reply[1] if len(reply) > 1 else None
        return None if blob is None else SessionSummary.from_dict(json.loads(blob))
