"""Arshai's ``InMemoryManager`` as a replay target (mapping: ``bench._targets._peer_targets``)."""

from __future__ import annotations

from typing import Any

from bench._targets._peers import PeerUnavailable, checkpoint, peer, quiet, require
from bench._targets._protocol import TargetCounts

__all__ = ["ArshaiShardmemTarget", "ArshaiTarget"]


class ArshaiTarget:
    """Arshai's ``InMemoryManager``: working memory only, one manager-wide TTL.

    ``store_working`` is ``store``; ``read_history`` is ``retrieve`` of the same
    conversation's working memory (Arshai's agents read it before each turn); both sweep
    every entry for expiry (O(n) per call). The manager's TTL is the replay's
    working-memory TTL (it has no per-call TTL). The other operations are no-ops.
    """

    name = "arshai"

    def __init__(self, working_ttl: float) -> None:
        try:
            with quiet():
                ConversationMemoryType = peer(
                    "arshai.core.interfaces.imemorymanager", "ConversationMemoryType"
                )
                IMemoryInput = peer("arshai.core.interfaces.imemorymanager", "IMemoryInput")
                IWorkingMemory = peer("arshai.core.interfaces.imemorymanager", "IWorkingMemory")
                InMemoryManager = peer(
                    "arshai.memory.working_memory.in_memory_manager", "InMemoryManager"
                )
        except ImportError as exc:
            raise PeerUnavailable(f"{self.name}: cannot import arshai ({exc})") from None
        self.version = require("arshai")
        self.manager = self._manager(InMemoryManager, working_ttl)
        self._input = IMemoryInput
        self._working = IWorkingMemory
        self._type = ConversationMemoryType.WORKING_MEMORY

    @staticmethod
    def _manager(reference: Any, working_ttl: float) -> Any:
        return reference(ttl=working_ttl)

    async def create_session(self, **_: Any) -> None:
        await checkpoint()

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        found = self.manager.retrieve(
            self._input(conversation_id=session_id, memory_type=self._type)
        )
        await checkpoint()
        return len(found)

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        await checkpoint()
        return 0

    async def append_run(self, **_: Any) -> None:
        await checkpoint()

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        self.manager.store(
            self._input(
                conversation_id=session_id,
                memory_type=self._type,
                data=[self._working(working_memory=data)],
            )
        )
        await checkpoint()

    async def upsert_memory(self, **_: Any) -> None:
        await checkpoint()

    async def set_summary(self, **_: Any) -> None:
        await checkpoint()

    def counts(self) -> TargetCounts:
        working = len(self.manager.storage)
        return TargetCounts(
            sessions=0, runs=0, memories=0, working=working, records=working, expired=0
        )

    def details(self) -> dict[str, object]:
        return {
            "package": "arshai",
            "version": self.version,
            "api": "arshai.memory.working_memory.in_memory_manager.InMemoryManager",
            "ttl_seconds": self.manager.ttl,
        }


class ArshaiShardmemTarget(ArshaiTarget):
    """The same Arshai calls on ``engine.integrations.arshai.ShardmemMemoryManager``:
    Arshai's ``IMemoryManager`` API, each call a blocking call into the engine thread
    (what a synchronous Arshai program does), expiry by the engine's index."""

    name = "arshai-shardmem"

    @staticmethod
    def _manager(reference: Any, working_ttl: float) -> Any:
        from engine.integrations.arshai import ShardmemMemoryManager

        return ShardmemMemoryManager(ttl=working_ttl)

    def counts(self) -> TargetCounts:
        statistics = self.manager.engine.statistics()
        return TargetCounts(
            sessions=0,
            runs=0,
            memories=0,
            working=statistics.working,
            records=statistics.records,
            expired=statistics.expired,
        )

    def details(self) -> dict[str, object]:
        return {
            **super().details(),
            "api": "engine.integrations.arshai.ShardmemMemoryManager",
        }

    def close(self) -> None:
        self.manager.close()
