"""LangGraph's ``InMemoryStore`` as a replay target (mapping: ``bench._targets._peer_targets``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench._targets._peers import PeerUnavailable, checkpoint, peer, quiet, require
from bench._targets._protocol import TargetCounts

__all__ = ["LangGraphShardmemTarget", "LangGraphTarget"]


class LangGraphTarget:
    """LangGraph's ``langgraph.store.memory.InMemoryStore`` (items in namespaces).

    A session is one item ``("sessions", user_id) / session_id`` whose value holds its
    runs; a user memory an item ``("memories", user_id) / memory_id``; working memory an
    item ``("working",) / session_id`` (``InMemoryStore`` has no TTL: ``ttl`` is not
    applied). ``search`` without an embedding index returns the namespace's items in
    insertion order.
    """

    name = "langgraph"

    def __init__(self) -> None:
        try:
            with quiet():
                InMemoryStore = peer("langgraph.store.memory", "InMemoryStore")
        except ImportError as exc:
            raise PeerUnavailable(f"langgraph: cannot import InMemoryStore ({exc})") from None
        self.version = require("langgraph")
        self.store = self._store(InMemoryStore)

    @staticmethod
    def _store(reference: Any) -> Any:
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
        value: dict[str, Any] = {
            "agent_id": agent_id,
            "name": name,
            "metadata": dict(metadata),
            "runs": [],
        }
        self.store.put(("sessions", user_id), session_id, value)
        await checkpoint()

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        item = self.store.get(("sessions", user_id), session_id)
        await checkpoint()
        if item is None:
            return 0
        return sum(len(run["messages"]) for run in item.value["runs"][-last_n_runs:])

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        found = self.store.search(("memories", user_id), query=query, limit=limit)
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
        namespace = ("sessions", user_id)
        item = self.store.get(namespace, session_id)
        if item is not None:
            run = {
                "run_id": run_id,
                "messages": [{"role": r, "content": c, "name": n} for r, c, n in messages],
            }
            runs = [r for r in item.value["runs"] if r["run_id"] != run_id]
            self.store.put(namespace, session_id, {**item.value, "runs": [*runs, run]})
        await checkpoint()

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        self.store.put(("working",), session_id, {"data": data})
        await checkpoint()

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        value = {"memory": memory, "topics": list(topics), "agent_id": agent_id}
        self.store.put(("memories", user_id), memory_id, value)
        await checkpoint()

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        namespace = ("sessions", user_id)
        item = self.store.get(namespace, session_id)
        if item is not None:
            value = {**item.value, "summary": {"summary": summary, "topics": list(topics)}}
            self.store.put(namespace, session_id, value)
        await checkpoint()

    def counts(self) -> TargetCounts:
        sessions = runs = memories = working = 0
        for namespace in self.store.list_namespaces(limit=10_000_000):
            items = self.store.search(namespace, limit=10_000_000)
            if namespace[0] == "sessions":
                sessions += len(items)
                runs += sum(len(item.value["runs"]) for item in items)
            elif namespace[0] == "memories":
                memories += len(items)
            elif namespace[0] == "working":
                working += len(items)
        return TargetCounts(
            sessions=sessions,
            runs=runs,
            memories=memories,
            working=working,
            records=sessions + memories + working,
            expired=0,
        )

    def details(self) -> dict[str, object]:
        return {
            "package": "langgraph",
            "version": self.version,
            "api": "langgraph.store.memory.InMemoryStore",
        }


class LangGraphShardmemTarget(LangGraphTarget):
    """The same LangGraph store calls on ``engine.integrations.langgraph.ShardmemStore``:
    ``BaseStore``'s API, each call a blocking call into the engine thread (what a
    synchronous LangGraph node does); working memory gets its TTL (in minutes), expired
    by the engine's index; search returns the newest first."""

    name = "langgraph-shardmem"

    @staticmethod
    def _store(reference: Any) -> Any:
        from engine.integrations.langgraph import ShardmemStore

        return ShardmemStore()

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        self.store.put(("working",), session_id, {"data": data}, ttl=ttl / 60.0)
        await checkpoint()

    def details(self) -> dict[str, object]:
        return {**super().details(), "api": "engine.integrations.langgraph.ShardmemStore"}

    def close(self) -> None:
        self.store.close()
