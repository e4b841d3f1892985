"""The client handle of an actor (:class:`ActorRef`) and the owner's counters it reads."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import attrs
import trio

from actors._errors import ActorClosed
from actors._reply import Reply
from actors._statistics import ActorStatistics

__all__ = ["ActorRef", "ClosedError"]

_Envelope = Reply[Any]  # a queued request: its reply, carrying the request

#: ``closed_error(message)``: the exception a client gets when the mailbox is closed
#: or the owner stopped before serving its request.
ClosedError = Callable[[str], BaseException]


@attrs.define(eq=False)
class _Counters:
    """Mutable counters written only by the owner task."""

    peak: int = 0
    requests: int = 0
    batches: int = 0
    max_batch: int = 0
    errors: int = 0
    dropped: int = 0
    timers: int = 0
    timer_batches: int = 0
    commits: int = 0
    commit_failures: int = 0


@attrs.define(eq=False)
class ActorRef:
    """The client handle of an actor: send requests, await replies, close the mailbox.

    Any number of tasks may share one handle. Requests from one task are served in the
    order that task sent them.
    """

    _send: trio.MemorySendChannel[_Envelope]
    _receive: trio.MemoryReceiveChannel[_Envelope]
    _counters: _Counters
    _capacity: int
    _closed_error: ClosedError = ActorClosed
    _closed: bool = False

    async def ask(self, message: object) -> Any:
        """Send ``message`` and wait for the owner's result.

        Waits for mailbox space when the mailbox is full (backpressure).

        Cancellation: cancelled before the request is queued, it is never applied;
        cancelled after, it may still be applied and its reply is dropped.

        Raises:
            ActorClosed: if the mailbox is closed, or the owner has stopped (or the
                actor's ``closed_error``).
            Exception: whatever the behaviour's handler raised for this request.
        """
        # send() and Reply.wait() inlined: this is the hot path of every request.
        await trio.lowlevel.checkpoint_if_cancelled()
        reply: Reply[Any] = Reply(message)
        try:
            try:
                self._send.send_nowait(reply)
            except trio.WouldBlock:
                await self._send.send(reply)  # yields: the owner may have served it
                return await reply.wait()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise self._closed_error("the actor's mailbox is closed") from None
        # Queued without yielding, so the owner has not run and the reply is pending:
        # park at once (Reply.wait's pending branch, without its coroutine frame).
        reply._waited = True
        reply._task = trio.lowlevel.current_task()
        return await trio.lowlevel.wait_task_rescheduled(reply._abort)

    async def send(self, message: object) -> Reply[Any]:
        """Queue ``message``, waiting for mailbox space if needed; return its reply.

        Yields only when it must wait for mailbox space (``ask`` always yields, when it
        waits for the reply). A request is queued only if the calling task was not
        already cancelled.

        Raises:
            ActorClosed: if the mailbox is closed.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        reply: Reply[Any] = Reply(message)
        try:
            try:
                self._send.send_nowait(reply)
            except trio.WouldBlock:
                await self._send.send(reply)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise self._closed_error("the actor's mailbox is closed") from None
        return reply

    def send_nowait(self, message: object) -> Reply[Any]:
        """Queue ``message`` if the mailbox has room; return its reply. Never blocks.

        Raises:
            trio.WouldBlock: if the mailbox is full.
            ActorClosed: if the mailbox is closed.
        """
        reply: Reply[Any] = Reply(message)
        try:
            self._send.send_nowait(reply)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise self._closed_error("the actor's mailbox is closed") from None
        return reply

    def close(self) -> None:
        """Close the mailbox: no new requests; the owner serves what is queued, then ends.

        Idempotent. Clients waiting for mailbox space get :class:`ActorClosed`.
        """
        self._closed = True
        self._send.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def free_slots(self) -> int:
        """How many requests the mailbox can take now without waiting. O(1)."""
        return self._capacity - self._receive.statistics().current_buffer_used

    def statistics(self) -> ActorStatistics:
        """A frozen snapshot of the mailbox and the owner's counters. O(1)."""
        c = self._counters
        return ActorStatistics(
            mailbox_capacity=self._capacity,
            mailbox_depth=self._receive.statistics().current_buffer_used,
            mailbox_peak=c.peak,
            requests=c.requests,
            batches=c.batches,
            max_batch=c.max_batch,
            errors=c.errors,
            dropped_replies=c.dropped,
            timers_fired=c.timers,
            timer_batches=c.timer_batches,
            commits=c.commits,
            commit_failures=c.commit_failures,
            closed=self._closed,
        )

    def __del__(self) -> None:
        if not self._closed:
            warnings.warn(
                f"unclosed {type(self).__name__}: close it, or use open_actor()",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )
