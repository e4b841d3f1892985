"""Upsonic's ``InMemoryStorage`` as a replay target (mapping: ``bench._targets._peer_targets``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench._targets._peers import PeerUnavailable, checkpoint, peer, peer_version, quiet, require
from bench._targets._protocol import TargetCounts

__all__ = ["UpsonicShardmemTarget", "UpsonicTarget"]


class UpsonicTarget:
    """Upsonic's ``upsonic.storage.in_memory.InMemoryStorage`` (lists scanned per call).

    Sessions hold their history as ``messages`` (pydantic-ai style ``ModelRequest`` /
    ``ModelResponse``); there is no run-level upsert, so ``append_run`` reads the session,
    appends the turn's messages and upserts it, as Upsonic's agent does after a run. A
    user memory is one profile dict per user and agent: ``upsert_memory`` merges the
    memory into it, ``search_memories`` reads it.
    """

    name = "upsonic"

    def __init__(self) -> None:
        try:
            with quiet():
                ModelRequest = peer("upsonic.messages", "ModelRequest")
                ModelResponse = peer("upsonic.messages", "ModelResponse")
                TextPart = peer("upsonic.messages", "TextPart")
                UserPromptPart = peer("upsonic.messages", "UserPromptPart")
                AgentSession = peer("upsonic.session.agent", "AgentSession")
                InMemoryStorage = peer("upsonic.storage.in_memory", "InMemoryStorage")
                UserMemory = peer("upsonic.storage.schemas", "UserMemory")
        except ImportError:
            version = peer_version("upsonic")
            reason = "not installed" if version is None else f"{version} lacks InMemoryStorage"
            raise PeerUnavailable(
                f"{self.name}: upsonic {reason}; needs its own environment (openai>=2.2)"
            ) from None
        self.version = require("upsonic")
        self.storage = self._storage(InMemoryStorage)
        self._session = AgentSession
        self._memory = UserMemory
        self._request = ModelRequest
        self._response = ModelResponse
        self._text = TextPart
        self._prompt = UserPromptPart
        self._turns: dict[str, int] = {}
        self._profiles: dict[tuple[str, str], dict[str, str]] = {}

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        self.storage.upsert_session(
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
        session: Any = self.storage.get_session(session_id=session_id, user_id=user_id)
        await checkpoint()
        if session is None:
            return 0
        # One run = the messages of one turn; keep the last runs' messages.
        sizes = (session.metadata or {}).get("turn_sizes", [])
        return sum(sizes[-last_n_runs:])

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        found = self.storage.get_user_memory(user_id=user_id)
        await checkpoint()
        return 0 if found is None else 1

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        session: Any = self.storage.get_session(session_id=session_id, user_id=user_id)
        if session is not None:
            new = [
                self._request(parts=[self._prompt(content=content)])
                if role == "user"
                else self._response(parts=[self._text(content=content)])
                for role, content, _ in messages
            ]
            session.messages = [*(session.messages or []), *new]
            metadata = dict(session.metadata or {})
            metadata["turn_sizes"] = [*metadata.get("turn_sizes", []), len(new)]
            session.metadata = metadata
            self.storage.upsert_session(session)
        await checkpoint()

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        await checkpoint()  # Upsonic has no working memory with a TTL

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        profile = self._profiles.setdefault((user_id, agent_id), {})
        profile[memory_id] = memory
        self.storage.upsert_user_memory(
            self._memory(user_memory=dict(profile), user_id=user_id, agent_id=agent_id)
        )
        await checkpoint()

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        session: Any = self.storage.get_session(session_id=session_id, user_id=user_id)
        if session is not None:
            session.summary = summary
            self.storage.upsert_session(session)
        await checkpoint()

    def counts(self) -> TargetCounts:
        rows, sessions = self.storage.get_sessions(deserialize=False)
        runs = sum(len((row.get("metadata") or {}).get("turn_sizes", ())) for row in rows)
        memories = self.storage.get_user_memory_count()
        return TargetCounts(
            sessions=sessions,
            runs=runs,
            memories=memories,
            working=0,
            records=sessions + memories,
            expired=0,
        )

    @staticmethod
    def _storage(reference: Any) -> Any:
        return reference()

    def details(self) -> dict[str, object]:
        return {
            "package": "upsonic",
            "version": self.version,
            "api": "upsonic.storage.in_memory.InMemoryStorage",
        }


class UpsonicShardmemTarget(UpsonicTarget):
    """The same Upsonic calls on ``engine.integrations.upsonic.ShardmemStorage``:
    Upsonic's ``Storage`` API, each call a blocking call into the engine thread (what
    Upsonic's agents do from inside their loop)."""

    name = "upsonic-shardmem"

    @staticmethod
    def _storage(reference: Any) -> Any:
        from engine.integrations.upsonic import ShardmemStorage

        return ShardmemStorage()

    def details(self) -> dict[str, object]:
        return {**super().details(), "api": "engine.integrations.upsonic.ShardmemStorage"}

    def close(self) -> None:
        engine = self.storage.engine
        if not engine.closed:
            engine.close()
