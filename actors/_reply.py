"""The one-shot reply: a tiny future that carries one result or one exception.

The owner task resolves a reply without ever awaiting; the client task waits on it.
A client that leaves (is cancelled) while waiting *abandons* the reply, and a later
resolution is silently dropped.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import outcome
import trio

T = TypeVar("T")

__all__ = ["Reply"]


class Reply(Generic[T]):
    """A one-shot future resolved by an actor and awaited by exactly one client task.

    It costs one object and no trio synchronization primitive: the waiting task parks
    with :func:`trio.lowlevel.wait_task_rescheduled` and the owner wakes it with
    :func:`trio.lowlevel.reschedule`.

    States: *pending* -> *resolved* (a value or an exception is stored, or handed
    straight to the parked waiter) or *abandoned* (the waiter was cancelled). Resolving
    twice raises :class:`RuntimeError`; resolving an abandoned reply is a no-op.
    """

    __slots__ = ("_abandoned", "_outcome", "_resolved", "_task", "_waited", "request")

    def __init__(self, request: object = None) -> None:
        #: The request this reply answers: the mailbox holds replies, each carrying
        #: its request (one object per queued request, no envelope tuple).
        self.request = request
        self._outcome: outcome.Outcome[T] | None = None
        self._task: trio.lowlevel.Task | None = None
        self._resolved = False
        self._abandoned = False
        self._waited = False

    @property
    def abandoned(self) -> bool:
        """``True`` once the waiting client was cancelled; resolutions are then dropped."""
        return self._abandoned

    @property
    def resolved(self) -> bool:
        """``True`` once :meth:`set_value` or :meth:`set_error` was called."""
        return self._resolved

    def set_value(self, value: T) -> bool:
        """Resolve with a value. Never blocks; O(1).

        Returns:
            ``True`` if a client will see it, ``False`` if the client already left.

        Raises:
            RuntimeError: if the reply was already resolved.
        """
        # _resolve inline: every served request ends here
        if self._resolved:
            raise RuntimeError("a Reply can be resolved only once")
        self._resolved = True
        if self._abandoned:
            return False
        task = self._task
        if task is not None:
            self._task = None
            trio.lowlevel.reschedule(task, outcome.Value(value))
        else:
            self._outcome = outcome.Value(value)
        return True

    def set_error(self, error: BaseException) -> bool:
        """Resolve with an exception that the waiting client will raise. Never blocks; O(1).

        Returns:
            ``True`` if a client will see it, ``False`` if the client already left.

        Raises:
            RuntimeError: if the reply was already resolved.
        """
        return self._resolve(outcome.Error(error))

    def set_outcome(self, result: outcome.Outcome[T]) -> bool:
        """Resolve with an :class:`outcome.Outcome` (a value or an error). O(1).

        Returns:
            ``True`` if a client will see it, ``False`` if the client already left.

        Raises:
            RuntimeError: if the reply was already resolved.
        """
        return self._resolve(result)

    def _resolve(self, result: outcome.Outcome[T]) -> bool:
        if self._resolved:
            raise RuntimeError("a Reply can be resolved only once")
        self._resolved = True
        if self._abandoned:
            return False
        task = self._task
        if task is not None:
            self._task = None
            trio.lowlevel.reschedule(task, result)
        else:
            self._outcome = result
        return True

    @property
    def ready(self) -> bool:
        """``True`` when a result is stored and no task waits yet (:meth:`take` works)."""
        return self._outcome is not None

    def take(self) -> T:
        """Return the stored value (or raise the stored exception) without yielding.

        For callers that checkpoint by other means (:func:`actors.gather` checkpoints
        once for several replies). Counts as the one wait of this reply. O(1).

        Raises:
            RuntimeError: if the reply is not :attr:`ready`, or was already waited on.
            BaseException: whatever the owner resolved the reply with.
        """
        result = self._outcome
        if result is None or self._waited:
            raise RuntimeError("Reply.take needs a resolved reply that nobody waited on")
        self._waited = True
        self._outcome = None
        return result.unwrap()

    async def wait(self) -> T:
        """Wait for the resolution and return the value (or raise the exception).

        Always a checkpoint. Only one task may wait on a reply.

        Raises:
            trio.Cancelled: if the waiting task is cancelled first; the reply is then
                abandoned and the owner's later resolution is dropped.
            RuntimeError: if another task is already waiting on this reply.
            BaseException: whatever the owner resolved the reply with.
        """
        if self._waited:
            raise RuntimeError("only one task may wait on a Reply, and only once")
        self._waited = True
        result = self._outcome
        if result is not None:
            self._outcome = None
            await trio.lowlevel.checkpoint()
            return result.unwrap()
        self._task = trio.lowlevel.current_task()
        value: T = await trio.lowlevel.wait_task_rescheduled(self._abort)
        return value

    def _abort(self, _: Any) -> trio.lowlevel.Abort:
        """The waiter was cancelled: abandon the reply (a bound method, not a closure
        built per wait)."""
        self._task = None
        self._abandoned = True
        return trio.lowlevel.Abort.SUCCEEDED
