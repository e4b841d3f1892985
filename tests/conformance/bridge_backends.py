"""The conformance backends that reach the engine through the thread bridge.

``embedded-blocking`` drives a :class:`engine.BlockingEngine` from trio's worker
threads (``trio.to_thread``: several OS threads at once when a test runs calls
concurrently); ``embedded-asyncio`` drives an :class:`engine.AsyncioEngine` on an
asyncio loop running in a thread of its own. Each adapter turns the handle back into
the trio API's shape (awaitable facades, ``async with mem.pipeline()``, a plain
``statistics()``) so the unchanged trio tests run against it.

Tests that take the ``clock`` fixture (the TTL tests) get an engine thread running on
a ``MockClock`` that only :func:`elapse` moves (by jumping it inside the engine
thread), so expiry is as exact as under ``autojump_clock``; the others run on the
real clock, as the ``embedded`` backend does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any

import trio
import trio.testing
from conformance_helpers import START, jumping

from engine import EngineConfig, open_asyncio_engine, start_blocking_engine

FACADES = ("sessions", "memories", "working", "knowledge", "items", "checkpoints")


class _Adapter:
    """Attributes of the handle, with every method made awaitable by ``_wrap``."""

    def __init__(self, target: Any, wrap: Callable[[Callable[..., Any]], Any]) -> None:
        self._target = target
        self._wrap = wrap

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in FACADES:
            return _Adapter(value, self._wrap)
        if callable(value):
            return self._wrap(value)
        return value


# ------------------------------------------------------------------ blocking


def _in_worker_thread(method: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await trio.to_thread.run_sync(partial(method, *args, **kwargs))

    return call


class _BlockingPipeline:
    def __init__(self, pipeline: Any) -> None:
        self._pipeline = pipeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)

    def __len__(self) -> int:
        return len(self._pipeline)

    async def __aenter__(self) -> _BlockingPipeline:
        self._pipeline.__enter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await trio.to_thread.run_sync(self._pipeline.__exit__, *exc)


class BlockingAdapter(_Adapter):
    """A :class:`engine.BlockingEngine` as the trio API, called from worker threads."""

    def __init__(self, target: Any) -> None:
        super().__init__(target, _in_worker_thread)

    def statistics(self) -> Any:
        return self._target.statistics()  # plain in the trio API; blocks briefly

    def pipeline(self, **options: Any) -> _BlockingPipeline:
        return _BlockingPipeline(self._target.pipeline(**options))


@asynccontextmanager
async def open_blocking(
    config: EngineConfig, snapshot: Mapping[str, Any] | None, mock_clock: bool, **options: Any
) -> AsyncIterator[BlockingAdapter]:
    """A :class:`BlockingAdapter`; ``options`` go to ``start_blocking_engine`` (e.g.
    ``redis_url=``)."""
    clock = trio.testing.MockClock() if mock_clock else None
    mem = await trio.to_thread.run_sync(
        partial(
            start_blocking_engine,
            config=config,
            start_time=START,
            snapshot=snapshot,
            clock=clock,
            **options,
        )
    )
    try:
        if clock is None:
            yield BlockingAdapter(mem)
        else:
            with jumping(partial(_in_worker_thread(mem.call_in_engine_thread), clock.jump)):
                yield BlockingAdapter(mem)
    finally:
        if "redis_url" in options and not mem.closed:
            await trio.to_thread.run_sync(partial(mem.drop, forget=True))
        await trio.to_thread.run_sync(mem.close)


# ------------------------------------------------------------------- asyncio


@contextmanager
def asyncio_loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running in a thread of its own, stopped and closed on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="conformance-asyncio", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


async def on_loop(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` on ``loop`` (another thread); await its result from trio.

    Like any trio call, one made in an already-cancelled scope never starts.
    """
    try:
        await trio.lowlevel.checkpoint_if_cancelled()
    except trio.Cancelled:
        coroutine.close()
        raise
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    token = trio.lowlevel.current_trio_token()
    done = trio.Event()
    future.add_done_callback(lambda _: token.run_sync_soon(done.set))
    await done.wait()
    return future.result()


class _AsyncioPipeline:
    def __init__(self, loop: asyncio.AbstractEventLoop, pipeline: Any) -> None:
        self._loop = loop
        self._pipeline = pipeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)

    def __len__(self) -> int:
        return len(self._pipeline)

    async def __aenter__(self) -> _AsyncioPipeline:
        await on_loop(self._loop, self._pipeline.__aenter__())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await on_loop(self._loop, self._pipeline.__aexit__(*exc))


class AsyncioAdapter(_Adapter):
    """An :class:`engine.AsyncioEngine` as the trio API, awaited on its own loop."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        def wrap(method: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
            async def call(*args: Any, **kwargs: Any) -> Any:
                return await on_loop(loop, method(*args, **kwargs))

            return call

        super().__init__(target, wrap)
        self._loop = loop

    def statistics(self) -> Any:
        return asyncio.run_coroutine_threadsafe(self._target.statistics(), self._loop).result()

    def pipeline(self, **options: Any) -> _AsyncioPipeline:
        return _AsyncioPipeline(self._loop, self._target.pipeline(**options))


@asynccontextmanager
async def open_asyncio(
    config: EngineConfig, snapshot: Mapping[str, Any] | None, mock_clock: bool
) -> AsyncIterator[AsyncioAdapter]:
    clock = trio.testing.MockClock() if mock_clock else None
    opener = open_asyncio_engine(config=config, start_time=START, snapshot=snapshot, clock=clock)

    async def enter() -> Any:
        return await opener.__aenter__()

    with asyncio_loop_thread() as loop:
        mem = await on_loop(loop, enter())
        try:
            if clock is None:
                yield AsyncioAdapter(mem, loop)
            else:
                jump = clock.jump

                async def elapse(seconds: float) -> None:
                    await on_loop(loop, mem.call_in_engine_thread(jump, seconds))

                with jumping(elapse):
                    yield AsyncioAdapter(mem, loop)
        finally:
            await on_loop(loop, opener.__aexit__(None, None, None))
