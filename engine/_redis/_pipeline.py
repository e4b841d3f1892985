"""Pipelines on Redis: the queued operations' scripts in one coredis pipeline per round.

A pipeline (:class:`engine.Pipeline`) queues built requests; on exit
:meth:`RedisRouter.run_batch` hands them to :func:`run_batch`. Each queued operation
runs the same code as a direct call (``engine._redis._ops``), but against a
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
from collections.abc import Callable, Coroutine, Generator, Sequence
from typing import TYPE_CHECKING, Any

from engine._api._batch import BatchPart
from engine._api._pipeline import Pipeline
from engine._core._ops import Op
from engine._redis._ops import RedisOps

if TYPE_CHECKING:
    from engine._redis._conn import Connection

__all__ = ["DeferredConnection", "RedisPipeline", "run_batch"]


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

    __slots__ = ("call", "coroutine", "part", "position", "single")

    def __init__(
        self, coroutine: Coroutine[Any, Any, Any], part: BatchPart, position: int, single: bool
    ) -> None:
        self.coroutine = coroutine
        self.part = part
        self.position = position
        self.single = single
        self.call: _Call | None = None

    def advance(self, reply: Any) -> bool:
        """Resume with ``reply`` (an exception is thrown in); ``True`` once done (its
        value or error is then in its part)."""
        try:
            if isinstance(reply, BaseException):
                call = self.coroutine.throw(reply)
            else:
                call = self.coroutine.send(reply)
        except StopIteration as done:
            self.part.values[self.position] = done.value  # type: ignore[index]
            return True
        except Exception as error:
            self.part.set_error(self.position, error)
            return True
        if not isinstance(call, _Call):
            self.coroutine.close()
            wrong = RuntimeError(f"a pipelined operation awaited {call!r}, not a script call")
            self.part.set_error(self.position, wrong)
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


async def run_batch(
    conn: Connection,
    ops: dict[Op, Callable[..., Any]],
    parts: Sequence[BatchPart],
    *,
    now: float,
) -> None:
    """Run each part's calls in its partition (``part.shard``) with ``ops``
    (:class:`RedisOps` methods on a :class:`DeferredConnection`) in rounds, one
    ``conn.run_batch`` each; each result goes into its part as soon as it is known.
    ``now``: the engine time of every call. Each partition runs its calls in order: a
    call that may make several script calls (:attr:`RedisOps.SEVERAL_CALLS`) holds back
    the later ones of its partition until it is done."""
    queues: dict[int, deque[tuple[int, BatchPart]]] = {}
    for part in parts:
        part.pending()
        queues[part.shard] = deque((position, part) for position in range(len(part.calls)))
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
                    position, part = queue.popleft()
                    op, args, _ = part.calls[position]
                    single = op not in RedisOps.SEVERAL_CALLS
                    running = _Running(ops[op](partition, now, *args), part, position, single)
                    if running.advance(None):
                        continue
                    batch.append(running)
                    if not running.single:
                        holding[partition] = running
                        break
                if not queue:
                    del queues[partition]
            if not batch:
                continue
            pending = [r.call for r in batch if r.call is not None]
            replies = await conn.run_batch([(c.name, c.partition, c.now, c.args) for c in pending])
            for running, reply in zip(batch, replies, strict=True):
                if running.advance(reply):
                    holding.pop(running.part.shard, None)
                else:
                    holding[running.part.shard] = running
            batch = []
    finally:
        for running in (*batch, *holding.values()):
            running.coroutine.close()
