"""One call crossing into the engine thread, and how its answer goes back.

A request is filled in by the engine thread (``value`` or ``error``) and then
``done()`` hands it back: a blocking caller is woken through a per-call lock, an
asyncio caller through its loop's reply batch (:class:`LoopReplies`).
"""

from __future__ import annotations

import asyncio
import threading
from _thread import allocate_lock
from collections.abc import Callable
from typing import Any

__all__ = ["AsyncioRequest", "BlockingRequest", "LoopReplies", "Request", "settle"]


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


class LoopReplies:
    """Answers bound for one asyncio loop: one ``call_soon_threadsafe`` per batch.

    The engine thread appends finished requests; the first append of a batch schedules
    :meth:`_flush` on the loop, which resolves every future gathered until it runs.
    """

    __slots__ = ("_lock", "_loop", "_ready", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._ready: list[AsyncioRequest] = []
        self._scheduled = False

    def push(self, request: AsyncioRequest) -> None:
        """Queue ``request``'s answer (engine thread)."""
        with self._lock:
            self._ready.append(request)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            with self._lock:
                self._ready.clear()
                self._scheduled = False

    def _flush(self) -> None:
        """Resolve the gathered futures (loop thread)."""
        with self._lock:
            ready, self._ready = self._ready, []
            self._scheduled = False
        for request in ready:
            future = request.future
            if future.done():  # cancelled by the caller meanwhile
                continue
            if request.error is None:
                future.set_result(request.value)
            else:
                future.set_exception(request.error)
            request.error = None


class AsyncioRequest(Request):
    """A request awaited through an asyncio future; cancellable on the engine side."""

    __slots__ = ("future", "replies")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        is_async: bool,
        future: asyncio.Future[Any],
        replies: LoopReplies,
    ) -> None:
        super().__init__(fn, args, kwargs, is_async)
        self.future = future
        self.replies = replies

    def done(self) -> None:
        self.replies.push(self)
