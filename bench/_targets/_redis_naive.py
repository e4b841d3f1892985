"""``redis-naive``: the replay's records on Redis the way the peers' Redis backends keep them.

The baseline the engine's Redis backend is measured against (issue #5: pipelined/Lua
paths >= 5x this). Same server, same records, same logical operations and results, but
written as a competent user of a key-per-record design would: plain coredis, one command
per awaited step, no Lua, no pipelines, no MULTI:

======================  ===================================================================
operation               commands (each awaited in turn)
======================  ===================================================================
create_session          ``SET P:s:<sid>`` (the session as JSON), ``ZADD P:us:<uid>``
read_history            ``GET P:s:<sid>``; slice the last runs client-side
search_memories         ``SMEMBERS P:um:<uid>``, ``MGET`` the memories; rank them
                        client-side (BM25 by a throw-away ``engine.ShardStore``, so
                        results match the engine's)
append_run              ``GET P:s:<sid>``, append (or replace) the run, ``SET`` it back,
                        ``ZADD P:us:<uid>`` (updated_at)
store_working           ``SET P:w:<sid> PX <ttl>``
upsert_memory           ``SET P:m:<uid>:<mid>``, ``SADD P:um:<uid>``
set_summary             ``GET``, modify, ``SET``, ``ZADD`` (as append_run)
======================  ===================================================================

A read-modify-write of a session is not atomic (two writers can lose an update); the
replay has one agent per session, so results are still exact. The peers list a user's
data with ``SCAN`` + ``GET``; this store keeps a per-user set or sorted set instead, which
is faster, so the baseline is not tuned to lose. Every key starts with a unique prefix
``P`` (``bench-naive-<hex>``), removed when the store closes.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import trio

from bench._targets._engine_run import run_of
from bench._targets._peers import PeerUnavailable
from bench._targets._protocol import TargetCounts
from engine import EngineConfig, NotFound, ShardStore, UserMemory

__all__ = ["NaiveRedisStore", "NaiveRedisTarget", "open_naive_redis_target"]

_CONNECT_TIMEOUT = 2.0  # seconds to reach the server before the target is skipped
_SCORING = EngineConfig(shards=1)


class NaiveRedisStore:
    """Sessions, runs, memories and working memory as one JSON string per record.

    Args:
        client: an entered ``coredis.Redis`` with ``decode_responses=True``.
        prefix: the key prefix of this store's keys.
    """

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.commands = 0  # commands sent (one round trip each)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def _session(self, session_id: str, user_id: str) -> dict[str, Any]:
        self.commands += 1
        blob = await self.client.get(self._key("s", session_id))
        if blob is None:
            raise NotFound(f"no session {session_id!r} for user {user_id!r}")
        session: dict[str, Any] = json.loads(blob)
        if session["user_id"] != user_id:
            raise NotFound(f"no session {session_id!r} for user {user_id!r}")
        return session

    async def _save(self, session: dict[str, Any]) -> None:
        now = time.time()
        session["updated_at"] = now
        self.commands += 2
        await self.client.set(self._key("s", session["session_id"]), json.dumps(session))
        await self.client.zadd(self._key("us", session["user_id"]), {session["session_id"]: now})

    async def create_session(
        self, session_id: str, user_id: str, agent_id: str, name: str | None, metadata: Any
    ) -> None:
        """Create (replace) an empty session. Two commands."""
        now = time.time()
        session: dict[str, Any] = {
            "session_id": session_id,
            "user_id": user_id,
            "agent_id": agent_id,
            "name": name,
            "metadata": dict(metadata),
            "runs": [],
            "summary": None,
            "created_at": now,
        }
        await self._save(session)

    async def messages(self, session_id: str, user_id: str, last_n_runs: int) -> list[str]:
        """The contents of the messages of the session's last ``last_n_runs`` runs.

        Raises:
            engine.NotFound: if the session is missing or owned by another user.
        """
        session = await self._session(session_id, user_id)
        runs = session["runs"][-last_n_runs:] if last_n_runs else []
        return [message["content"] for run in runs for message in run["messages"]]

    async def append_run(
        self,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> bool:
        """Append the run (replace one with the same ``run_id``); ``True`` if new.
        GET, SET, ZADD."""
        session = await self._session(session_id, user_id)
        run = run_of(run_id, messages).to_dict()
        run["created_at"] = time.time()
        runs: list[dict[str, Any]] = session["runs"]
        for index, old in enumerate(runs):
            if old["run_id"] == run_id:
                runs[index] = run
                await self._save(session)
                return False
        runs.append(run)
        await self._save(session)
        return True

    async def set_summary(
        self, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        """Set the session's summary. GET, SET, ZADD."""
        session = await self._session(session_id, user_id)
        session["summary"] = {"summary": summary, "topics": list(topics)}
        await self._save(session)

    async def store_working(self, session_id: str, data: str, ttl: float) -> None:
        """Replace the session's working memory, expiring after ``ttl`` s. One SET."""
        self.commands += 1
        await self.client.set(
            self._key("w", session_id), json.dumps({"data": data}), px=max(1, int(ttl * 1000))
        )

    async def working(self, session_id: str) -> str | None:
        """The session's working memory, or ``None`` (expired or never stored)."""
        self.commands += 1
        blob = await self.client.get(self._key("w", session_id))
        return None if blob is None else str(json.loads(blob)["data"])

    async def upsert_memory(
        self, memory_id: str, user_id: str, memory: str, topics: tuple[str, ...], agent_id: str
    ) -> None:
        """Create or replace a memory. SET, SADD."""
        record = {
            "memory_id": memory_id,
            "user_id": user_id,
            "memory": memory,
            "topics": list(topics),
            "agent_id": agent_id,
            "updated_at": time.time(),
        }
        self.commands += 2
        await self.client.set(self._key("m", user_id, memory_id), json.dumps(record))
        await self.client.sadd(self._key("um", user_id), [memory_id])

    async def search(self, user_id: str, query: str, limit: int) -> list[str]:
        """The ids of ``user_id``'s best ``limit`` memories for ``query``, best first,
        ranked like the engine (BM25 over text and topics). SMEMBERS, MGET."""
        self.commands += 1
        ids = sorted(await self.client.smembers(self._key("um", user_id)))
        if not ids:
            return []
        self.commands += 1
        blobs = await self.client.mget([self._key("m", user_id, mid) for mid in ids])
        # score client-side with the engine's own ranking code (a throw-away store)
        scorer = ShardStore(_SCORING)
        now = time.time()
        for blob in blobs:
            if blob is not None:
                record = json.loads(blob)
                memory = UserMemory(
                    memory_id=record["memory_id"], user_id=user_id, memory=record["memory"],
                    topics=tuple(record["topics"]), agent_id=record["agent_id"],
                )  # fmt: skip
                scorer.upsert_memory(now, memory, None)
        found = scorer.search_memories(now, user_id, query, "keyword", limit)
        return [str(memory.memory_id) for memory in found]

    async def count(self, kind: str) -> int:
        """Keys of ``kind`` (``"s"``, ``"m"``, ``"w"``), by SCAN (for reports only)."""
        total = 0
        async for _ in self.client.scan_iter(match=self._key(kind, "*"), count=1000):
            total += 1
        return total

    async def drop(self) -> int:
        """Delete every key of this store (SCAN + UNLINK in batches); return how many."""
        removed = 0
        batch: list[str] = []
        async for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 500:
                removed += await self.client.unlink(batch)
                batch = []
        if batch:
            removed += await self.client.unlink(batch)
        return removed


