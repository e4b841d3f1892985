"""The dedicated engine thread: a daemon thread running ``trio.run`` that owns an engine.

Start-up: :meth:`EngineThread.start` spawns the thread, which opens the engine and
reports through ``on_started`` (``None`` or the opening error). Stop:
:meth:`EngineThread.stop` (any thread, never blocks) refuses new requests, starts
those already queued, lets every started call finish, then closes the engine (which
serves what its shards have queued) and ends the run; ``on_stopped`` callbacks run
last, in the engine thread. If the run dies, every waiting caller gets
:class:`EngineClosed` caused by the error, never a hang.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from typing import Any

import trio

from engine._bridge._mailbox import Mailbox
from engine._bridge._portal import Portal
from engine._bridge._starter import Starter
from engine._core._errors import EngineClosed

__all__ = ["EngineThread"]

_numbers = itertools.count(1)

#: Why a call made after a normal close fails.
CLOSED = "the engine is closed"


class EngineThread:
    """A daemon thread whose trio run owns one engine.

    Args:
        open_engine: returns the ``async with`` that opens the engine (called in the
            engine thread, inside ``trio.run``).
        clock: the trio clock of the run (``None``: the system clock).
    """

    def __init__(
        self,
        open_engine: Callable[[], AbstractAsyncContextManager[Any]],
        clock: trio.abc.Clock | None = None,
    ) -> None:
        self._open_engine = open_engine
        self._clock = clock
        self._lock = threading.Lock()
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop_requested = False
        self._stopped = False
        self._stopped_callbacks: list[Callable[[], None]] = []
        self._stop_event: trio.Event | None = None
        self._on_started: Callable[[BaseException | None], None] = lambda error: None
        self.portal: Portal | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"shardmem-engine-{next(_numbers)}", daemon=True
        )

    def start(self, on_started: Callable[[BaseException | None], None]) -> None:
        """Start the thread; ``on_started(error)`` runs in it once the engine is open
        (``error`` is ``None``) or failed to open."""
        self._on_started = on_started
        self.thread.start()

    @property
    def stopped(self) -> bool:
        """Whether the run has ended."""
        return self._stopped

    def stop(self) -> None:
        """Ask the engine to close after serving what is queued. Never blocks."""
        with self._lock:
            if self._stop_requested:
                return
            self._stop_requested = True
            token = self._token
        if token is not None:
            with suppress(trio.RunFinishedError):
                token.run_sync_soon(self._stop_in_run)

    def on_stopped(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when the run has ended (at once if it has)."""
        with self._lock:
            if not self._stopped:
                self._stopped_callbacks.append(callback)
                return
        callback()

    # ---------------------------------------------------------- in the engine thread

    def _run(self) -> None:
        started = False

        def report(error: BaseException | None) -> None:
            nonlocal started
            started = True
            self._on_started(error)

        try:
            trio.run(self._main, report, clock=self._clock)
        except BaseException as error:
            self.error = error
            if not started:
                report(error)
        finally:
            if self.portal is not None:
                reason = CLOSED if self.error is None else f"the engine thread died: {self.error!r}"
                self.portal.starter.fail_all(reason, self.error)
                for request in self.portal.mailbox.shut(reason, self.error):
                    request.error = EngineClosed(reason)
                    request.done()
            with self._lock:
                self._stopped = True
                callbacks, self._stopped_callbacks = self._stopped_callbacks, []
            for callback in callbacks:
                callback()

    async def _main(self, report: Callable[[BaseException | None], None]) -> None:
        async with self._open_engine() as engine, trio.open_nursery() as nursery:
            starter = Starter(nursery.start_soon)
            self._stop_event = trio.Event()
            token = trio.lowlevel.current_trio_token()
            self.portal = Portal(engine, Mailbox(token, starter), threading.get_ident(), starter)
            with self._lock:
                self._token = token
                stop_now = self._stop_requested
            report(None)
            if stop_now:
                self._stop_in_run()
            await self._stop_event.wait()

    def _stop_in_run(self) -> None:
        assert self.portal is not None and self._stop_event is not None
        self.portal.mailbox.shut_and_drain(CLOSED)
        self.portal.starter.close()
        self._stop_event.set()
