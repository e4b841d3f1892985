"""Running drained requests in the engine thread, and accounting for them.

Async requests run on a pool of worker tasks: a drained request goes to an idle
worker (one ``trio.lowlevel.reschedule``) or, if none is idle, to a new one. Spawning
a task and entering a cancel scope per call cost about 9 us; a woken worker costs a
fraction of that. Each worker runs inside a cancel scope of its own, so cancelling
one call (an asyncio caller gave up) cancels that worker's scope; the worker answers,
exits, and later calls get a fresh one. Sync requests run inline.

Requests in flight are tracked so that, if the trio run dies under them (tasks
abandoned, never resumed), :meth:`Starter.fail_all` still answers every caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import outcome
import trio

from engine._bridge._requests import Request
from engine._core._errors import EngineClosed

__all__ = ["Starter"]


async def _call(fn: Callable[[], None]) -> None:
    fn()


class _Worker:
    """One worker task: its current request (``None`` when idle) and cancel scope."""

    __slots__ = ("_starter", "request", "scope", "task")

    def __init__(self, starter: Starter, scope: trio.CancelScope) -> None:
        self._starter = starter
        self.scope = scope
        self.task = trio.lowlevel.current_task()
        self.request: Request | None = None

    def abort(self, raise_cancel: Any) -> trio.lowlevel.Abort:
        """An idle worker is cancelled (the run is ending): it leaves the pool."""
        idle = self._starter._idle
        if self in idle:
            idle.remove(self)
        return trio.lowlevel.Abort.SUCCEEDED


class Starter:
    """Starts requests in the engine thread with ``spawn(async_fn, request)``.

    Args:
        spawn: ``nursery.start_soon`` or ``trio.lowlevel.spawn_system_task``; used to
            add a worker when none is idle.
    """

    __slots__ = ("_closed", "_idle", "_inflight", "_spawn")

    def __init__(self, spawn: Callable[..., Any]) -> None:
        self._spawn = spawn
        self._inflight: set[Request] = set()
        self._idle: list[_Worker] = []
        self._closed = False

    def __call__(self, request: Request) -> None:
        """Start ``request``: on a worker if async, inline if sync (engine thread)."""
        self._inflight.add(request)
        if request.is_async:
            if self._idle:
                worker = self._idle.pop()
                worker.request = request
                trio.lowlevel.reschedule(worker.task, outcome.Value(request))
            else:
                self._spawn(self._work, request)
            return
        try:
            request.value = request.fn(*request.args, **request.kwargs)
        except Exception as error:
            request.error = error
        except BaseException as error:  # it will end the run: answer first
            request.error = error
            self._finish(request)
            raise
        self._finish(request)

    def defer(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` once the tasks already runnable in this pass have run (as a
        one-shot task; engine thread), or at once if the run is over."""
        try:
            self._spawn(_call, fn)
        except RuntimeError:  # no run (fail_all after the end) or the nursery closed
            fn()

    def cancel(self, request: Request) -> None:
        """Cancel ``request`` if a worker is running it (engine thread)."""
        worker = request.worker
        if worker is not None and worker.request is request:
            worker.scope.cancel()

    def close(self) -> None:
        """No more requests will come: idle workers exit, busy ones after their call."""
        self._closed = True
        idle, self._idle = self._idle, []
        for worker in idle:
            trio.lowlevel.reschedule(worker.task, outcome.Value(None))

    def _finish(self, request: Request) -> None:
        try:
            self._inflight.remove(request)
        except KeyError:  # already answered by fail_all (an abandoned task closed late)
            return
        request.done()

    async def _work(self, first: Request) -> None:
        request: Request | None = first
        with trio.CancelScope() as scope:
            worker = _Worker(self, scope)
            while request is not None:
                worker.request = request
                request.worker = worker
                try:
                    request.value = await request.fn(*request.args, **request.kwargs)
                except Exception as error:
                    request.error = error
                except BaseException as error:  # Cancelled: by its caller, or at shutdown
                    if scope.cancel_called:
                        request.error = asyncio.CancelledError()
                    else:
                        request.error = EngineClosed(
                            f"the engine stopped before the call finished ({type(error).__name__})"
                        )
                    self._finish(request)
                    raise
                worker.request = None
                self._finish(request)
                if self._closed:
                    return
                self._idle.append(worker)
                request = await trio.lowlevel.wait_task_rescheduled(worker.abort)

    def fail_all(self, reason: str, cause: BaseException | None) -> None:
        """Answer every request still in flight with :class:`EngineClosed` (after the
        run ended; engine thread)."""
        inflight, self._inflight = self._inflight, set()
        for request in inflight:
            error = EngineClosed(reason)
            error.__cause__ = cause
            request.error = error
            request.done()
