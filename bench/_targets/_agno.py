"""Agno's db API as replay targets (mapping: ``bench._targets._peer_targets``): ``agno``
(its ``InMemoryDb``), ``agno-shardmem`` (``engine.integrations.agno.ShardmemDb``, embedded)
and ``agno-shardmem-redis`` (the same class on ``$SHARDMEM_REDIS_URL``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from bench._targets._peers import PeerUnavailable, checkpoint, peer, quiet, require
from bench._targets._protocol import TargetCounts

__all__ = ["AgnoShardmemRedisTarget", "AgnoShardmemTarget", "AgnoTarget"]


class AgnoTarget:
    """Agno's ``agno.db.in_memory.InMemoryDb`` (see the module docstring for the mapping)."""

    def __init__(self) -> None:
        try:
            with quiet():
                SessionType = peer("agno.db.base", "SessionType")
                InMemoryDb = peer("agno.db.in_memory", "InMemoryDb")
                UserMemory = peer("agno.db.schemas.memory", "UserMemory")
                Message = peer("agno.models.message", "Message")
                RunOutput = peer("agno.run.agent", "RunOutput")
                RunStatus = peer("agno.run.base", "RunStatus")
                AgentSession = peer("agno.session", "AgentSession")
                SessionSummary = peer("agno.session.summary", "SessionSummary")
        except ImportError as exc:
            raise PeerUnavailable(f"agno: cannot import its in-memory API ({exc})") from None
        self.version = require("agno")
        self.db = self.open_db(InMemoryDb)
        self._agent = SessionType.AGENT
        self._session = AgentSession
        self._summary = SessionSummary
        self._memory = UserMemory
        self._message = Message
        self._run = RunOutput
        self._completed = RunStatus.completed
        self._agent_ids: dict[str, str] = {}

    name = "agno"

    def open_db(self, reference: Any) -> Any:
        return reference()

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        self._agent_ids[session_id] = agent_id  # the agent knows its id; runs carry it
        self.db.upsert_session(
            self._session(
                session_id=session_id,
                user_id=user_id,
                agent_id=agent_id,
                session_data={"session_name": name} if name else None,
                metadata=dict(metadata),
            )
        )
        await checkpoint()

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        session = self.db.get_session(
            session_id, self._agent, user_id=user_id, runs_limit=last_n_runs
        )
        await checkpoint()
        if session is None:
            return 0
        return sum(len(run.messages or ()) for run in session.runs or ())

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        found = self.db.get_user_memories(
            user_id=user_id, sort_by="updated_at", sort_order="desc", limit=limit
        )
        await checkpoint()
        return len(found)

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        run = self._run(
            run_id=run_id,
            agent_id=self._agent_ids.get(session_id),
            session_id=session_id,
            user_id=user_id,
            status=self._completed,
            messages=[self._message(role=r, content=c, name=n) for r, c, n in messages],
        )
        self.db.upsert_run(run, session_id, user_id=user_id)
        await checkpoint()

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        await checkpoint()  # Agno has no working memory with a TTL

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        self.db.upsert_user_memory(
            self._memory(
                memory=memory,
                memory_id=memory_id,
                topics=list(topics),
                user_id=user_id,
                agent_id=agent_id,
            )
        )
        await checkpoint()

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        session = self.db.get_session(session_id, self._agent, user_id=user_id)
        if session is not None:
            session.summary = self._summary(summary=summary, topics=list(topics))
            self.db.upsert_session(session)
        await checkpoint()

    def counts(self) -> TargetCounts:
        rows, sessions = self.db.get_sessions(deserialize=False)
        runs = sum(len(row.get("runs") or ()) for row in rows)
        _, memories = self.db.get_user_memories(deserialize=False)
        return TargetCounts(
            sessions=sessions,
            runs=runs,
            memories=memories,
            working=0,
            records=sessions + memories,
            expired=0,
        )

    def details(self) -> dict[str, object]:
        return {"package": "agno", "version": self.version, "api": "agno.db.in_memory.InMemoryDb"}


class AgnoShardmemTarget(AgnoTarget):
    """The same Agno calls on ``engine.integrations.agno.ShardmemDb`` (its own embedded
    engine), each a blocking call into the engine thread, as a synchronous Agno program
    makes it."""

    name = "agno-shardmem"

    def open_db(self, reference: Any) -> Any:
        from engine.integrations.agno import ShardmemDb

        return ShardmemDb()

    def details(self) -> dict[str, object]:
        return {**super().details(), "api": "engine.integrations.agno.ShardmemDb"}

    def close(self) -> None:
        self.db.close()


class AgnoShardmemRedisTarget(AgnoShardmemTarget):
    """``ShardmemDb(redis_url=...)`` on ``redis_url`` (default: ``$SHARDMEM_REDIS_URL``,
    else ``redis://127.0.0.1:6379``), under a fresh key prefix per run."""

    name = "agno-shardmem-redis"

    def __init__(self, redis_url: str | None = None) -> None:
        from bench._targets._redis import default_redis_url

        self.redis_url = redis_url or default_redis_url("redis")
        super().__init__()

    def open_db(self, reference: Any) -> Any:
        from engine.integrations.agno import ShardmemDb

        url = self.redis_url
        try:
            return ShardmemDb(redis_url=url, prefix=f"bench-agno-{uuid.uuid4().hex[:8]}")
        except (OSError, ConnectionError) as exc:
            raise PeerUnavailable(f"agno-shardmem-redis: no Redis at {url} ({exc})") from None

    def details(self) -> dict[str, object]:
        return {**super().details(), "redis_url": self.redis_url}
