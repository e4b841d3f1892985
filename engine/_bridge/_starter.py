"""Running drained requests in the engine thread, and accounting for them.

Each async request becomes one trio task (so the engine sees concurrent calls, with
the trio API's cancellation); a sync request runs inline. Requests in flight are
tracked so that, if the trio run dies under them (tasks abandoned, never resumed),
:meth:`Starter.fail_all` still answers every caller: no caller ever hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine._bridge._requests import Request
from engine._errors import EngineClosed

__all__ = ["Starter"]


class Starter:
    """Starts requests in the engine thread with ``spawn(async_fn, request)``.

    Args:
        spawn: ``nursery.start_soon`` or ``trio.lowlevel.spawn_system_task``.
    """

    __slots__ = ("_inflight", "_spawn")

    def __init__(self, spawn: Callable[..., Any]) -> None:
        self._spawn = spawn
        self._inflight: set[Request] = set()

    def __call__(self, request: Request) -> None:
        """Start ``request``: a task if async, inline if sync (engine thread)."""
        self._inflight.add(request)
        if request.is_async:
            self._spawn(self._serve, request)
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

    def _finish(self, request: Request) -> None:
        try:
            self._inflight.remove(request)
        except KeyError:  # already answered by fail_all (an abandoned task closed late)
            return
        request.done()

    async def _serve(self, request: Request) -> None:
        try:
            scope = request.scope
            if scope is None:
                request.value = await request.fn(*request.args, **request.kwargs)
            else:
                with scope:
                    request.value = await request.fn(*request.args, **request.kwargs)
                if scope.cancelled_caught:  # the asyncio caller cancelled and is gone
                    request.error = asyncio.CancelledError()
        except Exception as error:
            request.error = error
        except BaseException as error:  # Cancelled: the engine is stopping under the call
            request.error = EngineClosed(
                f"the engine stopped before the call finished ({type(error).__name__})"
            )
            raise
        finally:
            self._finish(request)

    def fail_all(self, reason: str, cause: BaseException | None) -> None:
        """Answer every request still in flight with :class:`EngineClosed` (after the
        run ended; engine thread)."""
        inflight, self._inflight = self._inflight, set()
        for request in inflight:
            error = EngineClosed(reason)
            error.__cause__ = cause
            request.error = error
            request.done()
