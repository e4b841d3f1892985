"""One call crossing into the engine thread, and how its answer goes back.

A request is filled in by the engine thread (``value`` or ``error``) and then
``done()`` hands it back: a blocking caller is woken through a per-call lock, an
asyncio caller through its loop's reply batch (``_loop_link.LoopLink``).
"""

from __future__ import annotations

import asyncio
from _thread import allocate_lock
from collections.abc import Callable
from typing import Any

__all__ = ["AsyncioRequest", "BlockingRequest", "Request", "settle"]


def settle(future: asyncio.Future[Any], value: Any) -> None:
    """``future.set_result(value)`` unless it is already done (e.g. cancelled)."""
    if not future.done():
        future.set_result(value)


class Request:
    """``fn(*args, **kwargs)`` to run in the engine thread (awaited if ``is_async``)."""

    __slots__ = ("args", "error", "fn", "is_async", "kwargs", "value", "worker")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], is_async: bool
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async
        self.worker: Any = None  # the engine-side worker running it (see _starter)
        self.value: Any = None
        self.error: BaseException | None = None

    def done(self) -> None:
        """Called once, in the engine thread, when ``value`` or ``error`` is set."""
        raise NotImplementedError


class BlockingRequest(Request):
    """A request whose caller thread waits on a lock the engine thread releases."""

    __slots__ = ("_lock",)

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], is_async: bool
    ) -> None:
        super().__init__(fn, args, kwargs, is_async)
        self._lock = allocate_lock()
        self._lock.acquire()

    def done(self) -> None:
        self._lock.release()

    def wait(self) -> Any:
        """Block until the engine thread answered; return the value or raise the error."""
        self._lock.acquire()
        error = self.error
        if error is not None:
            self.error = None
            try:
                raise error
            finally:
                del error
        return self.value


class AsyncioRequest(Request):
    """A request awaited through an asyncio future; cancellable on the engine side.

    ``replies`` is the caller loop's ``LoopLink`` (its ``push`` takes the answer).
    """

    __slots__ = ("future", "replies")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        is_async: bool,
        future: asyncio.Future[Any],
        replies: Any,
    ) -> None:
        super().__init__(fn, args, kwargs, is_async)
        self.future = future
        self.replies = replies

    def done(self) -> None:
        self.replies.push(self)
