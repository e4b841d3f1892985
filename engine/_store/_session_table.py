"""The sessions of one shard and their secondary indexes."""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from engine._core._queries import SessionQuery, session_matches
from engine._core._records import Session
from engine._store._ordered import OrderedGroups

__all__ = ["SessionTable"]

_ALL = ("all",)


def _groups(session: Session) -> list[Hashable]:
    groups: list[Hashable] = [_ALL]
    if session.user_id is not None:
        groups.append(("user", session.user_id))
    if session.agent_id is not None:
        groups.append(("agent", session.agent_id))
    if session.team_id is not None:
        groups.append(("team", session.team_id))
    if session.workflow_id is not None:
        groups.append(("workflow", session.workflow_id))
    return groups


class SessionTable:
    """Sessions by id, ordered by ``updated_at`` and ``created_at`` within each of:
    all sessions, each user, each agent, team and workflow.

    It stores what it is given (timestamps already filled); liveness and TTL are the
    store's business. Complexity: put/remove O(g log n) for g <= 5 index groups.
    """

    __slots__ = ("by_created", "by_updated", "records", "runs")

    def __init__(self) -> None:
        self.records: dict[str, Session] = {}
        self.by_updated = OrderedGroups()
        self.by_created = OrderedGroups()
        self.runs = 0

    def put(self, session: Session) -> None:
        """Insert or replace ``session`` (its timestamps must be set).

        A replacement touches only the index entries whose key changed (an update
        keeps ``created_at``, so only the ``updated_at`` entries move). All or
        nothing: if an index update fails part-way (e.g. ``MemoryError``), the
        previous session is back in every index and the error propagates.
        """
        old = self.records.get(session.session_id)
        try:
            self._put(session, old)
        except BaseException:
            self._scrub(session)
            if old is not None:
                self._scrub(old)
                self._put(old, None)
            raise

    def _put(self, session: Session, old: Session | None) -> None:
        sid = session.session_id
        self.records[sid] = session
        self.runs += len(session.runs)
        new_groups = _groups(session)
        if old is None:
            self.by_updated.add_to(new_groups, session.updated_at, sid)  # type: ignore[arg-type]
            self.by_created.add_to(new_groups, session.created_at, sid)  # type: ignore[arg-type]
            return
        self.runs -= len(old.runs)
        old_groups = _groups(old)
        same_groups = old_groups == new_groups
        if not same_groups or old.updated_at != session.updated_at:
            self.by_updated.remove_from(old_groups, old.updated_at, sid)  # type: ignore[arg-type]
            self.by_updated.add_to(new_groups, session.updated_at, sid)  # type: ignore[arg-type]
        if not same_groups or old.created_at != session.created_at:
            self.by_created.remove_from(old_groups, old.created_at, sid)  # type: ignore[arg-type]
            self.by_created.add_to(new_groups, session.created_at, sid)  # type: ignore[arg-type]

    def remove(self, session_id: str) -> Session | None:
        """Remove and return the session, or ``None`` if absent. All or nothing."""
        session = self.records.get(session_id)
        if session is None:
            return None
        try:
            groups = _groups(session)
            self.by_updated.remove_from(groups, session.updated_at, session_id)  # type: ignore[arg-type]
            self.by_created.remove_from(groups, session.created_at, session_id)  # type: ignore[arg-type]
            del self.records[session_id]
            self.runs -= len(session.runs)
        except BaseException:
            self._scrub(session)
            self._put(session, None)
            raise
        return session

    def _scrub(self, session: Session) -> None:
        """Remove every trace of ``session`` from the indexes, tolerating a half-done
        put or remove, and recount the runs (the rollback path: O(n))."""
        sid = session.session_id
        if self.records.get(sid) is session:
            del self.records[sid]
        groups = _groups(session)
        self.by_updated.discard_from(groups, session.updated_at, sid)  # type: ignore[arg-type]
        self.by_created.discard_from(groups, session.created_at, sid)  # type: ignore[arg-type]
        self.runs = sum(len(s.runs) for s in self.records.values())

    def scan(self, query: SessionQuery) -> Iterator[tuple[float, str, Session]]:
        """Sessions matching ``query``, in its order, as ``(timestamp, id, session)``.

        Walks the narrowest ordered index (user, then agent, team, workflow, else all)
        and filters the rest; a ``created_at`` range on ``created_at`` order is a range
        scan. Lazily: stop iterating when you have enough. Expired sessions are
        included; the caller filters them.
        """
        if query.user_id is not None:
            group: Hashable = ("user", query.user_id)
        elif query.agent_id is not None:
            group = ("agent", query.agent_id)
        elif query.team_id is not None:
            group = ("team", query.team_id)
        elif query.workflow_id is not None:
            group = ("workflow", query.workflow_id)
        else:
            group = _ALL
        by_created = query.order_by == "created_at"
        index = self.by_created if by_created else self.by_updated
        if by_created:
            entries = index.scan(
                group,
                descending=query.descending,
                since=query.created_after,
                until=query.created_before,
            )
        else:
            entries = index.scan(group, descending=query.descending)
        needle = None if query.name_contains is None else query.name_contains.casefold()
        records = self.records
        for timestamp, sid in entries:
            session = records[sid]
            if not session_matches(session, query, needle):
                continue
            yield timestamp, sid, session

    def clear(self) -> None:
        """Remove every session."""
        self.records.clear()
        self.by_updated.clear()
        self.by_created.clear()
        self.runs = 0

    def _check(self) -> None:
        """Assert invariants (for tests). O(n log n)."""
        self.by_updated._check()
        self.by_created._check()
        assert self.runs == sum(len(s.runs) for s in self.records.values())
        for group_size in (self.by_updated.size(_ALL), self.by_created.size(_ALL)):
            assert group_size == len(self.records)
        for session in self.records.values():
            for group in _groups(session):
                assert (session.updated_at, session.session_id) in self.by_updated._groups[group]
                assert (session.created_at, session.session_id) in self.by_created._groups[group]
