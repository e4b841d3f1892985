"""The handles: :class:`BlockingEngine` and :class:`AsyncioEngine`.

A handle is a view of one engine through one :class:`Portal`. Its facades
(``sessions``, ``memories``, ``working``, ``knowledge``) and engine methods are
generated from the trio classes; ``blocking()`` / ``asyncio()`` give a handle of the
other kind on the same engine. Closing any handle of an engine thread closes that
engine; closing a handle attached to a trio app's own run only detaches it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from contextlib import suppress
from types import TracebackType
from typing import Any, Final

from engine._api._checkpoints import Checkpoints
from engine._api._items import Items
from engine._api._knowledge import Knowledge
from engine._api._memories import Memories
from engine._api._sessions import Sessions
from engine._api._working import Working
from engine._bridge._engine_thread import EngineThread
from engine._bridge._generate import asyncio_class, blocking_class
from engine._bridge._pipelines import AsyncioPipeline, BlockingPipeline
from engine._bridge._portal import Portal
from engine._bridge._requests import settle
from engine._core._config import EngineConfig

__all__ = ["AsyncioEngine", "BlockingEngine", "blocking_handle", "asyncio_handle"]

#: The facades every engine has: attribute name -> trio class.
FACADES: Final = {
    "sessions": Sessions,
    "memories": Memories,
    "working": Working,
    "knowledge": Knowledge,
    "items": Items,
    "checkpoints": Checkpoints,
}

#: Trio engine members the handles define themselves (not generated).
HANDWRITTEN: Final = ("pipeline", "blocking", "asyncio")


class _Handle:
    """What both handle kinds share: facades, config, closing, repr.

    ``owner``: this handle started the engine thread (it warns if never closed).
    """

    #: ``blocking_class`` or ``asyncio_class``: how the facades are generated.
    _facade_kind: Callable[[type], type]

    sessions: Any
    memories: Any
    working: Any
    knowledge: Any
    items: Any
    checkpoints: Any

    def __init__(self, portal: Portal, thread: EngineThread | None, owner: bool) -> None:
        self._portal = portal
        self._target = portal.engine
        self._thread = thread
        self._owner = owner
        self._closing = False
        self.config: EngineConfig = portal.engine.config
        kind = type(self)._facade_kind
        for name, source in FACADES.items():
            setattr(self, name, kind(source)(portal, getattr(portal.engine, name), self))

    @property
    def shards(self) -> int:
        """The number of shards (Redis: partitions)."""
        shards: int = self._target.shards
        return shards

    @property
    def closed(self) -> bool:
        """Whether this handle (or the engine behind it) is closed."""
        return self._portal.mailbox.closed or bool(self._target.closed)

    def _stop(self) -> None:
        """Stop the engine thread (or detach from a trio app's run). Never blocks.

        Calls already made on the calling asyncio loop (if any) are queued first, so
        the close serves them."""
        self._closing = True
        self._portal.send_pending()
        if self._thread is None:
            self._portal.mailbox.shut("this handle is closed")
        else:
            self._thread.stop()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} {state}, {self.shards} shards>"

    def __del__(self) -> None:
        thread = getattr(self, "_thread", None)
        if not getattr(self, "_owner", False) or self._closing or thread is None:
            return
        if thread.stopped:
            return
        self._stop()
        warnings.warn(
            f"unclosed {type(self).__bases__[0].__name__}: call close() (or use "
            "open_blocking_engine() as a context manager); the engine was stopped when the "
            "handle was collected",
            ResourceWarning,
            stacklevel=2,
            source=self,
        )


class BlockingEngine(_Handle):
    """The engine for synchronous code; every method blocks the calling thread.

    Get one from :func:`engine.open_blocking_engine`, :func:`engine.start_blocking_engine`,
    ``AsyncioEngine.blocking()`` or (in a trio app) ``MemoryEngine.blocking()``.
    Safe from any number of threads at once, including an asyncio loop's thread.

    Attributes:
        sessions, memories, working, knowledge: blocking twins of the trio facades
            (:class:`engine.Sessions` ...): same methods, arguments, return values,
            errors and docstrings.
        config: the :class:`engine.EngineConfig` in force.
    """

    _facade_kind = staticmethod(blocking_class)

    def close(self) -> None:
        """Close the engine: serve what is queued, then stop. Idempotent.

        Blocks until the engine thread has ended (except when called from it). For a
        handle from ``MemoryEngine.blocking()``, only this handle is closed.
        """
        self._stop()
        thread = self._thread
        if (
            thread is not None
            and thread.thread.ident != threading.get_ident()
            and thread.thread.is_alive()
        ):
            thread.thread.join()

    def __enter__(self) -> BlockingEngine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def pipeline(self, *, raise_on_error: bool = True) -> BlockingPipeline:
        """Queue operations and run them as one request per shard when the ``with``
        block exits: ``with mem.pipeline() as p: r = p.sessions.get("s1")``.

        See :class:`engine.Pipeline` for the semantics and errors.
        """
        return BlockingPipeline(self._portal, self._target.pipeline(raise_on_error=raise_on_error))

    def asyncio(self) -> AsyncioEngine:
        """An :class:`AsyncioEngine` handle on the same engine."""
        return asyncio_handle(self._portal, self._thread)

    def call_in_engine_thread(self, fn: Any, *args: Any) -> Any:
        """Run the plain function ``fn(*args)`` in the engine's trio thread; return
        its result. For example ``mem.call_in_engine_thread(mock_clock.jump, 60)``.

        Raises:
            EngineClosed: if the engine is closed.
        """
        return self._portal.call(fn, args, {}, False)


class AsyncioEngine(_Handle):
    """The engine for asyncio code; every method is awaitable and never blocks the loop.

    Get one from :func:`engine.open_asyncio_engine` or ``BlockingEngine.asyncio()``.
    Methods that are plain in the trio API (``statistics()``, ``now()``) are awaited
    too: they run in the engine thread. Cancelling the awaiting task cancels the call
    in the engine (a call that already reached a shard may still be applied).

    Attributes:
        sessions, memories, working, knowledge: awaitable twins of the trio facades.
        config: the :class:`engine.EngineConfig` in force.
    """

    _facade_kind = staticmethod(asyncio_class)

    async def aclose(self) -> None:
        """Close the engine: serve what is queued, then stop. Idempotent; never
        blocks the loop. For a handle from ``MemoryEngine.blocking().asyncio()``,
        only this handle is closed."""
        import asyncio

        self._stop()
        thread = self._thread
        if thread is None:
            return
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def wake() -> None:
            with suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, done, None)

        thread.on_stopped(wake)
        await done
        thread.thread.join()

    async def __aenter__(self) -> AsyncioEngine:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def pipeline(self, *, raise_on_error: bool = True) -> AsyncioPipeline:
        """Queue operations and run them as one request per shard when the
        ``async with`` block exits. See :class:`engine.Pipeline`."""
        return AsyncioPipeline(self._portal, self._target.pipeline(raise_on_error=raise_on_error))

    def blocking(self) -> BlockingEngine:
        """A :class:`BlockingEngine` handle on the same engine (for worker threads)."""
        return blocking_handle(self._portal, self._thread)

    async def call_in_engine_thread(self, fn: Any, *args: Any) -> Any:
        """Run the plain function ``fn(*args)`` in the engine's trio thread."""
        return await self._portal.acall(fn, args, {}, False)


def blocking_handle(
    portal: Portal, thread: EngineThread | None, owner: bool = False
) -> BlockingEngine:
    """A :class:`BlockingEngine` (generated subclass for the engine's class)."""
    cls = blocking_class(type(portal.engine), BlockingEngine, HANDWRITTEN)
    handle: BlockingEngine = cls(portal, thread, owner)
    return handle


def asyncio_handle(
    portal: Portal, thread: EngineThread | None, owner: bool = False
) -> AsyncioEngine:
    """An :class:`AsyncioEngine` (generated subclass for the engine's class)."""
    cls = asyncio_class(type(portal.engine), AsyncioEngine, HANDWRITTEN)
    handle: AsyncioEngine = cls(portal, thread, owner)
    return handle
