"""Shard store operations on sessions, their runs and summaries."""

from __future__ import annotations

from typing import Any

from engine._core._errors import NotFound, OwnershipError
from engine._core._queries import SessionQuery, messages_of
from engine._core._records import (
    Message,
    Run,
    Session,
    SessionSummary,
    replace,
)
from engine._core._stamps import stamp_run, stamp_runs
from engine._store._base import SESSION, TTL, Ranked, StoreBase, take

__all__ = ["SessionOps"]


class SessionOps(StoreBase):
    """Sessions: upsert with the ownership guard, scoped reads and updates, runs."""

    def _session_for(self, now: float, session_id: str, user_id: str | None) -> Session:
        session: Session | None = self._live(SESSION, session_id, now)
        if session is None or (user_id is not None and session.user_id != user_id):
            scope = "" if user_id is None else f" for user {user_id!r}"
            raise NotFound(f"no session {session_id!r}{scope}")
        return session

    def upsert_session(self, now: float, session: Session, ttl: TTL) -> Session:
        """Insert or replace a session; ``created_at`` is kept from the stored one.

        Raises:
            OwnershipError: if the stored session has another ``user_id``.
        """
        sid = session.session_id
        old: Session | None = self._live(SESSION, sid, now)
        if old is not None and old.user_id is not None and session.user_id != old.user_id:
            raise OwnershipError(
                f"session {sid!r} is owned by another user; got user_id={session.user_id!r}"
            )
        if old is not None:
            created = old.created_at
        else:
            created = now if session.created_at is None else session.created_at
        summary = session.summary
        if summary is not None and summary.updated_at is None:
            summary = replace(summary, updated_at=now)
        expires = self._deadline(now, ttl)
        stored = replace(
            session,
            runs=stamp_runs(session.runs, now),
            summary=summary,
            created_at=created,
            updated_at=now,
            expires_at=expires,
        )
        self._write(SESSION, sid, stored, ttl, expires)
        return stored

    def _update_session(self, now: float, old: Session, **changes: Any) -> Session:
        sid = old.session_id
        expires = self._refreshed(SESSION, sid, now, old.expires_at)
        new = replace(old, updated_at=now, expires_at=expires, **changes)
        self.sessions.put(new)
        if expires != old.expires_at:
            try:
                self.expiry.set(SESSION, sid, expires)
            except BaseException:  # all or nothing: the session as it was
                self.sessions.put(old)
                raise
        return new

    def get_session(
        self, now: float, session_id: str, user_id: str | None, runs_limit: int | None
    ) -> Session | None:
        """The live session, or ``None`` (also when scoped to another user)."""
        session: Session | None = self._live(SESSION, session_id, now)
        if session is None or (user_id is not None and session.user_id != user_id):
            return None
        session = self._touch(SESSION, session_id, session, now)
        if runs_limit is not None and runs_limit < len(session.runs):
            runs = session.runs[len(session.runs) - runs_limit :]
            session = replace(session, runs=runs)
        return session

    def list_sessions(self, now: float, query: SessionQuery, k: int | None) -> Ranked[Session]:
        """The first ``k`` live sessions matching ``query``, with their sort keys."""
        taken, expired = take(self.sessions.scan(query), k, now)
        for key in expired:
            self._expire(SESSION, key)
        return taken

    def rename_session(
        self, now: float, session_id: str, name: str, user_id: str | None
    ) -> Session:
        """Set a session's name. Raises ``NotFound``."""
        return self._update_session(now, self._session_for(now, session_id, user_id), name=name)

    def delete_session(self, now: float, session_id: str, user_id: str | None) -> bool:
        """Delete one live session (scoped); ``False`` if there was none."""
        return self.delete_sessions(now, (session_id,), user_id) == 1

    def delete_sessions(self, now: float, session_ids: tuple[str, ...], user_id: str | None) -> int:
        """Delete the live sessions among ``session_ids`` (scoped); return how many."""
        doomed = []
        for sid in session_ids:
            session: Session | None = self._live(SESSION, sid, now)
            if session is not None and (user_id is None or session.user_id == user_id):
                doomed.append(sid)
        return self._remove_all(SESSION, dict.fromkeys(doomed))  # all or none

    def append_run(self, now: float, session_id: str, run: Run, user_id: str | None) -> Run:
        """Append ``run``, or replace the run with the same ``run_id`` in place.

        Raises ``NotFound``. O(runs in the session).
        """
        session = self._session_for(now, session_id, user_id)
        run = stamp_run(run, now)
        runs = session.runs
        for index in range(len(runs) - 1, -1, -1):
            if runs[index].run_id == run.run_id:
                runs = (*runs[:index], run, *runs[index + 1 :])
                break
        else:
            runs = (*runs, run)
        self._update_session(now, session, runs=runs)
        return run

    def get_runs(
        self, now: float, session_id: str, last_n: int | None, user_id: str | None
    ) -> tuple[Run, ...]:
        """The session's runs (the last ``last_n`` if given), oldest first."""
        session = self._touch(SESSION, session_id, self._session_for(now, session_id, user_id), now)
        runs = session.runs
        if last_n is not None:
            runs = runs[len(runs) - last_n :] if last_n < len(runs) else runs
        return runs

    def get_messages(
        self,
        now: float,
        session_id: str,
        last_n_runs: int | None,
        roles: frozenset[str] | None,
        user_id: str | None,
    ) -> list[Message]:
        """The messages of the session's (last ``last_n_runs``) runs, in order."""
        runs = self.get_runs(now, session_id, last_n_runs, user_id)
        return messages_of(runs, roles)

    def set_summary(
        self, now: float, session_id: str, summary: SessionSummary, user_id: str | None
    ) -> SessionSummary:
        """Set the session's summary (``updated_at`` = now). Raises ``NotFound``."""
        session = self._session_for(now, session_id, user_id)
        summary = replace(summary, updated_at=now)
        self._update_session(now, session, summary=summary)
        return summary

    def get_summary(
        self, now: float, session_id: str, user_id: str | None
    ) -> SessionSummary | None:
        """The session's summary or ``None``. Raises ``NotFound`` if no session."""
        session = self._session_for(now, session_id, user_id)
        return self._touch(SESSION, session_id, session, now).summary
