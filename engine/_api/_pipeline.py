"""Pipelines: queue several operations, send one request per shard, get every result.

An agent that does several operations per turn (read history, search memories,
append the run) pays one mailbox round trip per shard involved instead of one per
operation, and the shards work on their parts concurrently.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable
from typing import Any, Final

from engine._api._backend import Backend
from engine._api._batch import BatchPart, PipelineResult
from engine._api._fast_gets import FAST_GETS
from engine._api._knowledge import Knowledge, KnowledgeRequests
from engine._api._memories import Memories, MemoryRequests
from engine._api._session_requests import SessionRequests
from engine._api._sessions import Sessions
from engine._api._working import Working, WorkingRequests
from engine._core._ops import Op

__all__ = ["PIPELINED", "Pipeline", "PipelineResult"]

#: Each kind's facade and its request builders: a pipeline queues what a builder
#: returns, so the pipelined methods are exactly the builders' (single-shard) methods.
_KINDS: Final = {
    "sessions": (Sessions, SessionRequests),
    "memories": (Memories, MemoryRequests),
    "working": (Working, WorkingRequests),
    "knowledge": (Knowledge, KnowledgeRequests),
}

#: The facade methods a pipeline can queue, by kind: each is answered by one shard.
PIPELINED: Final = {
    kind: tuple(name for name in vars(requests) if not name.startswith("_"))
    for kind, (_, requests) in _KINDS.items()
}

_new = object.__new__
_crc32 = zlib.crc32


def _queueing(name: str, requests: type) -> Any:
    """The queueing method ``name``: the builder of that name, then
    :meth:`Pipeline._queue`."""
    build = getattr(requests, name)

    def queue(self: Any, *args: Any, **kwargs: Any) -> PipelineResult[Any]:
        pipeline: Pipeline = self._pipeline
        return pipeline._queue(build(self, *args, **kwargs))  # validation raises here

    return queue


def _queueing_class(kind: str) -> type:
    """The pipeline facade of ``kind``: a subclass of its request builders whose
    builder methods queue what they build; any other attribute raises an
    ``AttributeError`` naming the choices."""
    facade, requests = _KINDS[kind]
    allowed = PIPELINED[kind]

    def __getattr__(self: Any, name: str) -> Any:
        raise AttributeError(
            f"{kind}.{name} cannot be pipelined; pipelined methods: {', '.join(allowed)}"
        )

    namespace: dict[str, Any] = {}
    for name in allowed:
        queue = FAST_GETS.get((kind, name))
        if queue is None:
            queue = _queueing(name, requests)
        queue.__name__ = queue.__qualname__ = name
        queue.__doc__ = getattr(facade, name).__doc__
        namespace[name] = queue
    namespace["__getattr__"] = __getattr__
    namespace["__slots__"] = ("_pipeline",)
    return type(f"Pipelined{facade.__name__}", (requests,), namespace)


_QUEUEING: Final = {kind: _queueing_class(kind) for kind in _KINDS}


class _FacadeSlot:
    """``p.sessions`` etc.: the queueing facade, built on first use (most pipelines
    use one or two kinds) and then found in the instance dict (a non-data descriptor:
    no lookup failure, no ``__getattr__``, on either access)."""

    __slots__ = ("_kind", "_queueing")

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._queueing = _QUEUEING[kind]

    def __get__(self, pipeline: Pipeline | None, owner: type | None = None) -> Any:
        if pipeline is None:
            return self
        facade: Any = _new(self._queueing)  # a builder (its _config) bound to the pipeline
        facade._config = pipeline._config
        facade._pipeline = pipeline
        pipeline.__dict__[self._kind] = facade
        return facade


class Pipeline:
    """Operations queued with ``async with mem.pipeline() as p:``, run on exit.

    ``p.sessions``, ``p.memories``, ``p.working`` and ``p.knowledge`` take the same
    arguments as the engine's facades, but are plain calls that validate at once
    (bad arguments raise there, nothing is queued) and return a
    :class:`PipelineResult`. Only single-shard methods can be pipelined (lists,
    ``recent`` and topics across users cannot).

    Each operation is routed as it is queued (to the shard of its key, as a direct
    call would be). On exit each shard gets one request and runs its part in queued
    order, at one engine time; shards run concurrently. Cost: O(1) per queued
    operation, one request per shard involved.
    Each operation succeeds or fails on its own. Then, like redis-py's
    ``execute(raise_on_error=True)``, the first error (in queued order) is raised,
    unless ``raise_on_error=False``; every result stays readable either way.

    If the ``async with`` block raises, nothing is sent. If the pipeline is cancelled
    while waiting for the shards, each shard's part may or may not have run (as for a
    single call); unfinished results raise ``RuntimeError``.

    Raises (on exit):
        EngineClosed: if the engine is closed.
        Exception: the first operation's error, with ``raise_on_error=True``.
    """

    def __init__(self, backend: Backend, *, raise_on_error: bool = True) -> None:
        if type(raise_on_error) is not bool:
            raise TypeError(f"raise_on_error: expected bool, got {raise_on_error!r}")
        self._backend = backend
        self._config = config = backend.config
        self._shards = config.shards
        self._raise = raise_on_error
        self._parts: dict[int, BatchPart] = {}
        self._results: list[PipelineResult[Any]] = []
        self._ran = False

    sessions: Any = _FacadeSlot("sessions")
    memories: Any = _FacadeSlot("memories")
    working: Any = _FacadeSlot("working")
    knowledge: Any = _FacadeSlot("knowledge")

    def __len__(self) -> int:
        return len(self._results)

    def _queue(self, call: tuple[Op, tuple[Any, ...], str | None]) -> PipelineResult[Any]:
        """Queue a built call (a ``Call`` or its plain tuple) in the part of its key's
        shard; return its result."""
        key: str = call[2]  # type: ignore[assignment]  # pipelined calls have a key
        # shard_of(key, shards), inline: once per queued operation
        shard = _crc32(key.encode("utf-8", "surrogatepass")) % self._shards
        part = self._parts.get(shard)
        if part is None:
            part = self._parts[shard] = BatchPart(shard)
        calls = part.calls
        result: PipelineResult[Any] = _new(PipelineResult)
        result._part = part
        result._position = len(calls)
        calls.append(call)
        self._results.append(result)
        return result

    async def __aenter__(self) -> Pipeline:
        if self._ran:
            raise RuntimeError("a pipeline runs once; open a new one")
        return self

    def __aexit__(self, kind: object, error: object, traceback: object) -> Awaitable[None]:
        # A plain method returning execute()'s coroutine: no coroutine frame of its own
        self._ran = True
        # The facades built on first use point back at the pipeline: drop them, so a
        # finished pipeline is freed by its reference count, not left as cyclic
        # garbage for the collector (~3 objects per pipeline, one turn in the replay).
        facades = self.__dict__
        for kind in _KINDS:
            facades.pop(kind, None)
        return _sent_nothing() if error is not None else self.execute()

    async def execute(self) -> None:
        """Send the queued operations (one request per shard) and collect results."""
        parts, results = self._parts, self._results
        if not results:
            return
        self._parts, self._results = {}, []
        await self._backend.run_batch(list(parts.values()))
        if self._raise:
            for part in parts.values():
                if part.errors:
                    raise _first_error(results)


async def _sent_nothing() -> None:
    """The exit of a pipeline whose block raised: nothing is sent."""


def _first_error(results: list[PipelineResult[Any]]) -> Exception:
    """The error of the first failed operation, in queued order."""
    for result in results:
        errors = result._part.errors
        if errors is not None and result._position in errors:
            return errors[result._position]
    raise AssertionError("no operation failed")  # pragma: no cover
