"""The peers as benchmark targets: Agno, Arshai, Upsonic and LangGraph in-memory stores.

Each peer runs through its real, installed package, used through its natural public API,
called inline in the agent's task (they are synchronous), followed by one
``trio.lowlevel.checkpoint()`` so that every operation yields once, as the
:class:`bench.Target` protocol asks. Peers are imported only when their target opens: a
peer that is not installed raises :class:`PeerUnavailable` with a one-line reason, and the
runner skips it. Install them with ``pip install 'shardmem[peers]'`` (Upsonic needs its own
environment: see ``docs/benchmarks.md``).

How the replay's per-turn operations map onto each peer's API (``-``: the peer has no
such operation; the target only checkpoints and the report lists the operations it ran):

- Agno ``InMemoryDb``: create_session ``upsert_session``; read_history
  ``get_session(runs_limit=n)``; search_memories ``get_user_memories`` (newest first,
  Agno's "last_n" retrieval); append_run ``upsert_run``; store_working -; upsert_memory
  ``upsert_user_memory``; set_summary ``get_session`` + ``upsert_session``.
- Upsonic ``InMemoryStorage``: create_session ``upsert_session``; read_history
  ``get_session``; search_memories ``get_user_memory`` (the user's profile); append_run
  and set_summary ``get_session`` + ``upsert_session``; store_working -; upsert_memory
  ``upsert_user_memory``.
- Arshai ``InMemoryManager``: store_working ``store``; read_history ``retrieve`` of the
  conversation's working memory; nothing else (no sessions, no user memories).
- LangGraph ``InMemoryStore``: create_session ``put(("sessions", user), sid)``;
  read_history ``get``; search_memories ``search(("memories", user), query=...)``;
  append_run and set_summary ``get`` + ``put`` of the session item; store_working
  ``put(("working",), sid)`` (no TTL support); upsert_memory ``put(("memories", user),
  mid)``.

None of these peers matches by keywords the way the engine ranks memories: Agno and
LangGraph return the user's memories (Agno newest first; LangGraph in insertion order, its
``query`` needs an embedding index), Upsonic keeps one profile record per user and agent.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from bench._targets._peers import PEERS, PeerUnavailable, peer_version
from bench._targets._protocol import OPERATIONS, Target

__all__ = [
    "PEER_OPERATIONS",
    "PEERS",
    "PeerUnavailable",
    "open_peer_target",
    "peer_version",
    "register_peer_targets",
]

_ALL = frozenset(OPERATIONS)

#: The replay operations each peer performs (the others are no-ops for it).
PEER_OPERATIONS: dict[str, frozenset[str]] = {
    "agno": _ALL - {"store_working"},
    "upsonic": _ALL - {"store_working"},
    "arshai": frozenset({"read_history", "store_working"}),
    "arshai-shardmem": frozenset({"read_history", "store_working"}),
    "upsonic-shardmem": _ALL - {"store_working"},
    "agno-shardmem": _ALL - {"store_working"},
    "agno-shardmem-redis": _ALL - {"store_working"},
    "langgraph": _ALL,
    "langgraph-shardmem": _ALL,
}


def _make(name: str, working_ttl: float, redis_url: str | None = None) -> Target:
    if name == "agno":
        from bench._targets._agno import AgnoTarget

        return AgnoTarget()
    if name == "agno-shardmem":
        from bench._targets._agno import AgnoShardmemTarget

        return AgnoShardmemTarget()
    if name == "agno-shardmem-redis":
        from bench._targets._agno import AgnoShardmemRedisTarget

        return AgnoShardmemRedisTarget(redis_url)
    if name == "arshai":
        from bench._targets._arshai import ArshaiTarget

        return ArshaiTarget(working_ttl)
    if name == "upsonic":
        from bench._targets._upsonic import UpsonicTarget

        return UpsonicTarget()
    if name == "arshai-shardmem":
        from bench._targets._arshai import ArshaiShardmemTarget

        return ArshaiShardmemTarget(working_ttl)
    if name == "upsonic-shardmem":
        from bench._targets._upsonic import UpsonicShardmemTarget

        return UpsonicShardmemTarget()
    if name == "langgraph":
        from bench._targets._langgraph import LangGraphTarget

        return LangGraphTarget()
    if name == "langgraph-shardmem":
        from bench._targets._langgraph import LangGraphShardmemTarget

        return LangGraphShardmemTarget()
    raise KeyError(name)


@asynccontextmanager
async def open_peer_target(
    name: str, *, working_ttl: float = 5.0, redis_url: str | None = None
) -> AsyncIterator[Target]:
    """Open the peer ``name`` (``"agno"``, ``"arshai"``, ``"upsonic"``, ``"langgraph"``).

    ``redis_url`` is the server of ``agno-shardmem-redis`` (default: ``$SHARDMEM_REDIS_URL``).

    Raises:
        PeerUnavailable: if the peer's package is not installed or lacks the API (the
            message is one line, fit for a "skipped: ..." report row).
        KeyError: for an unknown name.
    """
    target = _make(name, working_ttl, redis_url)
    try:
        yield target
    finally:
        close = getattr(target, "close", None)  # the adapters own an engine thread
        if close is not None:
            close()


def register_peer_targets() -> dict[str, Callable[[Any], AbstractAsyncContextManager[Target]]]:
    """Factories for the registry's ``TARGETS``: the four peers.

    Each factory takes the run's ``BenchOptions`` (it reads ``working_ttl``) and returns
    an async context manager yielding the target. Opening a peer that is not installed
    raises :class:`PeerUnavailable` before any work is done, so the runner can catch it
    and print one line.
    """
    factories: dict[str, Callable[[Any], AbstractAsyncContextManager[Target]]] = {}
    for peer in PEERS:
        factories[peer] = functools.partial(_open_with_options, peer)
    return factories


def _open_with_options(peer: str, options: Any) -> AbstractAsyncContextManager[Target]:
    return open_peer_target(
        peer, working_ttl=options.working_ttl, redis_url=getattr(options, "redis_url", None)
    )
