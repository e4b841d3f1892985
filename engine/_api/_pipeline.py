"""Pipelines: queue several operations, send one request per shard, get every result.

An agent that does several operations per turn (read history, search memories,
append the run) pays one mailbox round trip per shard involved instead of one per
operation, and the shards work on their parts concurrently.
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar

import outcome

from engine._api._backend import Backend
from engine._api._knowledge import Knowledge, KnowledgeRequests
from engine._api._memories import Memories, MemoryRequests
from engine._api._session_requests import SessionRequests
from engine._api._sessions import Sessions
from engine._api._working import Working, WorkingRequests
from engine._core._ops import Call

__all__ = ["PIPELINED", "Pipeline", "PipelineResult"]

T = TypeVar("T")

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


class PipelineResult(Generic[T]):
    """The result of one queued operation, available after the pipeline ran."""

    __slots__ = ("_description", "_outcome")

    def __init__(self, description: str) -> None:
        self._description = description
        self._outcome: outcome.Outcome[T] | None = None

    @property
    def done(self) -> bool:
        """Whether the operation ran (its result or error is known)."""
        return self._outcome is not None

    def result(self) -> T:
        """The operation's return value.

        Raises:
            RuntimeError: if the pipeline has not run (or was cancelled first).
            Exception: the operation's own error (e.g. ``NotFound``).
        """
        if self._outcome is None:
            raise RuntimeError(f"{self._description}: the pipeline has not run")
        result = self._outcome
        if isinstance(result, outcome.Error):
            raise result.error
        assert isinstance(result, outcome.Value)
        value: T = result.value
        return value

    def __repr__(self) -> str:
        state = "pending" if self._outcome is None else repr(self._outcome)
        return f"<PipelineResult {self._description}: {state}>"


class _Queueing:
    """A pipeline's facade of one kind: its methods validate and queue at once (plain
    ``def``, no await) and return a :class:`PipelineResult`.

    The methods are built once per kind (:func:`_queueing_class`), so an operation
    costs one builder call, not an attribute lookup that builds a closure.
    """

    __slots__ = ("_pipeline", "_requests")

    def __init__(self, pipeline: Pipeline, requests: Any) -> None:
        self._pipeline = pipeline
        self._requests = requests


def _queueing(kind: str, name: str, facade: type, requests: type) -> Any:
    description = f"{kind}.{name}"
    build = getattr(requests, name)

    def queue(self: _Queueing, *args: Any, **kwargs: Any) -> PipelineResult[Any]:
        call = build(self._requests, *args, **kwargs)  # validation raises here
        result: PipelineResult[Any] = PipelineResult(description)
        pipeline = self._pipeline
        pipeline._calls.append(call)
        pipeline._results.append(result)
        return result

    queue.__name__ = queue.__qualname__ = name
    queue.__doc__ = getattr(facade, name).__doc__
    return queue


def _queueing_class(kind: str) -> type[_Queueing]:
    """A :class:`_Queueing` subclass with a queueing method per builder of ``kind``;
    any other attribute raises an ``AttributeError`` naming the choices."""
    facade, requests = _KINDS[kind]
    allowed = PIPELINED[kind]

    def __getattr__(self: _Queueing, name: str) -> Any:
        raise AttributeError(
            f"{kind}.{name} cannot be pipelined; pipelined methods: {', '.join(allowed)}"
        )

    namespace: dict[str, Any] = {name: _queueing(kind, name, facade, requests) for name in allowed}
    namespace["__getattr__"] = __getattr__
    namespace["__slots__"] = ()
    return type(f"Pipelined{facade.__name__}", (_Queueing,), namespace)


_QUEUEING: Final = {kind: (_KINDS[kind][1], _queueing_class(kind)) for kind in _KINDS}


class _FacadeSlot:
    """``p.sessions`` etc.: the queueing facade, built on first use (most pipelines
    use one or two kinds) and then found in the instance dict (a non-data descriptor:
    no lookup failure, no ``__getattr__``, on either access)."""

    __slots__ = ("_kind",)

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def __get__(self, pipeline: Pipeline | None, owner: type | None = None) -> Any:
        if pipeline is None:
            return self
        requests, queueing = _QUEUEING[self._kind]
        facade = queueing(pipeline, requests(pipeline._backend.config))
        pipeline.__dict__[self._kind] = facade
        return facade


class Pipeline:
    """Operations queued with ``async with mem.pipeline() as p:``, run on exit.

    ``p.sessions``, ``p.memories``, ``p.working`` and ``p.knowledge`` take the same
    arguments as the engine's facades, but are plain calls that validate at once
    (bad arguments raise there, nothing is queued) and return a
    :class:`PipelineResult`. Only single-shard methods can be pipelined (lists,
    ``recent`` and topics across users cannot).

    On exit the operations are grouped by shard; each shard gets one request and
    runs its part in queued order, at one engine time; shards run concurrently.
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
        self._raise = raise_on_error
        self._calls: list[Call] = []
        self._results: list[PipelineResult[Any]] = []
        self._ran = False

    sessions: Any = _FacadeSlot("sessions")
    memories: Any = _FacadeSlot("memories")
    working: Any = _FacadeSlot("working")
    knowledge: Any = _FacadeSlot("knowledge")

    def __len__(self) -> int:
        return len(self._calls)

    async def __aenter__(self) -> Pipeline:
        if self._ran:
            raise RuntimeError("a pipeline runs once; open a new one")
        return self

    async def __aexit__(self, kind: object, error: object, traceback: object) -> None:
        self._ran = True
        if error is None:
            await self.execute()

    async def execute(self) -> None:
        """Send the queued operations (one request per shard) and collect results."""
        calls, results = self._calls, self._results
        if not calls:
            return
        self._calls, self._results = [], []

        def settle(index: int, value: outcome.Outcome[Any]) -> None:
            results[index]._outcome = value

        await self._backend.run_batch(calls, settle)
        if self._raise:
            for result in results:
                if isinstance(result._outcome, outcome.Error):
                    raise result._outcome.error
