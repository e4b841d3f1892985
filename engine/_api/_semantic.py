"""Semantic and hybrid search of user memories, with the engine's embedder.

Each stored memory's vector is an item of the engine's own namespace
``("__shardmem__", "memory-vectors", user_id)``, keyed by ``memory_id`` and routed by
``user_id`` (the memory's shard or partition), its value the memory's ``updated_at``
when it was embedded: a vector whose memory has changed or gone since is stale, left
out, and deleted by the next search that meets it. Vectors live in the item table, so
they are journaled, snapshotted and on Redis like any item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from engine._api._backend import Backend
from engine._core import _ops as ops
from engine._core._errors import InvalidArgument
from engine._core._items import INTERNAL_LABEL, Item
from engine._core._ops import Call
from engine._core._records import UserMemory

__all__ = ["EMBEDDED_METHODS", "RRF_K", "forget_memory", "index_memory", "semantic_search"]

#: The ``mem.memories.search`` methods that embed the query (not pipelined).
EMBEDDED_METHODS: Final = ("semantic", "hybrid")

RRF_K: Final = 60
"""The constant of reciprocal rank fusion: a memory's hybrid score is the sum over the
two rankings (BM25, cosine) of ``1 / (RRF_K + rank)``, rank from 1."""


def _namespace(user_id: str) -> tuple[str, ...]:
    return (INTERNAL_LABEL, "memory-vectors", user_id)


async def embed(backend: Backend, texts: list[str]) -> list[tuple[float, ...]]:
    """``texts`` through the configured embedder, in a worker thread.

    Raises:
        InvalidArgument: if the engine has no embedder, or it returned a wrong shape.
    """
    embedder = backend.config.embedder
    if embedder is None:
        raise InvalidArgument(
            "semantic and hybrid search need an embedder: EngineConfig(embedder=...)"
        )
    vectors: Any = await backend.in_thread(embedder, texts)
    if not isinstance(vectors, Sequence) or len(vectors) != len(texts):
        raise InvalidArgument(
            f"embedder: expected {len(texts)} vectors, got {type(vectors).__name__}"
        )
    return [tuple(float(x) for x in vector) for vector in vectors]


async def index_memory(backend: Backend, memory: UserMemory) -> None:
    """Embed a stored memory and keep its vector (nothing without an embedder)."""
    if backend.config.embedder is None:
        return
    (vector,) = await embed(backend, [memory.memory])
    item = Item(
        namespace=_namespace(memory.user_id),
        key=memory.memory_id,  # type: ignore[arg-type]
        value={"u": memory.updated_at},
        vectors=(vector,),
    )
    await backend.call(Call(ops.PUT_ITEM, (item, None), memory.user_id))


async def forget_memory(backend: Backend, user_id: str, memory_id: str) -> None:
    """Drop a memory's vector, if the engine keeps vectors."""
    if backend.config.embedder is not None:
        await backend.call(Call(ops.DELETE_ITEM, (_namespace(user_id), memory_id), user_id))


async def semantic_search(
    backend: Backend, user_id: str, query: str, method: str, limit: int | None
) -> list[UserMemory]:
    """A user's memories by cosine similarity of their vectors to ``query``'s
    (``"semantic"``), or by reciprocal rank fusion of that ranking and BM25's
    (``"hybrid"``); best first. Three requests to the user's shard; O(m·d) for the
    user's m memories of d dimensions."""
    (vector,) = await embed(backend, [query])
    namespace = _namespace(user_id)
    hits = await backend.call(
        Call(ops.SEARCH_ITEMS, (namespace, None, None, vector, False), user_id)
    )
    memories = await backend.call(Call(ops.SEARCH_MEMORIES, (user_id, "", "last_n", None), user_id))
    live = {memory.memory_id: memory for memory in memories}
    ranked: list[str] = []
    for _, item, score in hits:
        memory = live.get(item.key)
        if memory is None or memory.updated_at != item.value.get("u") or score is None:
            await backend.call(Call(ops.DELETE_ITEM, (namespace, item.key), user_id))
            continue
        ranked.append(item.key)
    if method == "semantic":
        order = ranked
    else:
        keyword = await backend.call(
            Call(ops.SEARCH_MEMORIES, (user_id, query, "keyword", None), user_id)
        )
        scores: dict[str, float] = {}
        for ranking in (ranked, [memory.memory_id for memory in keyword]):
            for rank, memory_id in enumerate(ranking, start=1):
                scores[memory_id] = scores.get(memory_id, 0.0) + 1.0 / (RRF_K + rank)
        order = sorted(scores, key=lambda memory_id: -scores[memory_id])
    found = [live[memory_id] for memory_id in order if memory_id in live]
    return found if limit is None else found[:limit]
