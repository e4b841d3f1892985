"""The cost-growth operations of ``bench micro`` on the engine and on each peer.

A :class:`GrowthAdapter` loads the synthetic records (:class:`bench._micro._model.Layout`) through
its store's natural API and times one operation at a time. Operations a store does not
have raise :class:`Unsupported` (reported as ``n/a``). Peers are imported when their adapter
opens (:class:`bench._targets._peer_targets.PeerUnavailable` if missing).

Operations (``GROWTH_OPS``) and what each store runs:

============================  =============================  ==========================
op                            engine                         peers
============================  =============================  ==========================
get                           ``sessions.get``               Agno/Upsonic ``get_session``,
                                                             LangGraph ``get``, Arshai
                                                             ``retrieve``
upsert                        ``sessions.upsert``            ``upsert_session`` / ``put``
                                                             / Arshai ``store``
list_user_sessions            ``sessions.list(user_id=)``    ``get_sessions(user_id=)``,
                                                             LangGraph ``search(ns)``
recent                        ``sessions.list(limit=10)``    ``get_sessions(limit=10,
                                                             sort_by="updated_at")``
search_memories               ``memories.search`` (keyword)  Agno ``get_user_memories``,
                                                             Upsonic ``get_user_memory``,
                                                             LangGraph ``search``
expiry                        1,000 due working records      Arshai: the sweep in one
                              swept, per record              ``retrieve``, per record
============================  =============================  ==========================
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import trio

from bench._micro._model import GrowthAdapter, Layout, Unsupported
from bench._targets._arshai import ArshaiTarget
from bench._targets._peers import PeerUnavailable, peer, quiet
from engine import Session, UserMemory, open_memory_engine

__all__ = ["EngineAdapter", "memory_text", "open_growth_adapter", "random_query"]

_EXPIRING = 1_000  # records that expire together in one ``expiry`` sample
_EXPIRY_TTL = 0.2  # seconds: longer than writing the batch takes
_WORDS: Final = tuple(
    f"{a}{b}"
    for a in ("ka", "lo", "mi", "ne", "po", "ru", "sa", "te", "vu", "zo")
    for b in ("bar", "den", "fix", "gul", "hop", "jin", "kur", "lam", "mox", "nev")
)  # 100 pseudo-words


def memory_text(index: int) -> tuple[str, tuple[str, ...]]:
    """The deterministic text and topics of memory ``index`` (8 words, 2 topics)."""
    rnd = random.Random(index)
    words = [rnd.choice(_WORDS) for _ in range(8)]
    return " ".join(words), (words[0], words[1])


def random_query(rnd: random.Random) -> str:
    """Two random words of the memories' vocabulary: a search query."""
    return f"{rnd.choice(_WORDS)} {rnd.choice(_WORDS)}"


def _ids(layout: Layout, index: int) -> tuple[int, str]:
    k = index // 2
    return k, f"u{k % layout.users}"