class NaiveRedisTarget:
    """:class:`bench.Target` over :class:`NaiveRedisStore` (named ``"redis-naive"``)."""

    def __init__(self, store: NaiveRedisStore, location: str) -> None:
        self.store = store
        self.location = location
        self.runs = 0
        self._counts = TargetCounts(sessions=0, runs=0, memories=0, working=0, records=0, expired=0)

    @property
    def name(self) -> str:
        """``"redis-naive"``."""
        return "redis-naive"

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        """SET the session's JSON, ZADD the user's index."""
        await self.store.create_session(session_id, user_id, agent_id, name, metadata)

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        """GET the session; returns the number of messages of its last runs."""
        return len(await self.store.messages(session_id, user_id, last_n_runs))

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        """SMEMBERS + MGET the user's memories, rank client-side; returns the count."""
        return len(await self.store.search(user_id, query, limit))

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        """GET, modify, SET the session; ZADD the index."""
        if await self.store.append_run(session_id, user_id, run_id, messages):
            self.runs += 1

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        """SET with PX."""
        await self.store.store_working(session_id, data, ttl)

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        """SET the memory, SADD the user's set."""
        await self.store.upsert_memory(memory_id, user_id, memory, topics, agent_id)

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        """GET, modify, SET the session; ZADD the index."""
        await self.store.set_summary(session_id, user_id, summary, topics)

    async def refresh_counts(self) -> None:
        """Count the live keys by SCAN (outside the timed replay)."""
        sessions, memories, working = [await self.store.count(kind) for kind in "smw"]
        self._counts = TargetCounts(
            sessions=sessions,
            runs=self.runs,
            memories=memories,
            working=working,
            records=sessions + memories + working,
            expired=0,  # the server expires keys itself; it does not say how many
        )

    def counts(self) -> TargetCounts:
        """The counts of the last :meth:`refresh_counts`."""
        return self._counts

    def details(self) -> dict[str, object]:
        """The server and the number of commands sent (one round trip each)."""
        return {"location": self.location, "commands": self.store.commands}


@asynccontextmanager
async def open_naive_redis_target(url: str) -> AsyncIterator[NaiveRedisTarget]:
    """Open a :class:`NaiveRedisTarget` on the server at ``url`` (standalone only), with
    a fresh key prefix whose keys are deleted on exit.

    Raises:
        PeerUnavailable: if coredis is missing or no server answers within 2 s (one
            line, fit for a "skipped: ..." row).
    """
    try:
        import coredis
    except ImportError:
        raise PeerUnavailable("redis-naive: coredis not installed (pip install "
                              "'shardmem[redis]')") from None  # fmt: skip
    client = coredis.Redis.from_url(url, decode_responses=True, connect_timeout=_CONNECT_TIMEOUT)
    try:
        async with client:
            reason = await _ping(client, coredis.exceptions.RedisError)
            if reason:
                raise PeerUnavailable(f"redis-naive: no Redis server at {url} ({reason})")
            store = NaiveRedisStore(client, f"bench-naive-{uuid.uuid4().hex[:12]}")
            try:
                yield NaiveRedisTarget(store, url)
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(30):
                    await store.drop()
    except BaseExceptionGroup as group:
        # coredis' client runs a task group: errors come out wrapped; raise them as
        # themselves (as open_redis_memory does)
        if len(group.exceptions) != 1 or isinstance(group.exceptions[0], BaseExceptionGroup):
            raise
        leaf = group.exceptions[0]
        raise leaf from leaf.__cause__


async def _ping(client: Any, redis_error: type[Exception]) -> str:
    """``""`` if the server answers PING within the connect timeout, else why not."""
    with trio.move_on_after(_CONNECT_TIMEOUT):
        try:
            await client.ping()
        except (OSError, redis_error) as error:
            return f"{type(error).__name__}: {error}"
        return ""
    return f"no reply within {_CONNECT_TIMEOUT:g} s"
