"""What the facades and pipelines need from an engine: the :class:`Backend` protocol.

Each engine implements it with a router object (``ShardRouter`` for the embedded
engine, ``RedisRouter`` for Redis); the facades only build :class:`Call` requests
(synchronously, validating every argument) and hand them to the backend.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable, Sequence
from operator import itemgetter
from typing import Any, Protocol

from engine._api._batch import BatchPart
from engine._core._config import EngineConfig
from engine._core._ops import Call, Op

__all__ = ["Backend", "list_merged", "merge_ranked"]

_first = itemgetter(0)


class Backend(Protocol):
    """An engine's request path, as the facades and :class:`Pipeline` use it.

    Every method raises :class:`EngineClosed` once the engine is closed and
    :class:`WrongThread` from another thread than the engine's.
    """

    @property
    def config(self) -> EngineConfig:
        """The engine's configuration (``shards``, TTL policies, size limits)."""
        ...

    def call(self, call: Call) -> Awaitable[Any]:
        """Run ``call`` in the shard owning ``call.key``; return its result or raise
        its error (an ``async def``, or a plain method returning the awaitable)."""
        ...

    async def scatter(self, call: Call) -> list[Any]:
        """Run ``call`` in every shard; return the results in shard order."""
        ...

    def decoder(self, op: Op) -> Callable[[Any], Any] | None:
        """How an entry a list query ``op`` returned becomes its record, or None if the
        shards answer with records (the embedded shards list sessions and documents
        as stored rows, so only the entries the merge keeps are built)."""
        ...

    async def in_thread(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        """``fn(arg)`` in a worker thread (a blocking function such as the configured
        embedder), without blocking the engine's event loop; its result or error."""
        ...

    def run_batch(self, parts: Sequence[BatchPart]) -> Awaitable[None]:
        """Run a pipeline's ``parts``, each in its shard (``part.shard``, of
        ``config.shards``) with its calls in order, the shards concurrently, and fill
        in each part's ``values`` and ``errors`` as they are known. Calls whose result
        is not known when this raises may or may not have run."""
        ...


def merge_ranked(
    parts: Sequence[Sequence[tuple[Any, Any]]],
    *,
    descending: bool,
    offset: int,
    limit: int | None,
) -> list[Any]:
    """Merge the shards' sorted ``(rank, record)`` lists; apply ``offset``/``limit``.

    Each part is sorted by rank (descending if ``descending``) and holds at least the
    first ``offset + limit`` of its shard. Returns the records only.
    O((offset + limit) * log(shards)).
    """
    merged = heapq.merge(*parts, key=_first, reverse=descending)
    stop = None if limit is None else offset + limit
    return [record for _, record in itertools.islice(merged, offset, stop)]


async def list_merged(
    backend: Backend, op: Op, query: Any, limit: int | None, offset: int
) -> list[Any]:
    """Scatter the list query ``op(query, k)`` (``k = offset + limit``) and merge the
    shards' sorted top-k (:func:`merge_ranked`) by ``query.descending``."""
    k = None if limit is None else offset + limit
    parts = await backend.scatter(Call(op, (query, k)))
    found = merge_ranked(parts, descending=query.descending, offset=offset, limit=limit)
    decode = backend.decoder(op)
    return found if decode is None else [decode(entry) for entry in found]
