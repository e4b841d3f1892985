"""One asyncio loop's link to the engine thread: batched both ways.

Requests: the first call made in a loop iteration schedules :meth:`LoopLink._send`
with ``loop.call_soon`` (no system call); by the time it runs, every task of that
iteration has queued its call, and the whole batch enters the mailbox at once (one
wake-up of the engine thread).

Answers: the engine thread appends finished requests; the first one of a batch asks
``defer`` to wake the loop once the engine thread's current scheduling pass is over,
so every answer of that pass rides on one ``call_soon_threadsafe``, which carries the
batch to the loop; there :func:`_flush` resolves the futures.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from engine._bridge._mailbox import Mailbox
from engine._bridge._requests import AsyncioRequest, Request
from engine._core._errors import EngineClosed

__all__ = ["LoopLink"]


class LoopLink:
    """The requests from, and answers to, one asyncio loop.

    Args:
        loop: the asyncio loop the callers await on.
        mailbox: the engine's mailbox.
        defer: ``defer(fn)`` runs ``fn()`` at the end of the engine thread's current
            pass (or at once when that is impossible).
    """

    __slots__ = ("_defer", "_loop", "_mailbox", "_outgoing", "_ready")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        mailbox: Mailbox,
        defer: Callable[[Callable[[], None]], None],
    ) -> None:
        self._loop = loop
        self._mailbox = mailbox
        self._defer = defer
        self._outgoing: list[Request] = []
        self._ready: list[AsyncioRequest] = []

    # ------------------------------------------------------------ requests (loop)

    def submit(self, request: Request) -> None:
        """Queue ``request`` for the engine; it leaves with this iteration's batch.

        Raises:
            EngineClosed: if the engine is already closed.
        """
        self._mailbox.check_open()
        outgoing = self._outgoing
        outgoing.append(request)
        if len(outgoing) == 1:
            self._loop.call_soon(self._send)

    def send_now(self) -> None:
        """Hand this iteration's calls to the mailbox at once (before a close made on
        this loop, so that close serves them as calls made before it)."""
        if self._outgoing:
            self._send()

    def _send(self) -> None:
        batch, self._outgoing = self._outgoing, []
        if not batch:  # already sent by send_now
            return
        try:
            self._mailbox.submit_many(batch)
        except EngineClosed as error:  # closed since the calls were made
            for request in batch:
                if isinstance(request, AsyncioRequest) and not request.future.done():
                    request.future.set_exception(EngineClosed(*error.args))

    # ---------------------------------------------------------- answers (engine)

    def push(self, request: AsyncioRequest) -> None:
        """Queue ``request``'s answer (engine thread; the list is the engine thread's
        alone until :meth:`_wake` hands it to the loop whole)."""
        ready = self._ready
        ready.append(request)
        if len(ready) == 1:
            self._defer(self._wake)

    def _wake(self) -> None:
        batch, self._ready = self._ready, []
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(_flush, batch)


def _flush(ready: list[AsyncioRequest]) -> None:
    """Resolve a batch of futures (loop thread)."""
    for request in ready:
        future = request.future
        if future.done():  # cancelled by the caller meanwhile
            continue
        if request.error is None:
            future.set_result(request.value)
        else:
            future.set_exception(request.error)
        request.error = None
