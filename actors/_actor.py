"""The actor: one owner task, a bounded mailbox, and the client handle.

The owner loop (design §3): wait until a request arrives *or* the behaviour's next
deadline passes; drain every request already queued and serve the batch; run due
timers in bounded batches with a checkpoint between them, so that a mass expiry
cannot starve clients. Closing the mailbox ends the owner after it has served what
was queued.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import outcome
import trio

from actors._behaviour import Behaviour
from actors._errors import ActorClosed, CommitFailed, unwrap_single_error
from actors._ref import ActorRef, ClosedError, _Counters, _Envelope

__all__ = ["Actor", "ActorRef", "open_actor", "start_actor"]

DEFAULT_MAILBOX_SIZE = 1024
DEFAULT_TIMER_BATCH = 256


@attrs.define(eq=False)
class Actor:
    """An actor: a :class:`Behaviour`, its bounded mailbox, and the owner loop.

    Args:
        behaviour: the state the owner task drives.
        mailbox_size: the mailbox bound in requests (> 0); senders wait beyond it.
        timer_batch: the most timers fired between two checkpoints (> 0).
        max_batch: the most requests served per wake-up (``None``: all queued). With
            a committing behaviour, ``1`` means one commit per request (no group
            commit) — a baseline for benchmarks.
        closed_error: builds, from a message, the exception clients get when the
            mailbox is closed or the owner stopped before serving their request
            (default :class:`ActorClosed`). A layer above that names the condition its
            own way (an engine's ``EngineClosed``) passes it here, so that its request
            path needs no frame of its own to translate the error.

    If the behaviour has an ``async def commit()`` (see :class:`CommittingBehaviour`),
    the owner awaits it after each batch and only then resolves the batch's replies.

    Raises:
        ValueError: if ``mailbox_size``, ``timer_batch`` or ``max_batch`` is not a
            positive int.
    """

    behaviour: Behaviour
    mailbox_size: int = attrs.field(default=DEFAULT_MAILBOX_SIZE, kw_only=True)
    timer_batch: int = attrs.field(default=DEFAULT_TIMER_BATCH, kw_only=True)
    max_batch: int | None = attrs.field(default=None, kw_only=True)
    closed_error: ClosedError = attrs.field(default=ActorClosed, kw_only=True)
    ref: ActorRef = attrs.field(init=False)
    _receive: trio.MemoryReceiveChannel[_Envelope] = attrs.field(init=False)
    _counters: _Counters = attrs.field(init=False, factory=_Counters)
    _served: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        for name in ("mailbox_size", "timer_batch", "max_batch"):
            value = getattr(self, name)
            if name == "max_batch" and value is None:
                continue
            if type(value) is not int or value <= 0:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        send, receive = trio.open_memory_channel[_Envelope](self.mailbox_size)
        self._receive = receive
        self.ref = ActorRef(send, receive, self._counters, self.mailbox_size, self.closed_error)

    async def serve(
        self, *, task_status: trio.TaskStatus[ActorRef] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the owner loop until the mailbox is closed and drained.

        Reports :attr:`ref` through ``task_status`` (use ``nursery.start``). Requests
        still queued if the loop is cancelled get :class:`ActorClosed`. An exception
        escaping the behaviour's timers (a bug) propagates: it is not swallowed.
        """
        if self._served:
            raise RuntimeError("this actor is already served (an actor has one owner task)")
        self._served = True
        receive = self._receive
        behaviour = self.behaviour
        counters = self._counters
        receive_nowait = receive.receive_nowait
        timer_batch = self.timer_batch
        max_batch = math.inf if self.max_batch is None else self.max_batch
        commit = getattr(behaviour, "commit", None)
        clock = trio.lowlevel.current_clock()  # what trio.current_time() reads
        task_status.started(self.ref)
        # Whether the mailbox may hold requests: false right after a drain that ended
        # on an empty mailbox with no await since (nothing else ran, so nothing was
        # sent), which saves a failed receive_nowait() per wake-up.
        maybe_queued = True
        try:
            while True:
                first: _Envelope | None = None
                if maybe_queued:
                    try:
                        first = receive_nowait()
                    except trio.WouldBlock:
                        first = None
                if first is None:
                    deadline = behaviour.next_deadline()
                    if deadline == math.inf:
                        first = await receive.receive()
                    elif deadline > clock.current_time():
                        with trio.move_on_at(deadline):
                            first = await receive.receive()
                maybe_queued = True
                if first is not None:
                    batch = [first]
                    try:
                        while len(batch) < max_batch:
                            batch.append(receive_nowait())
                    except trio.WouldBlock:
                        maybe_queued = commit is not None  # a commit awaits
                    except trio.EndOfChannel:
                        pass
                    size = len(batch)
                    counters.requests += size
                    counters.batches += 1
                    if size > counters.peak:
                        counters.peak = size
                    if size > counters.max_batch:
                        counters.max_batch = size
                    if commit is None:
                        self._serve(batch)
                    else:
                        await self._serve_committed(batch, commit)
                now = clock.current_time()
                if behaviour.next_deadline() <= now:
                    counters.timers += behaviour.fire_timers(now, timer_batch)
                    counters.timer_batches += 1
                    maybe_queued = True
                    await trio.lowlevel.checkpoint()
        except trio.EndOfChannel:
            pass
        finally:
            self._fail_queued()  # before close(): closing the last receiver clears the buffer
            receive.close()
            self.ref.close()

    def _serve(self, batch: list[_Envelope]) -> None:
        """Serve a batch, resolving each reply as soon as its request is handled."""
        counters = self._counters
        handle = self.behaviour.handle
        served = 0
        try:
            for reply in batch:
                try:
                    result = handle(reply.request)
                except Exception as exc:
                    counters.errors += 1
                    delivered = reply.set_error(exc)
                else:
                    delivered = reply.set_value(result)
                if not delivered:
                    counters.dropped += 1
                served += 1
        except BaseException:
            for reply in batch[served:]:  # drained, so _fail_queued can't see them
                reply.set_error(self._stopped())
            raise

    async def _serve_committed(
        self, batch: list[_Envelope], commit: Callable[[], Awaitable[None]]
    ) -> None:
        """Serve a batch, await the behaviour's ``commit()``, then resolve the replies.

        Group commit: one commit covers every request of the batch, and no client hears
        of its request before the commit returned. If the commit raises
        :class:`CommitFailed`, the requests it names get its error and the others their
        results; any other failure gives every reply of the batch that error and
        propagates (the owner stops).
        """
        counters = self._counters
        handle = self.behaviour.handle
        results: list[outcome.Outcome[Any]] = []
        try:
            for reply in batch:
                try:
                    results.append(outcome.Value(handle(reply.request)))
                except Exception as exc:
                    counters.errors += 1
                    results.append(outcome.Error(exc))
            await commit()
        except CommitFailed as failure:
            counters.commit_failures += 1
            for index in failure.failed:
                results[index] = outcome.Error(failure.error)
            counters.errors += len(failure.failed)
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else self._stopped()
            for reply in batch:
                reply.set_error(error)
            raise
        else:
            counters.commits += 1
        for reply, result in zip(batch, results, strict=True):
            if not reply.set_outcome(result):
                counters.dropped += 1

    def _stopped(self) -> BaseException:
        return self.closed_error("the actor stopped before serving this request")

    def _fail_queued(self) -> None:
        while True:
            try:
                reply = self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            reply.set_error(self._stopped())


async def start_actor(
    nursery: trio.Nursery,
    behaviour: Behaviour,
    *,
    mailbox_size: int = DEFAULT_MAILBOX_SIZE,
    timer_batch: int = DEFAULT_TIMER_BATCH,
    max_batch: int | None = None,
) -> ActorRef:
    """Start an actor's owner task in ``nursery`` and return its handle.

    The caller must :meth:`ActorRef.close` the handle; the owner then ends after
    serving what was queued, and the nursery can exit.
    """
    actor = Actor(
        behaviour, mailbox_size=mailbox_size, timer_batch=timer_batch, max_batch=max_batch
    )
    ref: ActorRef = await nursery.start(actor.serve)
    return ref


@asynccontextmanager
async def open_actor(
    behaviour: Behaviour,
    *,
    mailbox_size: int = DEFAULT_MAILBOX_SIZE,
    timer_batch: int = DEFAULT_TIMER_BATCH,
    max_batch: int | None = None,
) -> AsyncIterator[ActorRef]:
    """Run an actor for the duration of an ``async with`` block.

    On exit the mailbox is closed and the block waits until the owner has served every
    queued request (graceful stop). An exception raised in the block reaches the
    caller as itself, not wrapped in an ``ExceptionGroup``.
    """
    with unwrap_single_error():
        async with trio.open_nursery() as nursery:
            ref = await start_actor(
                nursery,
                behaviour,
                mailbox_size=mailbox_size,
                timer_batch=timer_batch,
                max_batch=max_batch,
            )
            try:
                yield ref
            finally:
                ref.close()
