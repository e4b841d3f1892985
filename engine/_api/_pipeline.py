"""Pipelines: queue several operations, send one request per shard, get every result.

An agent that does several operations per turn (read history, search memories,
append the run) pays one mailbox round trip per shard involved instead of one per
operation, and the shards work on their parts concurrently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final, Generic, TypeVar

import outcome
import trio

from actors import ActorClosed, gather
from engine._api._knowledge import Knowledge
from engine._api._memories import Memories
from engine._api._sessions import Sessions
from engine._api._working import Working
from engine._core._errors import EngineClosed, wrong_thread
from engine._core._ops import Batch, Call, Op
from engine._core._routing import shard_of

__all__ = ["Pipeline", "PipelineResult"]

T = TypeVar("T")

#: A queued operation: ``(shard, op, args, result)``.
Operation = tuple[int, Op, tuple[Any, ...], "PipelineResult[Any]"]

#: The facade methods a pipeline can queue: each is answered by one shard.
PIPELINED: Final = {
    "sessions": (
        "upsert",
        "get",
        "rename",
        "delete",
        "append_run",
        "runs",
        "messages",
        "set_summary",
        "get_summary",
    ),
    "memories": ("upsert", "get", "search", "delete", "clear"),
    "working": ("store", "retrieve", "update", "delete"),
    "knowledge": ("upsert", "get", "delete"),
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


class _Queue:
    """The ``EngineCore`` of a pipeline's facades: ``_call`` queues, never awaits."""

    __slots__ = ("_engine", "config", "description", "operations")

    def __init__(self, engine: Any) -> None:
        self.config = engine.config
        self._engine = engine
        self.operations: list[Operation] = []
        self.description = ""

    async def _call(self, key: str, op: Op, *args: Any) -> Any:
        result: PipelineResult[Any] = PipelineResult(self.description)
        self.operations.append((shard_of(key, self.config.shards), op, args, result))
        return result

    async def _scatter(self, op: Op, *args: Any) -> list[Any]:
        raise TypeError(f"{self.description} asks every shard: it cannot be pipelined")

    async def _merged(self, op: Op, query: Any, limit: Any, offset: int) -> list[Any]:
        raise TypeError(f"{self.description} asks every shard: it cannot be pipelined")


class _Facade:
    """A facade whose methods validate and queue at once (plain ``def``, no await).

    The queueing methods are built once per kind (:func:`_facade_class`), so an
    operation costs one method call, not an attribute lookup that builds a closure.
    """

    __slots__ = ("_facade", "_queue")

    def __init__(self, queue: _Queue, facade: Any) -> None:
        self._queue = queue
        self._facade = facade


def _queueing(kind: str, name: str, source: Any) -> Callable[..., PipelineResult[Any]]:
    description = f"{kind}.{name}"

    def queue(self: _Facade, *args: Any, **kwargs: Any) -> PipelineResult[Any]:
        self._queue.description = description
        coroutine: Coroutine[Any, Any, Any] = getattr(self._facade, name)(*args, **kwargs)
        try:
            coroutine.send(None)  # validation runs here and raises at once
        except StopIteration as done:
            result: PipelineResult[Any] = done.value
            return result
        coroutine.close()
        raise RuntimeError(f"{description} suspended inside a pipeline")

    queue.__name__ = queue.__qualname__ = name
    queue.__doc__ = getattr(source, name).__doc__
    return queue


def _facade_class(kind: str, source: type) -> type[_Facade]:
    """A :class:`_Facade` subclass with a queueing method per pipelined method of
    ``kind``; any other attribute raises an ``AttributeError`` naming the choices."""
    allowed = PIPELINED[kind]

    def __getattr__(self: _Facade, name: str) -> Any:
        raise AttributeError(
            f"{kind}.{name} cannot be pipelined; pipelined methods: {', '.join(allowed)}"
        )

    namespace: dict[str, Any] = {name: _queueing(kind, name, source) for name in allowed}
    namespace["__getattr__"] = __getattr__
    namespace["__slots__"] = ()
    return type(f"Pipelined{source.__name__}", (_Facade,), namespace)


_FACADES: Final = {
    "sessions": (Sessions, _facade_class("sessions", Sessions)),
    "memories": (Memories, _facade_class("memories", Memories)),
    "working": (Working, _facade_class("working", Working)),
    "knowledge": (Knowledge, _facade_class("knowledge", Knowledge)),
}


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
        source, queueing = _FACADES[self._kind]
        queue = pipeline._queue
        facade = queueing(queue, source(queue))
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

    def __init__(self, engine: Any, *, raise_on_error: bool = True) -> None:
        if type(raise_on_error) is not bool:
            raise TypeError(f"raise_on_error: expected bool, got {raise_on_error!r}")
        self._engine = engine
        self._raise = raise_on_error
        self._queue = _Queue(engine)
        self._ran = False

    sessions: Any = _FacadeSlot("sessions")
    memories: Any = _FacadeSlot("memories")
    working: Any = _FacadeSlot("working")
    knowledge: Any = _FacadeSlot("knowledge")

    def __len__(self) -> int:
        return len(self._queue.operations)

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
        operations, self._queue.operations = self._queue.operations, []
        if not operations:
            return
        await self._run(operations)
        if self._raise:
            for _, _, _, result in operations:
                if isinstance(result._outcome, outcome.Error):
                    raise result._outcome.error

    async def _run(self, operations: list[Operation]) -> None:
        """The backend's step: run ``operations`` and set each result's ``_outcome``.

        ``operations`` are ``(shard, op, args, result)`` in queued order.
        A backend subclass (e.g. the Redis engine's) overrides this alone.
        """
        engine = self._engine
        if threading.get_ident() != engine._thread:
            raise wrong_thread()
        if engine.closed:
            raise EngineClosed("the engine is closed")
        first = operations[0][0]
        for shard, _, _, _ in operations:
            if shard != first or engine._reject:
                break
        else:  # one shard: one ask (when waiting for room is allowed)
            try:
                outcomes = await engine._refs[first].ask(
                    Batch(tuple([Call(op, args) for _, op, args, _ in operations]))
                )
            except ActorClosed:
                raise EngineClosed("the engine is closed") from None
            for (_, _, _, result), value in zip(operations, outcomes, strict=True):
                result._outcome = value
            return
        per_shard: dict[int, list[Operation]] = {}
        for operation in operations:
            group = per_shard.get(operation[0])
            if group is None:
                per_shard[operation[0]] = [operation]
            else:
                group.append(operation)
        refs = engine._refs
        try:
            replies = await gather(
                [
                    (refs[shard], Batch(tuple([Call(op[1], op[2]) for op in group])))
                    for shard, group in per_shard.items()
                ],
                reject=engine._reject,
            )
        except ActorClosed:
            raise EngineClosed("the engine is closed") from None
        except trio.WouldBlock:
            raise engine._overloaded() from None
        for group, outcomes in zip(per_shard.values(), replies, strict=True):
            for operation, value in zip(group, outcomes, strict=True):
                operation[3]._outcome = value
