"""The Redis engine's :class:`~engine._api._backend.Backend`: each request runs its
operation's :class:`RedisOps` method in the partition owning its key."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import trio

from engine._api._batch import BatchPart
from engine._api._clock import EngineClock
from engine._core._config import EngineConfig
from engine._core._errors import EngineClosed, wrong_thread
from engine._core._ops import Call, Op
from engine._core._routing import shard_of
from engine._redis._conn import Connection
from engine._redis._ops import RedisOps
from engine._redis._pipeline import DeferredConnection, run_batch

__all__ = ["RedisRouter"]

T = TypeVar("T")


class RedisRouter:
    """Routes requests to partitions (hash-tagged key groups) of one Redis prefix.

    Attributes:
        config: the engine's configuration (``shards`` = partitions).
        ops: the :class:`RedisOps` on the live connection (sweeps, counts).
        closed: set when the engine closes; requests then raise :class:`EngineClosed`.
    """

    __slots__ = ("_clock", "_conn", "_deferred", "_dispatch", "_thread", "closed", "config", "ops")

    def __init__(self, config: EngineConfig, conn: Connection, clock: EngineClock) -> None:
        self.config = config
        self.ops = RedisOps(conn, config)
        self.closed = False
        self._conn = conn
        self._clock = clock
        self._dispatch = self.ops.by_op()
        # the same operations against a connection that hands each script call to the
        # pipeline driver instead of sending it (see engine._redis._pipeline)
        self._deferred = RedisOps(DeferredConnection(), config).by_op()  # type: ignore[arg-type]
        self._thread = threading.get_ident()

    def check(self) -> None:
        """Raise :class:`WrongThread` off the engine's thread, :class:`EngineClosed`
        once closed."""
        if threading.get_ident() != self._thread:
            raise wrong_thread()
        if self.closed:
            raise EngineClosed("the engine is closed")

    async def call(self, call: Call) -> Any:
        """Run ``call`` in the partition owning ``call.key``."""
        self.check()
        operation = self._dispatch[call.op]
        partition = shard_of(call.key, self.config.shards)  # type: ignore[arg-type]
        with self._conn.deadline(), self._conn.admitted(1):
            return await operation(partition, self._clock.now(), *call.args)

    async def in_thread(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        """``fn(arg)`` in a trio worker thread."""
        return await trio.to_thread.run_sync(fn, arg)

    async def each(self, fn: Callable[[int], Awaitable[T]]) -> list[T]:
        """``fn(partition)`` for every partition, concurrently; results in order.

        The first error (e.g. :class:`BackendUnavailable`) is raised as itself.
        """
        results: list[Any] = [None] * self.config.shards
        errors: list[Exception] = []

        async def one(partition: int) -> None:
            try:
                results[partition] = await fn(partition)
            except Exception as error:  # re-raised below, unwrapped
                errors.append(error)

        async with trio.open_nursery() as nursery:
            for partition in range(self.config.shards):
                nursery.start_soon(one, partition)
        if errors:
            raise errors[0]
        return results

    async def scatter(self, call: Call) -> list[Any]:
        """Run ``call`` in every partition; results in partition order."""
        self.check()
        operation = self._dispatch[call.op]
        now = self._clock.now()
        args = call.args
        with self._conn.deadline(), self._conn.admitted(self.config.shards):
            return await self.each(lambda p: operation(p, now, *args))

    def decoder(self, op: Op) -> Callable[[Any], Any] | None:
        """Redis answers list queries with records; see :meth:`Backend.decoder`."""
        return None

    async def run_batch(self, parts: Sequence[BatchPart]) -> None:
        """Run a pipeline's parts (one per partition) as rounds of one coredis pipeline
        each (see :func:`engine._redis._pipeline.run_batch`)."""
        self.check()
        await run_batch(self._conn, self._deferred, parts, now=self._clock.now())
