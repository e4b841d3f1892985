"""Upsonic's ``Storage`` on a shardmem engine (see ``_rows`` for what maps where)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from upsonic.session.agent import AgentSession
from upsonic.storage.base import Storage
from upsonic.storage.in_memory.utils import apply_pagination, apply_sorting
from upsonic.storage.schemas import UserMemory
from upsonic.storage.utils import deserialize_session

from engine import BlockingEngine, start_blocking_engine
from engine.integrations.upsonic import _rows
from engine.integrations.upsonic._documents import DocumentTables

__all__ = ["ShardmemStorage"]


def _now() -> int:
    return int(time.time())


class ShardmemStorage(DocumentTables, Storage):  # type: ignore[misc,unused-ignore]
    """Upsonic's ``Storage`` (``Memory(storage=...)``) on shardmem: thread-safe, callable
    from inside a running asyncio loop (every Upsonic path does that), durable with
    ``data_dir``, shared by processes with ``redis_url``; ``close()`` keeps the data.

    Args:
        session_table, user_memory_table, knowledge_table, id: as Upsonic's
            ``InMemoryStorage`` (the table names are kept for compatibility).
        engine: a :class:`engine.BlockingEngine` to share (it stays open when the
            storage closes; ``clear_all`` clears its Upsonic rows); by default the
            storage starts its own engine.
        data_dir, fsync, redis_url, **options: for the storage's own engine, as
            :func:`engine.start_blocking_engine`.

    Complexity: a session or profile read is O(1) engine calls; lists walk the
    engine's ordered indexes and sort with Upsonic's own helpers (O(n log n)).
    """

    def __init__(
        self,
        session_table: str | None = None,
        user_memory_table: str | None = None,
        knowledge_table: str | None = None,
        id: str | None = None,
        *,
        engine: BlockingEngine | None = None,
        data_dir: str | None = None,
        fsync: str | None = None,
        redis_url: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            session_table=session_table,
            user_memory_table=user_memory_table,
            knowledge_table=knowledge_table,
            id=id,
        )
        self._owned = engine is None
        self._options = dict(options, data_dir=data_dir, fsync=fsync, redis_url=redis_url)
        self._durable = data_dir is not None or redis_url is not None
        self._engine = start_blocking_engine(**self._options) if engine is None else engine
        self._reopen = threading.Lock()

    @property
    def engine(self) -> BlockingEngine:
        """The engine; the storage's own one is reopened (same options) after
        :meth:`close`, so a closed durable storage reads its data again."""
        if self._owned and self._engine.closed:
            with self._reopen:  # one reopen when many threads find it closed
                if self._engine.closed:
                    self._engine = start_blocking_engine(**self._options)
        return self._engine

    # -- housekeeping ----------------------------------------------------------

    def table_exists(self, table_name: str) -> bool:
        """Always ``True``: shardmem needs no tables."""
        return True

    def close(self) -> None:
        """Release the storage; the data is kept (Upsonic's ``InMemoryStorage.close``
        wipes it) and the storage stays usable. With ``data_dir`` or ``redis_url`` its
        own engine stops (the next call reopens it and finds the data); a purely
        in-memory engine keeps running, since stopping it would lose the data (it
        stops when collected or at exit, or with ``storage.engine.close()``); a
        shared engine is left alone. Idempotent."""
        if self._owned and self._durable and not self._engine.closed:
            self._engine.close()

    def clear_all(self) -> None:
        """Delete this storage's sessions, user-memory profiles and knowledge rows (as Upsonic's
        ``InMemoryStorage.clear_all``: cultural knowledge, usage and models stay)."""
        sessions = self._sessions()
        if sessions:
            self.engine.sessions.delete_many([s.session_id for s in sessions])
        for memory in self._profile_records(None):
            self.engine.memories.delete(memory.memory_id, user_id=memory.user_id)
        for doc in self._docs("knowledge"):
            self.engine.knowledge.delete(doc.doc_id)

    def get_session_count(self) -> int:
        """The number of sessions."""
        return len(self._sessions())

    def get_user_memory_count(self) -> int:
        """The number of user-memory profiles."""
        return len(self._profile_records(None))

    # -- sessions --------------------------------------------------------------

    def upsert_session(self, session: Any, deserialize: bool = True) -> Any:
        """Insert or replace a session (``created_at`` kept on replace)."""
        if session is None:
            return None
        session_id = getattr(session, "session_id", None)
        if not session_id:
            raise ValueError("session_id is required for upsert_session")
        row = session.to_dict(serialize_flag=True)
        if isinstance(session, AgentSession):
            row["session_type"] = "agent"
        elif row.get("session_type") is None:
            row["session_type"] = {"session_type": "agent"}
        now = _now()
        existing = self.engine.sessions.get(session_id)
        if existing is not None and existing.user_id != _rows.engine_id(row.get("user_id")):
            self.engine.sessions.delete(session_id)  # Upsonic lets a session change owner
        if existing is not None and _rows.is_upsonic_session(existing):
            row["created_at"] = _rows.row_of_session(existing).get("created_at", now)
        else:
            row["created_at"] = row.get("created_at") or now
        row["updated_at"] = now
        self.engine.sessions.upsert(_rows.session_of_row(row))
        if not deserialize:
            return row
        if isinstance(session, AgentSession):
            return AgentSession.from_dict(row, deserialize_flag=True)
        return deserialize_session(row)

    def upsert_sessions(self, sessions: list[Any], deserialize: bool = True) -> list[Any]:
        """Upsert each session in order; the results, ``None``s left out."""
        results = []
        for session in sessions or ():
            result = self.upsert_session(session, deserialize=deserialize)
            if result is not None:
                results.append(result)
        return results

    def _sessions(self, **filters: Any) -> list[Any]:
        """The engine's Upsonic sessions matching ``filters``, oldest first."""
        found = self.engine.sessions.list(order_by="created_at", descending=False, **filters)
        return [s for s in found if _rows.is_upsonic_session(s)]

    def _session_rows(
        self,
        session_ids: Iterable[str] | None,
        session_type: Any,
        user_id: str | None,
        agent_id: str | None,
    ) -> list[dict[str, Any]]:
        kind = None if session_type is None else session_type.value
        if session_ids is not None:
            found = [self.engine.sessions.get(i) for i in dict.fromkeys(session_ids) if i]
            records = [s for s in found if s is not None]
            records.sort(key=lambda s: (s.created_at or 0.0, s.session_id))
        else:
            records = self._sessions(
                user_id=_rows.engine_id(user_id), agent_id=_rows.engine_id(agent_id)
            )
        rows = [_rows.row_of_session(s) for s in records if _rows.is_upsonic_session(s)]
        return [
            row
            for row in rows
            if (kind is None or _rows.session_type_of(row) == kind)
            and (user_id is None or row.get("user_id") == user_id)
            and (agent_id is None or row.get("agent_id") == agent_id)
        ]

    def get_session(
        self,
        session_id: str | None = None,
        session_type: Any = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        deserialize: bool = True,
    ) -> Any:
        """The session ``session_id`` if it matches the filters; with no id, the most
        recently updated session matching them; ``None`` if none."""
        ids = None if session_id is None else [session_id]
        rows = self._session_rows(ids, session_type, user_id, agent_id)
        if not rows:
            return None
        row = apply_sorting(rows, sort_by="updated_at", sort_order="desc")[0]
        return row if not deserialize else deserialize_session(row, session_type)

    def get_sessions(
        self,
        session_ids: list[str] | None = None,
        session_type: Any = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        deserialize: bool = True,
    ) -> Any:
        """Sessions matching the filters, sorted, paginated: a list of sessions, or
        ``(rows, total before pagination)`` with ``deserialize=False``."""
        rows = self._session_rows(session_ids, session_type, user_id, agent_id)
        total = len(rows)
        page = apply_pagination(apply_sorting(rows, sort_by, sort_order), limit, offset)
        if not deserialize:
            return page, total
        sessions = (deserialize_session(row, session_type) for row in page)
        return [s for s in sessions if s is not None]

    def delete_session(self, session_id: str) -> bool:
        """Delete a session; ``False`` if there was none."""
        if not session_id:
            raise ValueError("session_id is required for delete_session")
        return bool(self.engine.sessions.delete(session_id))

    def delete_sessions(self, session_ids: list[str]) -> int:
        """Delete sessions; how many there were."""
        if not session_ids:
            raise ValueError("session_ids cannot be empty for delete_sessions")
        return int(self.engine.sessions.delete_many(list(dict.fromkeys(session_ids))))

    # -- user-memory profiles --------------------------------------------------

    def _profile_records(self, user_id: str | None) -> list[Any]:
        """The engine's Upsonic profiles (of ``user_id`` if given), oldest first."""
        memories = self.engine.memories.list(
            user_id=_rows.engine_id(user_id), order_by="created_at", descending=False
        )
        return [
            m
            for m in memories
            if _rows.is_upsonic_memory(m) and (user_id is None or m.user_id == user_id)
        ]

    def _profiles(self, user_id: str | None) -> list[tuple[str, dict[str, Any]]]:
        return [(m.memory_id, _rows.row_of_memory(m)) for m in self._profile_records(user_id)]

    def upsert_user_memory(self, user_memory: UserMemory, deserialize: bool = True) -> Any:
        """Insert or replace the profile of ``(user_id, agent_id, team_id)``."""
        if not user_memory.user_id:
            raise ValueError("user_memory must have user_id set for upsert")
        now = _now()
        row: dict[str, Any] = {
            "user_id": user_memory.user_id,
            "user_memory": user_memory.user_memory,
            "agent_id": user_memory.agent_id,
            "team_id": user_memory.team_id,
            "created_at": user_memory.created_at or now,
            "updated_at": now,
        }
        memory_id = _rows.profile_id()
        for key, existing in self._profiles(user_memory.user_id):
            if self._matches(existing, user_memory.agent_id, user_memory.team_id):
                memory_id = key
                row["created_at"] = existing.get("created_at", row["created_at"])
                break
        self.engine.memories.upsert(_rows.memory_of_row(row, memory_id))
        return UserMemory.from_dict(row) if deserialize else row

    def upsert_user_memories(
        self, user_memories: list[UserMemory], deserialize: bool = True
    ) -> list[Any]:
        """Upsert each profile in order."""
        for memory in user_memories or ():
            if not memory.user_id:
                raise ValueError("user_id is required in each UserMemory instance")
        return [self.upsert_user_memory(m, deserialize) for m in user_memories or ()]

    def get_user_memory(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        deserialize: bool = True,
    ) -> Any:
        """The user's first profile matching the filters; with no user, the most
        recently updated matching profile; ``None`` if none."""
        rows = [row for _, row in self._profiles(user_id) if self._matches(row, agent_id, team_id)]
        if not rows:
            return None
        row = rows[0] if user_id is not None else apply_sorting(rows, "updated_at", "desc")[0]
        return UserMemory.from_dict(row) if deserialize else row

    def get_user_memories(
        self,
        user_ids: list[str] | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        deserialize: bool = True,
    ) -> Any:
        """Profiles matching the filters, newest first, paginated (``(rows, total)``
        with ``deserialize=False``)."""
        rows = [row for _, row in self._profiles(None) if self._matches(row, agent_id, team_id)]
        if user_ids is not None:
            wanted = set(user_ids)
            rows = [row for row in rows if row.get("user_id") in wanted]
        total = len(rows)
        page = apply_pagination(apply_sorting(rows, "updated_at", "desc"), limit, offset)
        return [UserMemory.from_dict(row) for row in page] if deserialize else (page, total)

    def delete_user_memory(self, user_id: str) -> bool:
        """Delete every profile of the user; ``False`` if there was none."""
        if not user_id:
            raise ValueError("user_id is required for delete_user_memory")
        return self._delete_profiles(user_id) > 0

    def delete_user_memories(self, user_ids: list[str]) -> int:
        """Delete every profile of these users; how many there were."""
        if not user_ids:
            raise ValueError("user_ids cannot be empty for delete_user_memories")
        return sum(self._delete_profiles(u) for u in dict.fromkeys(user_ids))

    def _delete_profiles(self, user_id: str) -> int:
        profiles = self._profile_records(user_id)
        for memory in profiles:
            self.engine.memories.delete(memory.memory_id, user_id=user_id)
        return len(profiles)
