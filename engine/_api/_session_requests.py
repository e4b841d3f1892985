"""The single-shard requests of ``mem.sessions``, built synchronously (see
:class:`~engine._api._working.WorkingRequests`); :class:`~engine._api._sessions.Sessions`
sends them, pipelines queue them."""

from __future__ import annotations

from collections.abc import Iterable

from engine._core import _ops as ops
from engine._core._config import EngineConfig
from engine._core._errors import InvalidArgument
from engine._core._ops import Call
from engine._core._records import MESSAGE_ROLES, Run, Session, SessionSummary
from engine._core._validate import (
    DEFAULT,
    check_choice,
    check_id,
    check_limit,
    check_optional_id,
    check_str,
    check_str_tuple,
)

__all__ = ["SessionRequests"]


def _check_instance(name: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")


class SessionRequests:
    """Each method takes the same arguments as the :class:`Sessions` method of its
    name, validates them (raising what that method documents) and returns the
    :class:`Call` to send to the shard owning the session."""

    __slots__ = ("_config",)

    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def upsert(self, session: Session, *, ttl: object = DEFAULT) -> Call:
        """The request of :meth:`Sessions.upsert`."""
        _check_instance("session", session, Session)
        self._config.check_size("session", session)
        ttl_s = self._config.resolve_ttl("sessions", ttl)
        return Call(ops.UPSERT_SESSION, (session, ttl_s), session.session_id)

    def get(
        self, session_id: str, *, user_id: str | None = None, runs_limit: int | None = None
    ) -> Call:
        """The request of :meth:`Sessions.get`."""
        check_id("session_id", session_id)
        check_optional_id("user_id", user_id)
        check_limit("runs_limit", runs_limit)
        return Call(ops.GET_SESSION, (session_id, user_id, runs_limit), session_id)

    def rename(self, session_id: str, name: str, *, user_id: str | None = None) -> Call:
        """The request of :meth:`Sessions.rename`."""
        check_id("session_id", session_id)
        check_str("name", name)
        check_optional_id("user_id", user_id)
        self._config.check_size("name", name)
        return Call(ops.RENAME_SESSION, (session_id, name, user_id), session_id)

    def delete(self, session_id: str, *, user_id: str | None = None) -> Call:
        """The request of :meth:`Sessions.delete`."""
        check_id("session_id", session_id)
        check_optional_id("user_id", user_id)
        return Call(ops.DELETE_SESSION, (session_id, user_id), session_id)

    def append_run(self, session_id: str, run: Run, *, user_id: str | None = None) -> Call:
        """The request of :meth:`Sessions.append_run`."""
        check_id("session_id", session_id)
        _check_instance("run", run, Run)
        check_optional_id("user_id", user_id)
        self._config.check_size("run", run)
        return Call(ops.APPEND_RUN, (session_id, run, user_id), session_id)

    def runs(
        self, session_id: str, *, last_n: int | None = None, user_id: str | None = None
    ) -> Call:
        """The request of :meth:`Sessions.runs`."""
        check_id("session_id", session_id)
        check_limit("last_n", last_n)
        check_optional_id("user_id", user_id)
        return Call(ops.GET_RUNS, (session_id, last_n, user_id), session_id)

    def messages(
        self,
        session_id: str,
        *,
        last_n_runs: int | None = None,
        roles: Iterable[str] | None = None,
        user_id: str | None = None,
    ) -> Call:
        """The request of :meth:`Sessions.messages`."""
        check_id("session_id", session_id)
        check_limit("last_n_runs", last_n_runs)
        check_optional_id("user_id", user_id)
        role_set = None
        if roles is not None:
            role_list = check_str_tuple("roles", roles if isinstance(roles, str) else list(roles))
            for role in role_list:
                check_choice("roles item", role, MESSAGE_ROLES)
            role_set = frozenset(role_list)
        args = (session_id, last_n_runs, role_set, user_id)
        return Call(ops.GET_MESSAGES, args, session_id)

    def set_summary(
        self,
        session_id: str,
        summary: SessionSummary | str,
        *,
        topics: Iterable[str] = (),
        user_id: str | None = None,
    ) -> Call:
        """The request of :meth:`Sessions.set_summary`."""
        check_id("session_id", session_id)
        check_optional_id("user_id", user_id)
        if isinstance(summary, str):
            summary = SessionSummary(summary=summary, topics=tuple(topics))
        elif not isinstance(summary, SessionSummary):
            raise TypeError(
                f"summary: expected SessionSummary or str, got {type(summary).__name__}"
            )
        elif tuple(topics):
            raise InvalidArgument("topics: give topics inside the SessionSummary, not both")
        self._config.check_size("summary", summary)
        return Call(ops.SET_SUMMARY, (session_id, summary, user_id), session_id)

    def get_summary(self, session_id: str, *, user_id: str | None = None) -> Call:
        """The request of :meth:`Sessions.get_summary`."""
        check_id("session_id", session_id)
        check_optional_id("user_id", user_id)
        return Call(ops.GET_SUMMARY, (session_id, user_id), session_id)
