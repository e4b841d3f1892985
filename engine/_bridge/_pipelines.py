"""Pipelines for the blocking and asyncio handles.

The trio :class:`engine.Pipeline` is built and filled in the caller's thread (its
queueing methods only validate and record, they never touch the engine); only its
``execute``/exit step runs in the engine thread, as one request.
"""

from __future__ import annotations

from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from engine._bridge._portal import Portal

__all__ = ["AsyncioPipeline", "BlockingPipeline"]


def _run_pure(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends (e.g. ``Pipeline.__aenter__``) to its end."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError(f"{coroutine!r} suspended")


class _Wrapped:
    __slots__ = ("_pipeline", "_portal")

    def __init__(self, portal: Portal, pipeline: Any) -> None:
        self._portal = portal
        self._pipeline = pipeline

    @property
    def sessions(self) -> Any:
        """Queue session operations (see :class:`engine.Pipeline`)."""
        return self._pipeline.sessions

    @property
    def memories(self) -> Any:
        """Queue user-memory operations (see :class:`engine.Pipeline`)."""
        return self._pipeline.memories

    @property
    def working(self) -> Any:
        """Queue working-memory operations (see :class:`engine.Pipeline`)."""
        return self._pipeline.working

    @property
    def knowledge(self) -> Any:
        """Queue knowledge operations (see :class:`engine.Pipeline`)."""
        return self._pipeline.knowledge

    def __len__(self) -> int:
        return len(self._pipeline)


class BlockingPipeline(_Wrapped):
    """:class:`engine.Pipeline` for blocking code: ``with mem.pipeline() as p:``.

    The same queueing facades and :class:`engine.PipelineResult` values; on exit the
    queued operations run (one request per shard) and the caller blocks until done.
    """

    __slots__ = ()

    def __enter__(self) -> BlockingPipeline:
        _run_pure(self._pipeline.__aenter__())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._portal.call(self._pipeline.__aexit__, (kind, error, traceback), {})

    def execute(self) -> None:
        """Send the queued operations and block until every result is known."""
        self._portal.call(self._pipeline.execute, (), {})


class AsyncioPipeline(_Wrapped):
    """:class:`engine.Pipeline` for asyncio code: ``async with mem.pipeline() as p:``."""

    __slots__ = ()

    async def __aenter__(self) -> AsyncioPipeline:
        _run_pure(self._pipeline.__aenter__())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._portal.acall(self._pipeline.__aexit__, (kind, error, traceback), {})

    async def execute(self) -> None:
        """Send the queued operations and await every result."""
        await self._portal.acall(self._pipeline.execute, (), {})