def _timed_sync(call: Any, *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    call(*args, **kwargs)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- engine


class EngineAdapter:
    def __init__(self, mem: Any) -> None:
        self.mem = mem
        self._expiring = 0

    async def load(self, layout: Layout, index: int) -> int:
        k, user = _ids(layout, index)
        if index % 2 == 0:
            name = f"session {k}"
            await self.mem.sessions.upsert(
                Session(session_id=f"s{k}", user_id=user, agent_id="micro", name=name), ttl=None
            )
            return len(f"s{k}") + len(user) + len("micro") + len(name)
        text, topics = memory_text(k)
        await self.mem.memories.upsert(
            UserMemory(memory_id=f"m{k}", user_id=user, memory=text, topics=topics), ttl=None
        )
        return len(f"m{k}") + len(user) + len(text) + sum(map(len, topics))

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        k = rnd.randrange(layout.sessions)
        user = f"u{k % layout.users}"
        sessions = self.mem.sessions
        start = time.perf_counter()
        if op == "get":
            await sessions.get(f"s{k}")
        elif op == "upsert":
            session = Session(session_id=f"s{k}", user_id=user, agent_id="micro", name=f"v{n}")
            start = time.perf_counter()
            await sessions.upsert(session, ttl=None)
        elif op == "list_user_sessions":
            await sessions.list(user_id=user)
        elif op == "recent":
            await sessions.list(limit=10)
        elif op == "search_memories":
            await self.mem.memories.search(user, query=random_query(rnd), limit=5)
        elif op == "expiry":
            return [await self._expiry(n)]
        else:
            raise Unsupported(op)
        return [time.perf_counter() - start]

    async def _expiry(self, n: int) -> float:
        # Write the batch (its TTL is longer than writing takes), then block the loop
        # until every deadline has passed, so that the whole batch is due at once, and
        # time how long the engine takes to remove it.
        working = self.mem.working
        expired = self.mem.statistics().expired
        for i in range(_EXPIRING):
            await working.store(f"x{n}:{i}", "due", ttl=_EXPIRY_TTL)
        time.sleep(_EXPIRY_TTL + 0.01)
        start = time.perf_counter()
        with trio.fail_after(60):
            while self.mem.statistics().expired < expired + _EXPIRING:
                await trio.sleep(0)
        return (time.perf_counter() - start) / _EXPIRING


# ----------------------------------------------------------------------------- Agno


class _AgnoAdapter:
    def __init__(self) -> None:
        try:
            with quiet():
                SessionType = peer("agno.db.base", "SessionType")
                InMemoryDb = peer("agno.db.in_memory", "InMemoryDb")
                AgnoMemory = peer("agno.db.schemas.memory", "UserMemory")
                AgentSession = peer("agno.session", "AgentSession")
        except ImportError as exc:
            raise PeerUnavailable(f"agno: cannot import InMemoryDb ({exc})") from None
        self.db = InMemoryDb()
        self._agent = SessionType.AGENT
        self._session = AgentSession
        self._memory = AgnoMemory

    async def load(self, layout: Layout, index: int) -> int:
        k, user = _ids(layout, index)
        if index % 2 == 0:
            self.db.upsert_session(
                self._session(
                    session_id=f"s{k}",
                    user_id=user,
                    agent_id="micro",
                    session_data={"session_name": f"session {k}"},
                )
            )
        else:
            text, topics = memory_text(k)
            self.db.upsert_user_memory(
                self._memory(memory=text, memory_id=f"m{k}", topics=list(topics), user_id=user)
            )
        return 0

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        k = rnd.randrange(layout.sessions)
        user = f"u{k % layout.users}"
        db = self.db
        if op == "get":
            return [_timed_sync(db.get_session, f"s{k}", self._agent)]
        if op == "upsert":
            session = self._session(
                session_id=f"s{k}", user_id=user, agent_id="micro", session_data={"v": n}
            )
            return [_timed_sync(db.upsert_session, session)]
        if op == "list_user_sessions":
            return [_timed_sync(db.get_sessions, self._agent, user_id=user)]
        if op == "recent":
            return [
                _timed_sync(
                    db.get_sessions, self._agent, limit=10, sort_by="updated_at", sort_order="desc"
                )
            ]
        if op == "search_memories":
            return [
                _timed_sync(
                    db.get_user_memories,
                    user_id=user,
                    sort_by="updated_at",
                    sort_order="desc",
                    limit=5,
                )
            ]
        raise Unsupported("no TTL")


# -------------------------------------------------------------------------- Upsonic


class _UpsonicAdapter:
    def __init__(self) -> None:
        try:
            with quiet():
                AgentSession = peer("upsonic.session.agent", "AgentSession")
                InMemoryStorage = peer("upsonic.storage.in_memory", "InMemoryStorage")
                UpsonicMemory = peer("upsonic.storage.schemas", "UserMemory")
        except ImportError as exc:
            raise PeerUnavailable(
                f"upsonic: InMemoryStorage not importable ({exc.name or exc}); needs "
                "upsonic>=0.70 in its own environment"
            ) from None
        self.storage = InMemoryStorage()
        self._session = AgentSession
        self._memory = UpsonicMemory

    async def load(self, layout: Layout, index: int) -> int:
        k, user = _ids(layout, index)
        if index % 2 == 0:
            self.storage.upsert_session(
                self._session(session_id=f"s{k}", user_id=user, agent_id="micro")
            )
        else:
            # One profile per user and agent: the user's memories are keys of it.
            text, _ = memory_text(k)
            self.storage.upsert_user_memory(
                self._memory(user_memory={f"m{k}": text}, user_id=user, agent_id=f"a{k}")
            )
        return 0

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        k = rnd.randrange(layout.sessions)
        user = f"u{k % layout.users}"
        storage = self.storage
        if op == "get":
            return [_timed_sync(storage.get_session, session_id=f"s{k}")]
        if op == "upsert":
            session = self._session(
                session_id=f"s{k}", user_id=user, agent_id="micro", metadata={"v": n}
            )
            return [_timed_sync(storage.upsert_session, session)]
        if op == "list_user_sessions":
            return [_timed_sync(storage.get_sessions, user_id=user)]
        if op == "recent":
            return [
                _timed_sync(storage.get_sessions, limit=10, sort_by="updated_at", sort_order="desc")
            ]
        if op == "search_memories":
            return [_timed_sync(storage.get_user_memories, user_ids=[user], limit=5)]
        raise Unsupported("no TTL")


# ------------------------------------------------------------------------ LangGraph


class _LangGraphAdapter:
    def __init__(self) -> None:
        try:
            with quiet():
                InMemoryStore = peer("langgraph.store.memory", "InMemoryStore")
        except ImportError as exc:
            raise PeerUnavailable(f"langgraph: cannot import InMemoryStore ({exc})") from None
        self.store = InMemoryStore()

    async def load(self, layout: Layout, index: int) -> int:
        k, user = _ids(layout, index)
        if index % 2 == 0:
            self.store.put(("sessions", user), f"s{k}", {"agent_id": "micro", "runs": []})
        else:
            text, topics = memory_text(k)
            self.store.put(("memories", user), f"m{k}", {"memory": text, "topics": list(topics)})
        return 0

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        k = rnd.randrange(layout.sessions)
        user = f"u{k % layout.users}"
        store = self.store
        if op == "get":
            return [_timed_sync(store.get, ("sessions", user), f"s{k}")]
        if op == "upsert":
            value = {"agent_id": "micro", "runs": [], "v": n}
            return [_timed_sync(store.put, ("sessions", user), f"s{k}", value)]
        if op == "list_user_sessions":
            return [_timed_sync(store.search, ("sessions", user), limit=1_000)]
        if op == "recent":
            raise Unsupported("search returns insertion order; no sort by time")
        if op == "search_memories":
            return [_timed_sync(store.search, ("memories", user), query=random_query(rnd), limit=5)]
        raise Unsupported("InMemoryStore has no TTL")


# --------------------------------------------------------------------------- Arshai


class _ArshaiAdapter:
    """Arshai holds only working memory: every record is a working-memory entry."""

    def __init__(self) -> None:
        target = ArshaiTarget(working_ttl=3600.0)
        self.manager = target.manager
        self._input = target._input
        self._working = target._working
        self._type = target._type

    def _entry(self, conversation: str, data: str) -> Any:
        return self._input(
            conversation_id=conversation,
            memory_type=self._type,
            data=[self._working(working_memory=data)],
        )

    async def load(self, layout: Layout, index: int) -> int:
        self.manager.store(self._entry(f"c{index}", "working memory"))
        return 0

    async def measure(self, op: str, layout: Layout, rnd: random.Random, n: int) -> list[float]:
        conversation = f"c{rnd.randrange(layout.records)}"
        if op == "get":
            query = self._input(conversation_id=conversation, memory_type=self._type)
            return [_timed_sync(self.manager.retrieve, query)]
        if op == "upsert":
            return [_timed_sync(self.manager.store, self._entry(conversation, f"v{n}"))]
        if op == "expiry":
            return [self._expiry(n)]
        raise Unsupported("working memory only")

    def _expiry(self, n: int) -> float:
        # A batch of entries written long ago (``storage`` is the manager's public dict);
        # the next call's TTL sweep removes them.
        manager = self.manager
        for i in range(_EXPIRING):
            manager.storage[f"due:{n}:{i}"] = {
                "data": {"working_memory": "due"},
                "metadata": {},
                "created_at": "2000-01-01T00:00:00",
                "last_update": "2000-01-01T00:00:00",
            }
        query = self._input(conversation_id="none", memory_type=self._type)
        return _timed_sync(manager.retrieve, query) / _EXPIRING


@asynccontextmanager
async def open_growth_adapter(target: str, *, shards: int = 4) -> AsyncIterator[GrowthAdapter]:
    """Open the store ``target`` (``"engine"`` or a peer name) for the growth experiment.

    Raises:
        PeerUnavailable: if the peer is not installed.
        KeyError: for an unknown target.
    """
    if target == "engine":
        async with open_memory_engine(shards=shards) as mem:
            yield EngineAdapter(mem)
        return
    factories: dict[str, type[Any]] = {
        "agno": _AgnoAdapter,
        "upsonic": _UpsonicAdapter,
        "langgraph": _LangGraphAdapter,
        "arshai": _ArshaiAdapter,
    }
    yield factories[target]()
