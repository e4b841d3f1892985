"""Pipelines on Redis: the queued operations' scripts in one coredis pipeline per round.

:class:`RedisPipeline` is the embedded :class:`engine.Pipeline` (same facades, same
validation, same :class:`PipelineResult`) with its execution step replaced. Each queued
operation runs the same code as a direct call (``engine._redis._ops``), but against a
:class:`DeferredConnection`: its ``await conn.run(...)`` suspends the operation and hands
the script call to the driver, which sends every operation's pending call in one
``pipeline(transaction=False)`` (EVALSHA each; one round trip per server), then resumes
each operation with its reply.

Most operations are one script call, so a pipeline is usually one round trip. An
operation of several calls (``memories.search``: rank, then fetch) takes one round per
call, and later operations of its partition wait until it is done, so each partition
sees its operations in queued order exactly as the embedded engine's shards do.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Coroutine, Generator
from typing import Any

import outcome

from engine._api._pipeline import Operation, Pipeline, PipelineResult
from engine._redis._ops import RedisOps

__all__ = ["DeferredConnection", "RedisPipeline"]


class _Call:
    """One script call an operation awaits; the driver sends it and resumes the
    operation with the reply (or throws the script's error into it)."""

    __slots__ = ("args", "name", "now", "partition")

    def __init__(self, name: str, partition: int, now: float, args: tuple[Any, ...]) -> None:
        self.name = name
        self.partition = partition
        self.now = now
        self.args = args

    def __await__(self) -> Generator[_Call, Any, Any]:
        reply = yield self
        return reply


class DeferredConnection:
    """Stands in for :class:`engine._redis._conn.Connection` while a pipeline runs:
    ``run`` returns an awaitable that yields the call to the driver instead of
    sending it. Only ``run`` exists: an operation reaching for anything else fails."""

    def run(self, name: str, partition: int, now: float, *args: Any) -> _Call:
        """The call ``Connection.run(name, partition, now, *args)`` would make."""
        return _Call(name, partition, now, args)


class _Running:
    """An operation of the pipeline, started and waiting for its call's reply."""

    __slots__ = ("call", "coroutine", "partition", "result", "single")

    def __init__(
        self, coroutine: Coroutine[Any, Any, Any], result: PipelineResult[Any], single: bool
    ) -> None:
        self.coroutine = coroutine
        self.result = result
        self.single = single
        self.call: _Call | None = None
        self.partition = -1

    def advance(self, reply: Any) -> bool:
        """Resume with ``reply`` (an exception is thrown in); ``True`` once done."""
        try:
            if isinstance(reply, BaseException):
                call = self.coroutine.throw(reply)
            else:
                call = self.coroutine.send(reply)
        except StopIteration as done:
            self.result._outcome = outcome.Value(done.value)
            return True
        except Exception as error:
            self.result._outcome = outcome.Error(error)
            return True
        if not isinstance(call, _Call):
            self.coroutine.close()
            self.result._outcome = outcome.Error(
                RuntimeError(f"a pipelined operation awaited {call!r}, not a script call")
            )
            return True
        self.call = call
        return False


class RedisPipeline(Pipeline):
    """:class:`engine.Pipeline` on a :class:`RedisMemoryEngine`; see the module doc.

    Raises (on exit), besides the operations' own errors:
        EngineClosed: if the engine is closed.
        BackendUnavailable: if a round cannot be sent or answered within the timeout;
            operations that had not finished then raise ``RuntimeError`` from
            ``result()`` (they may or may not have run, as for a single call).
    """

    async def _run(self, operations: list[Operation]) -> None:
        engine = self._engine
        engine._check_open()
        ops = engine._deferred_ops
        conn = engine._conn
        now = engine._clock.now()
        queues: dict[int, deque[Operation]] = {}
        for operation in operations:
            queues.setdefault(operation[0], deque()).append(operation)
        holding: dict[int, _Running] = {}  # partition -> its unfinished multi-call op
        batch: list[_Running] = []
        try:
            while queues or holding:
                batch = list(holding.values())
                for partition in list(queues):
                    if partition in holding:
                        continue
                    queue = queues[partition]
                    while queue:
                        _, op, args, result = queue.popleft()
                        running = _Running(
                            ops[op](partition, now, *args), result, op not in RedisOps.SEVERAL_CALLS
                        )
                        if running.advance(None):
                            continue
                        running.partition = partition
                        batch.append(running)
                        if not running.single:
                            holding[partition] = running
                            break
                    if not queue:
                        del queues[partition]
                if not batch:
                    continue
                calls = [r.call for r in batch if r.call is not None]
                replies = await conn.run_batch(
                    [(c.name, c.partition, c.now, c.args) for c in calls]
                )
                for running, reply in zip(batch, replies, strict=True):
                    if running.advance(reply):
                        holding.pop(running.partition, None)
                    else:
                        holding[running.partition] = running
                batch = []
        finally:
            for running in (*batch, *holding.values()):
                running.coroutine.close()
