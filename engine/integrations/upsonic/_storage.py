"""Upsonic's ``Storage`` on a shardmem engine (see ``_rows`` for what maps where)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from upsonic.culture.cultural_knowledge import CulturalKnowledge
from upsonic.session.agent import AgentSession
from upsonic.storage.base import Storage
from upsonic.storage.in_memory.utils import apply_pagination, apply_sorting
from upsonic.storage.schemas import KnowledgeRow, UserMemory
from upsonic.storage.utils import deserialize_session

from engine import BlockingEngine, start_blocking_engine
from engine.integrations.upsonic import _rows

__all__ = ["ShardmemStorage"]

_USAGE_FILTERS = (
    "chat_usage_id",
    "agent_usage_id",
    "task_usage_id",
    "team_usage_id",
    "workflow_usage_id",
    "system_usage_id",
    "run_id",
    "user_id",
    "kind",
)


def _now() -> int:
    return int(time.time())


class ShardmemStorage(Storage):  # type: ignore[misc,unused-ignore]
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

    @property
    def engine(self) -> BlockingEngine:
        """The engine; the storage's own one is reopened (same options) after
        :meth:`close`, so a closed durable storage reads its data again."""
        if self._owned and self._engine.closed:
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
        """Delete every session, user-memory profile and knowledge row (as Upsonic's
        ``InMemoryStorage.clear_all``: cultural knowledge, usage and models stay)."""
        sessions = self.engine.sessions.list()
        if sessions:
            self.engine.sessions.delete_many([s.session_id for s in sessions])
        for user_id in {m.user_id for m in self.engine.memories.list()}:
            self.engine.memories.clear(user_id)
        for doc in self._docs("knowledge"):
            self.engine.knowledge.delete(doc.doc_id)

    def get_session_count(self) -> int:
        """The number of sessions."""
        return len(self.engine.sessions.list())

    def get_user_memory_count(self) -> int:
        """The number of user-memory profiles."""
        return len(self.engine.memories.list())

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
        if existing is not None:
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
            records = self.engine.sessions.list(
                user_id=_rows.engine_id(user_id),
                agent_id=_rows.engine_id(agent_id),
                order_by="created_at",
                descending=False,
            )
        rows = [_rows.row_of_session(s) for s in records]
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

    def _profiles(self, user_id: str | None) -> list[tuple[str, dict[str, Any]]]:
        memories = self.engine.memories.list(
            user_id=_rows.engine_id(user_id), order_by="created_at", descending=False
        )
        return [(m.memory_id or "", _rows.row_of_memory(m)) for m in memories]

    @staticmethod
    def _matches(row: dict[str, Any], agent_id: str | None, team_id: str | None) -> bool:
        return (agent_id is None or row.get("agent_id") == agent_id) and (
            team_id is None or row.get("team_id") == team_id
        )

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
        memory_id = uuid.uuid4().hex
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
        return int(self.engine.memories.clear(user_id)) > 0

    def delete_user_memories(self, user_ids: list[str]) -> int:
        """Delete every profile of these users; how many there were."""
        if not user_ids:
            raise ValueError("user_ids cannot be empty for delete_user_memories")
        return sum(int(self.engine.memories.clear(u)) for u in dict.fromkeys(user_ids))

    # -- document tables (cultural knowledge, knowledge rows, usage, models) -----

    def _docs(self, table: str) -> list[Any]:
        docs: list[Any] = self.engine.knowledge.list(
            status=f"{_rows.FIELD}/{table}", order_by="created_at", descending=False
        )
        return docs

    def _rows_of(self, table: str) -> list[dict[str, Any]]:
        return [_rows.row_of_doc(doc) for doc in self._docs(table)]

    def _put(self, table: str, key: str, row: dict[str, Any]) -> None:
        self.engine.knowledge.upsert(_rows.doc_of_row(table, key, row))

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        doc = self.engine.knowledge.get(_rows.doc_id(table, key))
        return None if doc is None else _rows.row_of_doc(doc)

    def _delete(self, table: str, key: str) -> bool:
        return bool(self.engine.knowledge.delete(_rows.doc_id(table, key)))

    def upsert_cultural_knowledge(self, cultural_knowledge: Any, deserialize: bool = True) -> Any:
        """Insert or replace a cultural-knowledge entry (an id is made if missing)."""
        from upsonic.utils.dttm import to_epoch_s

        if cultural_knowledge.id is None:
            cultural_knowledge.id = str(uuid.uuid4())
        row = cultural_knowledge.to_dict()
        for field in ("created_at", "updated_at"):
            if isinstance(row.get(field), str):
                row[field] = to_epoch_s(row[field])
        if row.get("updated_at") is None:
            row["updated_at"] = _now()
        self._delete("cultural", cultural_knowledge.id)  # a replaced entry moves last
        self._put("cultural", cultural_knowledge.id, row)
        return CulturalKnowledge.from_dict(row) if deserialize else row

    def get_cultural_knowledge(self, id: str, deserialize: bool = True) -> Any:
        """The entry, or ``None``."""
        row = self._get("cultural", id)
        if row is None or not deserialize:
            return row
        return CulturalKnowledge.from_dict(row)

    def get_all_cultural_knowledge(
        self,
        name: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        deserialize: bool = True,
    ) -> Any:
        """Entries matching the filters, sorted, paged (``page`` counts from 1)."""
        rows = [
            row
            for row in self._rows_of("cultural")
            if (name is None or row.get("name") == name) and self._matches(row, agent_id, team_id)
        ]
        if sort_by:
            rows = apply_sorting(rows, sort_by, sort_order)
        total = len(rows)
        if limit:
            start = (page - 1) * limit if page else 0
            rows = rows[start : start + limit]
        if not deserialize:
            return rows, total
        return [CulturalKnowledge.from_dict(row) for row in rows]

    def delete_cultural_knowledge(self, id: str) -> None:
        """Delete an entry (absent: nothing happens)."""
        self._delete("cultural", id)

    def upsert_knowledge_content(self, knowledge_row: KnowledgeRow) -> KnowledgeRow:
        """Insert or replace a knowledge row."""
        row = knowledge_row.to_dict()
        now = _now()
        row.setdefault("created_at", now)
        row["updated_at"] = now
        self._delete("knowledge", row["id"])
        self._put("knowledge", row["id"], row)
        return KnowledgeRow.from_dict(row)

    def get_knowledge_content(self, id: str) -> KnowledgeRow | None:
        """The row, or ``None``."""
        row = self._get("knowledge", id)
        return None if row is None else KnowledgeRow.from_dict(row)

    def get_knowledge_contents(
        self,
        knowledge_base_id: str | None = None,
        limit: int | None = None,
        page: int | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[KnowledgeRow], int]:
        """Rows (of one knowledge base if given), sorted (default newest first),
        paginated; and the total before pagination."""
        rows = [
            row
            for row in self._rows_of("knowledge")
            if knowledge_base_id is None or row.get("knowledge_base_id") == knowledge_base_id
        ]
        ordered = apply_sorting(rows, sort_by or "created_at", sort_order or "desc")
        return [KnowledgeRow.from_dict(r) for r in apply_pagination(ordered, limit, page)], len(
            rows
        )

    def delete_knowledge_content(self, id: str) -> bool:
        """Delete a row; ``False`` if there was none."""
        return self._delete("knowledge", id)

    def delete_knowledge_contents(self, ids: list[str]) -> int:
        """Delete rows; how many there were."""
        return sum(self._delete("knowledge", i) for i in dict.fromkeys(ids or ()))

    # -- the usage ledger ------------------------------------------------------

    def upsert_usage_entry(self, entry: dict[str, Any]) -> None:
        """Insert or replace a usage entry (keyed by ``entry_id``)."""
        key = entry.get("entry_id")
        if not key:
            raise ValueError("usage entry must have a non-empty entry_id")
        self._put("usage", key, dict(entry))

    def query_usage_entries(
        self, *, limit: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Usage entries equal to every filter given (``chat_usage_id``, ``run_id``,
        ``user_id``, ``kind``, ...), oldest first, at most ``limit``."""
        unknown = set(filters) - set(_USAGE_FILTERS)
        if unknown:
            raise TypeError(f"query_usage_entries: unknown filters {sorted(unknown)}")
        wanted = {k: v for k, v in filters.items() if v is not None}
        out = [
            row for row in self._rows_of("usage") if all(row.get(k) == v for k, v in wanted.items())
        ]
        return out if limit is None else out[:limit]

    def delete_usage_entries(self, **filters: Any) -> int:
        """Delete the usage entries matching the filters; how many."""
        rows = self.query_usage_entries(**filters)
        for row in rows:
            self._delete("usage", row["entry_id"])
        return len(rows)

    # -- generic models --------------------------------------------------------

    def upsert_model(self, key: str, model: Any, collection: str = "generic_models") -> None:
        """Store a pydantic model (its ``model_dump()``) under ``key``."""
        data = model.model_dump() if hasattr(model, "model_dump") else dict(model)
        self._put(f"models/{collection}", key, data)

    def get_model(self, key: str, model_type: Any, collection: str = "generic_models") -> Any:
        """The model under ``key`` built as ``model_type``, or ``None``."""
        row = self._get(f"models/{collection}", key)
        return None if row is None else model_type(**row)

    def delete_model(self, key: str, collection: str = "generic_models") -> bool:
        """Delete the model under ``key``; ``False`` if there was none."""
        return self._delete(f"models/{collection}", key)

    def list_models(self, model_type: Any, collection: str = "generic_models") -> list[Any]:
        """Every model of the collection, built as ``model_type``."""
        return [model_type(**row) for row in self._rows_of(f"models/{collection}")]
