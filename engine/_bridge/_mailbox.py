"""The cross-thread mailbox: callers append requests, the engine thread drains them.

Submitting appends to a list under a lock; only the first submission of a batch
wakes the engine thread (one ``TrioToken.run_sync_soon``). The wake-up drains every
request queued by then and starts them, so N concurrent callers cost one wake-up,
not N. Once shut, submissions raise :class:`EngineClosed` (with the reason).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import trio

from engine._bridge._requests import Request
from engine._core._errors import EngineClosed

__all__ = ["Mailbox"]


class Mailbox:
    """Requests on their way into one trio run.

    Args:
        token: the trio run's token (its ``run_sync_soon`` wakes the engine thread).
        start: called in the engine thread with each drained request, in order.
    """

    __slots__ = ("_cause", "_closed", "_lock", "_queue", "_scheduled", "_start", "_token")

    def __init__(self, token: trio.lowlevel.TrioToken, start: Callable[[Request], None]) -> None:
        self._token = token
        self._start = start
        self._lock = threading.Lock()
        self._queue: list[Request] = []
        self._scheduled = False
        self._closed: str | None = None
        self._cause: BaseException | None = None

    @property
    def token(self) -> trio.lowlevel.TrioToken:
        """The token of the trio run this mailbox feeds."""
        return self._token

    @property
    def closed(self) -> bool:
        """Whether the mailbox refuses new requests."""
        return self._closed is not None

    def check_open(self) -> None:
        """Raise :class:`EngineClosed` (with the reason) if the mailbox is shut."""
        if self._closed is not None:
            raise EngineClosed(self._closed) from self._cause

    def submit(self, request: Request) -> None:
        """Queue ``request`` (any thread); wake the engine thread if it is idle.

        Raises:
            EngineClosed: if the mailbox is shut.
        """
        with self._lock:
            if self._closed is not None:
                raise EngineClosed(self._closed) from self._cause
            self._queue.append(request)
            if self._scheduled:
                return
            self._scheduled = True
        self._wake()

    def submit_many(self, requests: list[Request]) -> None:
        """Queue several requests at once (one lock, at most one wake-up).

        Raises:
            EngineClosed: if the mailbox is shut (then none is queued).
        """
        with self._lock:
            if self._closed is not None:
                raise EngineClosed(self._closed) from self._cause
            self._queue.extend(requests)
            if self._scheduled:
                return
            self._scheduled = True
        self._wake()

    def _wake(self) -> None:
        try:
            self._token.run_sync_soon(self.drain)
        except trio.RunFinishedError:  # the run ended under us: fail what is left
            for leftover in self.shut("the engine thread has stopped"):
                leftover.error = EngineClosed("the engine thread has stopped")
                leftover.done()

    def drain(self) -> None:
        """Start every queued request (engine thread)."""
        with self._lock:
            queue, self._queue = self._queue, []
            self._scheduled = False
        start = self._start
        for request in queue:
            start(request)

    def shut(self, reason: str, cause: BaseException | None = None) -> list[Request]:
        """Refuse new requests from now on; return those still queued (any thread)."""
        with self._lock:
            if self._closed is None:
                self._closed = reason
                self._cause = cause
            queue, self._queue = self._queue, []
        return queue

    def shut_and_drain(self, reason: str) -> None:
        """Refuse new requests, then start those still queued (engine thread)."""
        for request in self.shut(reason):
            self._start(request)
