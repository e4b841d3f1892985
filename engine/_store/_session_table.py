"""The sessions of one shard (as rows) and their secondary indexes."""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from engine._core._queries import SessionQuery
from engine._core._rows import (
    CREATED,
    S_AGENT,
    S_ID,
    S_NAME,
    S_RUNS,
    S_TEAM,
    S_TYPE,
    S_USER,
    S_WORKFLOW,
    UPDATED,
    Row,
)
from engine._store._ordered import OrderedGroups

__all__ = ["SessionTable", "row_matches"]

_ALL = ("all",)


def _groups(row: Row) -> list[Hashable]:
    groups: list[Hashable] = [_ALL]
    if row[S_USER] is not None:
        groups.append(("user", row[S_USER]))
    if row[S_AGENT] is not None:
        groups.append(("agent", row[S_AGENT]))
    if row[S_TEAM] is not None:
        groups.append(("team", row[S_TEAM]))
    if row[S_WORKFLOW] is not None:
        groups.append(("workflow", row[S_WORKFLOW]))
    return groups


def row_matches(row: Row, query: SessionQuery, needle: str | None) -> bool:
    """Whether a session row passes every filter of ``query`` (as
    ``engine._core._queries.session_matches`` for a record, without building it).

    ``needle`` is ``query.name_contains.casefold()`` (computed once per scan).
    """
    if query.user_id is not None and row[S_USER] != query.user_id:
        return False
    if query.session_type is not None and row[S_TYPE] != query.session_type:
        return False
    if query.agent_id is not None and row[S_AGENT] != query.agent_id:
        return False
    if query.team_id is not None and row[S_TEAM] != query.team_id:
        return False
    if query.workflow_id is not None and row[S_WORKFLOW] != query.workflow_id:
        return False
    name = row[S_NAME]
    if needle is not None and (name is None or needle not in name.casefold()):
        return False
    created = row[CREATED]
    if query.created_after is not None and created < query.created_after:
        return False
    return query.created_before is None or created < query.created_before


class SessionTable:
    """Session rows (``engine._core._rows``) by id, ordered by ``updated_at`` and
    ``created_at`` within each of: all sessions, each user, each agent, team and
    workflow. The indexes hold ids, never rows.

    It stores what it is given (timestamps already filled); liveness and TTL are the
    store's business. Complexity: put/remove O(g log n) for g <= 5 index groups.
    """

    __slots__ = ("by_created", "by_updated", "records", "runs")

    def __init__(self) -> None:
        self.records: dict[str, Row] = {}
        self.by_updated = OrderedGroups()
        self.by_created = OrderedGroups()
        self.runs = 0

    def put(self, row: Row) -> None:
        """Insert or replace a session row (its timestamps must be set).

        A replacement touches only the index entries whose key changed (an update
        keeps ``created_at``, so only the ``updated_at`` entries move). All or
        nothing: if an index update fails part-way (e.g. ``MemoryError``), the
        previous session is back in every index and the error propagates.
        """
        old = self.records.get(row[S_ID])
        try:
            self._put(row, old)
        except BaseException:
            self._scrub(row)
            if old is not None:
                self._scrub(old)
                self._put(old, None)
            raise

    def _put(self, row: Row, old: Row | None) -> None:
        sid = row[S_ID]
        self.records[sid] = row
        self.runs += len(row[S_RUNS])
        new_groups = _groups(row)
        if old is None:
            self.by_updated.add_to(new_groups, row[UPDATED], sid)
            self.by_created.add_to(new_groups, row[CREATED], sid)
            return
        self.runs -= len(old[S_RUNS])
        old_groups = _groups(old)
        same_groups = old_groups == new_groups
        if not same_groups or old[UPDATED] != row[UPDATED]:
            self.by_updated.remove_from(old_groups, old[UPDATED], sid)
            self.by_updated.add_to(new_groups, row[UPDATED], sid)
        if not same_groups or old[CREATED] != row[CREATED]:
            self.by_created.remove_from(old_groups, old[CREATED], sid)
            self.by_created.add_to(new_groups, row[CREATED], sid)

    def load_many(self, rows: list[Row]) -> None:
        """Insert rows of sessions not stored yet, building the indexes in bulk (each
        new index group sorted once). For recovery: not all or nothing."""
        records = self.records
        entries = []
        for row in rows:
            sid = row[S_ID]
            if sid in records:
                raise ValueError(f"load_many: session {sid!r} is already stored")
            records[sid] = row
            self.runs += len(row[S_RUNS])
            entries.append((_groups(row), row))
        self.by_updated.add_many((groups, row[UPDATED], row[S_ID]) for groups, row in entries)
        self.by_created.add_many((groups, row[CREATED], row[S_ID]) for groups, row in entries)

    def remove(self, session_id: str) -> Row | None:
        """Remove and return the session's row, or ``None`` if absent. All or nothing."""
        row = self.records.get(session_id)
        if row is None:
            return None
        try:
            groups = _groups(row)
            self.by_updated.remove_from(groups, row[UPDATED], session_id)
            self.by_created.remove_from(groups, row[CREATED], session_id)
            del self.records[session_id]
            self.runs -= len(row[S_RUNS])
        except BaseException:
            self._scrub(row)
            self._put(row, None)
            raise
        return row

    def _scrub(self, row: Row) -> None:
        """Remove every trace of a row from the indexes, tolerating a half-done
        put or remove, and recount the runs (the rollback path: O(n))."""
        sid = row[S_ID]
        if self.records.get(sid) is row:
            del self.records[sid]
        groups = _groups(row)
        self.by_updated.discard_from(groups, row[UPDATED], sid)
        self.by_created.discard_from(groups, row[CREATED], sid)
        self.runs = sum(len(r[S_RUNS]) for r in self.records.values())

    def scan(self, query: SessionQuery) -> Iterator[tuple[float, str, Row]]:
        """Session rows matching ``query``, in its order, as ``(timestamp, id, row)``.

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
            row = records[sid]
            if not row_matches(row, query, needle):
                continue
            yield timestamp, sid, row

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
        assert self.runs == sum(len(r[S_RUNS]) for r in self.records.values())
        for group_size in (self.by_updated.size(_ALL), self.by_created.size(_ALL)):
            assert group_size == len(self.records)
        for row in self.records.values():
            for group in _groups(row):
                assert self.by_updated.contains(group, row[UPDATED], row[S_ID])
                assert self.by_created.contains(group, row[CREATED], row[S_ID])
