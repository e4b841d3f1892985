"""The Redis connection of the engine: client, scripts, timeouts, error mapping.

Every request runs under ``trio.fail_after(timeout)``-like bound: a server that is
down, unreachable or stuck gives :class:`BackendUnavailable` within ``timeout``
seconds, never a hang. The client reconnects by itself, so calls succeed again once
the server is back. Only the Redis wiring modules import coredis.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import anyio
import coredis.exceptions as redis_errors
import trio
from coredis.exceptions import NoScriptError

from engine._core._errors import BackendUnavailable, MemoryLimitExceeded, Overloaded
from engine._redis._keys import KeyLayout
from engine._redis._scripts import SCRIPTS

#: the reserved room an admitted engine call has left (see ``Connection.admitted``)
_ADMITTED: ContextVar[list[int] | None] = ContextVar("shardmem_redis_admitted", default=None)

__all__ = ["UNAVAILABLE", "Connection"]

_IN_FLIGHT = 4  # automatic pipelines on the wire at once

#: What a dead, unreachable or refusing server raises: :class:`BackendUnavailable`.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis_errors.AuthenticationError,  # missing or wrong credentials: typed, not a crash
    redis_errors.ConnectionError,
    redis_errors.RedisClusterError,
    redis_errors.ReadOnlyError,
    TimeoutError,
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)


class _Pending:
    """A queued script call and, once answered, its reply (or error)."""

    __slots__ = ("argv", "done", "keys", "name", "reply")

    def __init__(
        self, name: str, keys: list[str], argv: list[Any], done: trio.Event | None = None
    ) -> None:
        self.name = name
        self.keys = keys
        self.argv = argv
        self.done = trio.Event() if done is None else done
        self.reply: Any = None


class Connection:
    """A connected client with the engine's scripts registered.

    Args:
        client: an entered ``coredis.Redis`` or ``coredis.RedisCluster``.
        keys: the key layout.
        timeout: seconds a request may take before ``BackendUnavailable``.
        sweep_limit: due records a script removes before its own work.
    """

    def __init__(
        self,
        client: Any,
        keys: KeyLayout,
        timeout: float,
        sweep_limit: int,
        capacity: int | None = None,
    ) -> None:
        self.client = client
        #: with ``when_full="reject"``: the most calls queued but not yet sent
        self.capacity = capacity
        self._reserved = 0  # room held for admitted engine calls not yet queued
        self.keys = keys
        self.timeout = timeout
        self.sweep_limit = str(sweep_limit)
        self.location = repr(client)
        self.requests = 0
        self.round_trips = 0
        self.batched = 0  # the most calls one round trip carried
        self.failures = 0
        self._queue: list[_Pending] = []
        self._wake = trio.Event()
        self._bodies = {name: script.body for name, script in SCRIPTS.items()}
        self._shas = {name: script.sha for name, script in SCRIPTS.items()}

    def _args(self, partition: int, now: float, args: Sequence[Any]) -> tuple[list[str], list[Any]]:
        base = self.keys.base(partition)
        return [self.keys.route(partition)], [base, repr(now), self.sweep_limit, *args]

    def _unavailable(self, error: BaseException | None) -> BackendUnavailable:
        self.failures += 1
        if error is None:
            return BackendUnavailable(
                f"redis at {self.location}: no reply within {self.timeout} s (timeout)"
            )
        return BackendUnavailable(
            f"redis at {self.location} is unavailable: {type(error).__name__}: {error}"
        )

    def _check_room(self, calls: int) -> None:
        """``when_full="reject"``: refuse calls the send queue has no room for, as a
        full shard mailbox does on the embedded engine. Room taken by admitted engine
        calls (see :meth:`admitted`) counts as used until they queue."""
        if self.capacity is None:
            return
        admission = _ADMITTED.get()
        if admission is not None and admission[0] > 0:
            admission[0] -= 1  # this call was reserved when its engine call was admitted
            self._reserved -= 1
            return
        if len(self._queue) + self._reserved + calls > self.capacity:
            raise Overloaded(
                f"redis send queue full ({self.capacity} requests; when_full='reject')"
            )

    @contextmanager
    def admitted(self, calls: int) -> Iterator[None]:
        """Admit an engine call that will queue up to ``calls`` script calls (a scatter
        queues one per partition), all or none: their room is reserved here, and
        taken by each as it queues.

        Raises:
            Overloaded: with ``when_full="reject"``, if the queue lacks room.
        """
        if self.capacity is None or _ADMITTED.get() is not None:
            yield
            return
        self._check_room(calls)
        self._reserved += calls
        admission = [calls]
        token = _ADMITTED.set(admission)  # inherited by the tasks the call starts
        try:
            yield
        finally:
            _ADMITTED.reset(token)
            self._reserved -= admission[0]

    @contextmanager
    def deadline(self) -> Iterator[None]:
        """One deadline, ``timeout`` seconds, for a whole engine call however many
        round trips it makes (a ranked search makes two).

        Raises:
            BackendUnavailable: if the block has not finished in time.
        """
        with trio.move_on_after(self.timeout) as scope:
            yield
        if scope.cancelled_caught:
            raise self._unavailable(None)

    async def run(self, name: str, partition: int, now: float, *args: Any) -> Any:
        """Run script ``name`` in ``partition``; its ARGV[4:] are ``args``.

        The call joins the next automatic pipeline (see :meth:`serve`).

        Raises:
            BackendUnavailable: if the server cannot be reached or does not answer
                within ``timeout`` seconds.
            coredis.exceptions.ResponseError: the script's own error.
        """
        # like the embedded engine: a call made in an already-cancelled scope is
        # never sent, so it is never applied
        await trio.lowlevel.checkpoint_if_cancelled()
        self._check_room(1)
        call = _Pending(name, *self._args(partition, now, args))
        self._queue.append(call)
        self.requests += 1
        self._wake.set()
        reply = await self._wait(call)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def run_batch(self, calls: Sequence[tuple[str, int, float, Sequence[Any]]]) -> list[Any]:
        """Run each ``(script, partition, now, args)``, all in the same automatic
        pipeline (one round trip per server), replies in order.

        A script's own error (``ResponseError``) comes back in its place, not raised,
        so the other calls' replies stay usable.

        Raises:
            BackendUnavailable: as :meth:`run`, for the whole batch.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        self._check_room(len(calls))
        done = trio.Event()  # one for all: they are queued together, so answered together
        pending = [_Pending(name, *self._args(p, now, args), done) for name, p, now, args in calls]
        self._queue.extend(pending)
        self.requests += len(pending)
        self._wake.set()
        with trio.move_on_after(self.timeout):
            await done.wait()
            replies = [call.reply for call in pending]
            for reply in replies:
                if isinstance(reply, BackendUnavailable):
                    raise reply
            return replies
        raise self._unavailable(None)

    async def _wait(self, call: _Pending) -> Any:
        with trio.move_on_after(self.timeout):
            await call.done.wait()
            return call.reply
        raise self._unavailable(None)

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Send queued script calls, run by :func:`connect` in the background.

        Automatic pipelining: every call queued while the previous batch was on the
        wire, plus those queued by tasks that run before this one's next turn, go out
        together in one ``pipeline(transaction=False)`` (EVALSHA each). Concurrent
        callers thus share round trips, and coredis' per-command cost (~150 us of CPU
        on trio) is paid once per batch instead of once per call. Up to
        ``_IN_FLIGHT`` batches are on the wire at once (each on its own pooled
        connection), so the next batch is built while the server runs the last.
        A call is queued only after its caller's previous reply, so one task's
        calls keep their order.
        """
        limit = trio.Semaphore(_IN_FLIGHT)
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                await trio.lowlevel.checkpoint()  # let the tasks already woken queue theirs
                batch, self._queue = self._queue, []
                if batch:
                    await limit.acquire()
                    nursery.start_soon(self._send, batch, limit)

    async def _send(self, batch: list[_Pending], limit: trio.Semaphore) -> None:
        try:
            await self._answer(batch)
        finally:
            limit.release()

    async def _answer(self, batch: list[_Pending]) -> None:
        self.round_trips += 1
        self.batched = max(self.batched, len(batch))
        replies: list[Any] | None = None
        error: BackendUnavailable | None = None
        with trio.move_on_after(self.timeout):
            try:
                replies = await self._pipeline(batch)
            except UNAVAILABLE as failure:
                error = self._unavailable(failure)
                error.__cause__ = failure
        if replies is None:
            if error is None:
                error = self._unavailable(None)
            self.failures += len(batch) - 1
            replies = [_copy(error) for _ in batch]  # each caller raises its own
        for call, reply in zip(batch, replies, strict=True):
            call.reply = reply
            call.done.set()

    async def _pipeline(self, batch: list[_Pending]) -> list[Any]:
        """EVALSHA each call in one pipeline; a server that lost the scripts
        (restarted, flushed) gets them loaded (every node) and those calls resent."""
        replies = await self._evalsha(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            for body in self._bodies.values():
                await self.client.script_load(body)
            again = await self._evalsha([batch[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _evalsha(self, batch: list[_Pending]) -> list[Any]:
        shas = self._shas
        if len(batch) == 1:
            (call,) = batch
            try:
                return [await self.client.evalsha(shas[call.name], keys=call.keys, args=call.argv)]
            except redis_errors.ResponseError as failure:
                return [self._refused(failure)]
        async with self.client.pipeline(transaction=False, raise_on_error=False) as pipe:
            requests = [pipe.evalsha(shas[c.name], keys=c.keys, args=c.argv) for c in batch]
        replies: list[Any] = []
        for request in requests:
            try:
                replies.append(await request)
            except redis_errors.ResponseError as failure:
                replies.append(self._refused(failure))
        return replies

    def _refused(self, failure: Exception) -> Exception:
        """A server's refusal as the engine's error where there is one: ``OOM``
        (``maxmemory`` reached under ``noeviction``) is :class:`MemoryLimitExceeded`;
        anything else (a script's own error) is returned as it came."""
        if str(failure).startswith("OOM"):
            error = MemoryLimitExceeded(
                f"redis at {self.location} refused the write: its maxmemory is reached "
                f"and its maxmemory-policy does not evict ({failure})"
            )
            error.__cause__ = failure
            return error
        return failure

    async def command(self, coro_factory: Any) -> Any:
        """Run a one-off client call (``lambda c: c.hsetnx(...)``) with the same bounds."""
        self.requests += 1
        self.round_trips += 1
        with trio.move_on_after(self.timeout):
            try:
                return await coro_factory(self.client)
            except UNAVAILABLE as error:
                raise self._unavailable(error) from error
        raise self._unavailable(None)


def _copy(error: BackendUnavailable) -> BackendUnavailable:
    copy = BackendUnavailable(*error.args)
    copy.__cause__ = error.__cause__
    return copy
