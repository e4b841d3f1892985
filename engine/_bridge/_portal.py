"""Portals: how a thread outside the engine's trio run reaches the engine.

A :class:`Portal` pairs an engine with the :class:`Mailbox` of the trio run that owns
it. :meth:`Portal.call` blocks the calling thread until the answer comes back;
:meth:`Portal.acall` awaits it on the caller's asyncio loop. In the engine thread each
request of a drained batch runs on a worker task of its own (see ``_starter``), so the
engine sees the same concurrent calls, with the same cancellation, as from trio code.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable
from typing import Any

import trio

from engine._bridge._loop_link import LoopLink
from engine._bridge._mailbox import Mailbox
from engine._bridge._requests import AsyncioRequest, BlockingRequest, Request
from engine._bridge._starter import Starter
from engine._core._errors import EngineClosed, WrongThread

__all__ = ["Portal", "attach_portal"]

_get_ident = threading.get_ident


class _Cancel(Request):
    """Fire-and-forget: cancel an asyncio caller's call on the engine side."""

    __slots__ = ()

    def done(self) -> None:
        pass


class Portal:
    """A way into one engine's trio run from other threads and asyncio loops.

    Attributes:
        engine: the trio engine (``MemoryEngine`` or ``RedisMemoryEngine``).
        mailbox: the run's :class:`Mailbox`.
        ident: the engine thread's ``threading.get_ident()``.
        starter: runs drained requests in the engine thread; knows those in flight.
    """

    def __init__(self, engine: Any, mailbox: Mailbox, ident: int, starter: Starter) -> None:
        self.engine = engine
        self.mailbox = mailbox
        self.ident = ident
        self.starter = starter
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopLink] = (
            weakref.WeakKeyDictionary()
        )
        self._last: tuple[asyncio.AbstractEventLoop, LoopLink] | None = None

    def call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        is_async: bool = True,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` in the engine thread; block until it answers.

        Raises:
            WrongThread: if called from the engine's own thread (it would deadlock).
            EngineClosed: if the engine is closed or stopped before answering.
            Exception: ``fn``'s own error.
        """
        if _get_ident() == self.ident and self._in_engine_run():
            raise WrongThread(
                "a blocking engine call was made from the engine's own trio thread, where "
                "it would deadlock; there, await the trio API (mem.sessions.get(...)) instead"
            )
        request = BlockingRequest(fn, args, kwargs, is_async)
        self.mailbox.submit(request)
        return request.wait()

    def send_pending(self) -> None:
        """If called on an asyncio loop, hand its not yet sent calls to the mailbox now."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        link = self._links.get(loop)
        if link is not None:
            link.send_now()

    def _in_engine_run(self) -> bool:
        """Whether the calling code runs inside the engine's trio run (the slow check,
        made only in the engine's thread: that run may have ended)."""
        try:
            return trio.lowlevel.current_trio_token() is self.mailbox.token
        except RuntimeError:
            return False

    async def acall(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        is_async: bool = True,
    ) -> Any:
        """Await ``fn(*args, **kwargs)`` run in the engine thread, from an asyncio loop.

        Cancelling the awaiting task cancels the call in the engine thread (a call
        that already reached a shard may still be applied, as with the trio API).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise WrongThread(
                "AsyncioEngine methods must be awaited on a running asyncio loop; from "
                "trio code use the trio API, from plain threads mem.blocking()"
            ) from None
        last = self._last
        if last is not None and last[0] is loop:
            link = last[1]
        else:
            link = self._links.get(loop) or self._links.setdefault(
                loop, LoopLink(loop, self.mailbox, self.starter.defer)
            )
            self._last = (loop, link)
        future = loop.create_future()
        request = AsyncioRequest(fn, args, kwargs, is_async, future, link)
        link.submit(request)
        try:
            return await future
        except asyncio.CancelledError:
            if is_async and future.cancelled():
                with contextlib.suppress(EngineClosed):
                    link.submit(_Cancel(self.starter.cancel, (request,), {}, False))
            raise


def attach_portal(engine: Any) -> Portal:
    """A portal into the *current* trio run, for a trio app's worker threads.

    Requests run as trio system tasks of the current run; when the run ends, calls
    raise :class:`EngineClosed`.

    Raises:
        RuntimeError: if not called from inside ``trio.run``.
    """
    token = trio.lowlevel.current_trio_token()
    starter = Starter(trio.lowlevel.spawn_system_task)
    return Portal(engine, Mailbox(token, starter), _get_ident(), starter)
