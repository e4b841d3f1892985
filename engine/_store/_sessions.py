"""Shard store operations on sessions, their runs and summaries."""

from __future__ import annotations

from typing import Any

from engine._core._encoded import encode_run, encode_summary, summary_of
from engine._core._errors import NotFound, OwnershipError
from engine._core._queries import SessionQuery
from engine._core._records import (
    Message,
    Run,
    Session,
    SessionSummary,
    replace,
)
from engine._core._rows import (
    CREATED,
    EXPIRES,
    S_NAME,
    S_RUN_IDS,
    S_RUNS,
    S_SUMMARY,
    S_USER,
    UPDATED,
    Row,
    session_of,
    session_row,
)
from engine._core._stamps import stamp_run, stamp_runs
from engine._store._base import SESSION, TTL, StoreBase
from engine._store._eviction import field_cost, run_cost
from engine._store._take import Ranked, take

__all__ = ["SessionOps"]


class SessionOps(StoreBase):
    """Sessions: upsert with the ownership guard, scoped reads and updates, runs.

    Sessions are stored as rows (``engine._core._rows``); a run is appended to a row
    as its encoded bytes, and reads decode only what they return (e.g. the messages
    of the last runs).
    """

    def _session_for(self, now: float, session_id: str, user_id: str | None) -> Row:
        row = self._live_row(self.sessions.records, SESSION, session_id, now)
        if row is None or (user_id is not None and row[S_USER] != user_id):
            scope = "" if user_id is None else f" for user {user_id!r}"
            raise NotFound(f"no session {session_id!r}{scope}")
        return row

    def upsert_session(self, now: float, session: Session, ttl: TTL) -> Session:
        """Insert or replace a session; ``created_at`` is kept from the stored one.

        Raises:
            OwnershipError: if the stored session has another ``user_id``.
        """
        sid = session.session_id
        old = self._live_row(self.sessions.records, SESSION, sid, now)
        if old is not None and old[S_USER] is not None and session.user_id != old[S_USER]:
            raise OwnershipError(
                f"session {sid!r} is owned by another user; got user_id={session.user_id!r}"
            )
        if old is not None:
            created = old[CREATED]
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
        self._write_over(SESSION, sid, old, session_row(stored), ttl, expires)
        return stored

    def _update_session(
        self, now: float, old: Row, changes: dict[int, Any], grow: int | None = None
    ) -> Row:
        """Store ``old`` with the row fields ``changes`` (by index), ``updated_at`` =
        now and the deadline refreshed per the policy; all or nothing.

        ``grow`` is the change in accounted bytes if the caller knows it, else the
        changed fields' (``field_cost``): the other fields are not walked.
        """
        sid = old[3]
        if grow is None:
            grow = sum(
                [field_cost(value) - field_cost(old[index]) for index, value in changes.items()]
            )
        expires = self._refreshed(SESSION, sid, now, old[EXPIRES])
        fields = list(old)
        fields[EXPIRES] = expires
        fields[UPDATED] = now
        for index, value in changes.items():
            fields[index] = value
        new = tuple(fields)
        self._make_room(SESSION, sid, new, grow)
        self._table_put(SESSION, sid, new, grow)
        if expires != old[EXPIRES]:
            try:
                self.expiry.set(SESSION, sid, expires)
            except BaseException:  # all or nothing: the session as it was
                self._table_put(SESSION, sid, old, -grow)
                raise
        return new

    def get_session(
        self, now: float, session_id: str, user_id: str | None, runs_limit: int | None
    ) -> Session | None:
        """The live session, or ``None`` (also when scoped to another user)."""
        row = self._live_row(self.sessions.records, SESSION, session_id, now)
        if row is None or (user_id is not None and row[S_USER] != user_id):
            return None
        return session_of(self._touch(SESSION, session_id, row, now), runs_limit, self.decoded.run)

    def list_sessions(self, now: float, query: SessionQuery, k: int | None) -> Ranked[Row]:
        """The first ``k`` live sessions matching ``query`` as *rows*, with their sort
        keys: the engine merges the shards' lists and builds (``session_of``) only
        the sessions it returns."""
        taken, expired = take(self.sessions.scan(query), k, now)
        for key in expired:
            self._expire(SESSION, key)
        return taken

    def rename_session(
        self, now: float, session_id: str, name: str, user_id: str | None
    ) -> Session:
        """Set a session's name. Raises ``NotFound``."""
        row = self._session_for(now, session_id, user_id)
        return session_of(self._update_session(now, row, {S_NAME: name}))

    def delete_session(self, now: float, session_id: str, user_id: str | None) -> bool:
        """Delete one live session (scoped); ``False`` if there was none."""
        return self.delete_sessions(now, (session_id,), user_id) == 1

    def delete_sessions(self, now: float, session_ids: tuple[str, ...], user_id: str | None) -> int:
        """Delete the live sessions among ``session_ids`` (scoped); return how many."""
        doomed = []
        for sid in session_ids:
            row = self._live(SESSION, sid, now)
            if row is not None and (user_id is None or row[S_USER] == user_id):
                doomed.append(sid)
        return self._remove_all(SESSION, dict.fromkeys(doomed))  # all or none

    def append_run(self, now: float, session_id: str, run: Run, user_id: str | None) -> Run:
        """Append ``run``, or replace the run with the same ``run_id`` in place.

        Raises ``NotFound``. O(runs in the session) in C (the run tuples are copied)
        + O(size of ``run``) to encode it: the other runs stay encoded as they are,
        and the budget accounts only the difference. The stamped run is what the
        decoded-runs cache answers for its bytes (a history read does not decode it).
        """
        row = self._session_for(now, session_id, user_id)
        run = stamp_run(run, now)
        data = encode_run(run)
        run_id = run.run_id
        ids: tuple[str, ...] = row[S_RUN_IDS]
        runs: tuple[bytes, ...] = row[S_RUNS]
        if run_id in ids:  # run ids are unique within a session
            index = ids.index(run_id)
            grow = len(data) - len(runs[index])
            runs = (*runs[:index], data, *runs[index + 1 :])
        else:
            grow = run_cost(run_id, data)
            ids += (run_id,)
            runs += (data,)
        self.decoded.add(data, run)  # right whether or not the write below succeeds
        self._update_session(now, row, {S_RUN_IDS: ids, S_RUNS: runs}, grow)
        return run

    def _runs_of(
        self, now: float, session_id: str, last_n: int | None, user_id: str | None
    ) -> tuple[bytes, ...]:
        row = self._touch(SESSION, session_id, self._session_for(now, session_id, user_id), now)
        runs: tuple[bytes, ...] = row[S_RUNS]
        if last_n is not None and last_n < len(runs):
            runs = runs[len(runs) - last_n :]
        return runs

    def get_runs(
        self, now: float, session_id: str, last_n: int | None, user_id: str | None
    ) -> tuple[Run, ...]:
        """The session's runs (the last ``last_n`` if given), oldest first."""
        decoded = self.decoded.run
        return tuple(map(decoded, self._runs_of(now, session_id, last_n, user_id)))

    def get_messages(
        self,
        now: float,
        session_id: str,
        last_n_runs: int | None,
        roles: frozenset[str] | None,
        user_id: str | None,
    ) -> list[Message]:
        """The messages of the session's (last ``last_n_runs``) runs, in order (only
        ``roles`` if given). O(messages returned) when the runs are in the decoded-runs
        cache (``engine._store._decoded``), else O(size of the runs read)."""
        decoded = self.decoded.run
        found: list[Message] = []
        for data in self._runs_of(now, session_id, last_n_runs, user_id):
            messages = decoded(data).messages
            if roles is None:
                found.extend(messages)
            else:
                found.extend([message for message in messages if message.role in roles])
        return found

    def set_summary(
        self, now: float, session_id: str, summary: SessionSummary, user_id: str | None
    ) -> SessionSummary:
        """Set the session's summary (``updated_at`` = now). Raises ``NotFound``."""
        row = self._session_for(now, session_id, user_id)
        summary = replace(summary, updated_at=now)
        self._update_session(now, row, {S_SUMMARY: encode_summary(summary)})
        return summary

    def get_summary(
        self, now: float, session_id: str, user_id: str | None
    ) -> SessionSummary | None:
        """The session's summary or ``None``. Raises ``NotFound`` if no session."""
        row = self._session_for(now, session_id, user_id)
        return summary_of(self._touch(SESSION, session_id, row, now)[S_SUMMARY])
