"""The entry points: ``open_blocking_engine``, ``start_blocking_engine``,
``open_asyncio_engine``, and ``blocking()`` for a trio app's own engine."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from functools import partial
from typing import Any

import trio

from engine._bridge._engine_thread import EngineThread
from engine._bridge._handles import AsyncioEngine, BlockingEngine, asyncio_handle, blocking_handle
from engine._bridge._portal import attach_portal
from engine._bridge._requests import settle
from engine._core._config import EngineConfig

__all__ = [
    "attach_blocking",
    "open_asyncio_engine",
    "open_blocking_engine",
    "start_blocking_engine",
]


class _RedisDefault:
    """The default of an ``open_redis_memory`` option (given only with ``redis_url``)."""

    def __repr__(self) -> str:
        return "<open_redis_memory's default>"


_UNSET: Any = _RedisDefault()

#: Engine threads started by ``start_blocking_engine`` and not yet stopped.
_live: set[EngineThread] = set()
_live_lock = threading.Lock()


def _opener(
    shards: int | None,
    config: EngineConfig | None,
    snapshot: Mapping[str, Any] | None,
    start_time: float | None,
    data_dir: str | os.PathLike[str] | None,
    fsync: str | None,
    redis: dict[str, Any],
) -> Callable[[], AbstractAsyncContextManager[Any]]:
    """What the engine thread calls to open the engine: embedded, or Redis if
    ``redis`` has a ``url``."""
    common: dict[str, Any] = {
        "shards": shards,
        "config": config,
        "snapshot": snapshot,
        "start_time": start_time,
    }
    url = redis.pop("url")
    if url is None:
        given = sorted(name for name, value in redis.items() if value is not _UNSET)
        if given:
            raise TypeError(f"{', '.join(given)}: only for the Redis backend (give redis_url=)")
        from engine._embedded._engine import open_memory_engine

        return partial(open_memory_engine, data_dir=data_dir, fsync=fsync, **common)
    if data_dir is not None or fsync is not None:
        raise TypeError("data_dir, fsync: only for the embedded engine, not with redis_url=")
    from engine._redis._open import open_redis_memory

    options = {name: value for name, value in redis.items() if value is not _UNSET}
    return partial(open_redis_memory, url, **options, **common)


def _start(opener: Callable[[], AbstractAsyncContextManager[Any]], clock: Any) -> EngineThread:
    """Start an engine thread and block until its engine is open (or raise why not)."""
    ready = threading.Lock()
    ready.acquire()
    failure: list[BaseException | None] = []

    def started(error: BaseException | None) -> None:
        failure.append(error)
        ready.release()

    thread = EngineThread(opener, clock)
    thread.start(started)
    ready.acquire()
    if failure[0] is not None:
        thread.thread.join()
        raise failure[0]
    return thread


def start_blocking_engine(
    shards: int | None = None,
    *,
    config: EngineConfig | None = None,
    snapshot: Mapping[str, Any] | None = None,
    start_time: float | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    fsync: str | None = None,
    redis_url: str | None = None,
    cluster: bool = _UNSET,
    prefix: str = _UNSET,
    timeout: float = _UNSET,
    sweep_interval: float | None = _UNSET,
    sweep_limit: int = _UNSET,
    username: str | None = _UNSET,
    password: str | None = _UNSET,
    ssl_context: Any = _UNSET,
    clock: trio.abc.Clock | None = None,
) -> BlockingEngine:
    """Start an engine in a daemon thread of its own; return a blocking handle.

    For code that cannot hold a ``with`` block (framework stores are built and
    rarely closed). Call :meth:`BlockingEngine.close` when done; an unclosed handle
    warns with ``ResourceWarning`` when collected and its engine is stopped, and
    engines still running at interpreter exit are closed then (journals flushed).
    Starting costs a thread and a trio run (about a millisecond).

    Args:
        shards, config, snapshot, start_time, data_dir, fsync: as
            :func:`engine.open_memory_engine`.
        redis_url: run the Redis backend (:func:`engine.open_redis_memory`) on this
            URL instead of the embedded engine; ``cluster``, ``prefix``, ``timeout``
            (seconds), ``sweep_interval`` (seconds), ``sweep_limit``, ``username``,
            ``password`` and ``ssl_context`` are its options.
        clock: the trio clock the engine thread runs on (default: the system clock),
            e.g. ``trio.testing.MockClock()`` for deterministic TTL tests; move it with
            ``mem.call_in_engine_thread(clock.jump, seconds)``.

    Raises:
        TypeError, InvalidArgument, JournalCorrupt, BlockingIOError,
            BackendUnavailable: as the trio entry points, raised here in the caller.
    """
    opener = _opener(
        shards,
        config,
        snapshot,
        start_time,
        data_dir,
        fsync,
        {
            "url": redis_url,
            "cluster": cluster,
            "prefix": prefix,
            "timeout": timeout,
            "sweep_interval": sweep_interval,
            "sweep_limit": sweep_limit,
            "username": username,
            "password": password,
            "ssl_context": ssl_context,
        },
    )
    thread = _start(opener, clock)
    assert thread.portal is not None
    with _live_lock:
        _live.add(thread)
    thread.on_stopped(partial(_forget, thread))
    handle: BlockingEngine = blocking_handle(thread.portal, thread, owner=True)
    return handle


@contextmanager
def open_blocking_engine(
    shards: int | None = None,
    *,
    config: EngineConfig | None = None,
    snapshot: Mapping[str, Any] | None = None,
    start_time: float | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    fsync: str | None = None,
    redis_url: str | None = None,
    cluster: bool = _UNSET,
    prefix: str = _UNSET,
    timeout: float = _UNSET,
    sweep_interval: float | None = _UNSET,
    sweep_limit: int = _UNSET,
    username: str | None = _UNSET,
    password: str | None = _UNSET,
    ssl_context: Any = _UNSET,
    clock: trio.abc.Clock | None = None,
) -> Iterator[BlockingEngine]:
    """Run an engine in its own thread for the duration of a ``with`` block.

    ``with open_blocking_engine() as mem: mem.sessions.upsert(Session(...))``. The
    handle's methods block the calling thread and are safe from any number of
    threads at once. On exit the engine serves what was queued, then stops; later
    calls raise :class:`engine.EngineClosed`. Arguments as
    :func:`start_blocking_engine`.
    """
    mem = start_blocking_engine(
        shards,
        config=config,
        snapshot=snapshot,
        start_time=start_time,
        data_dir=data_dir,
        fsync=fsync,
        redis_url=redis_url,
        cluster=cluster,
        prefix=prefix,
        timeout=timeout,
        sweep_interval=sweep_interval,
        sweep_limit=sweep_limit,
        username=username,
        password=password,
        ssl_context=ssl_context,
        clock=clock,
    )
    with mem:
        yield mem


@asynccontextmanager
async def open_asyncio_engine(
    shards: int | None = None,
    *,
    config: EngineConfig | None = None,
    snapshot: Mapping[str, Any] | None = None,
    start_time: float | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    fsync: str | None = None,
    redis_url: str | None = None,
    cluster: bool = _UNSET,
    prefix: str = _UNSET,
    timeout: float = _UNSET,
    sweep_interval: float | None = _UNSET,
    sweep_limit: int = _UNSET,
    username: str | None = _UNSET,
    password: str | None = _UNSET,
    ssl_context: Any = _UNSET,
    clock: trio.abc.Clock | None = None,
) -> AsyncIterator[AsyncioEngine]:
    """Run an engine in its own thread for the duration of an ``async with`` block
    on an asyncio loop: ``async with open_asyncio_engine() as mem: await
    mem.sessions.get("s1")``. Nothing blocks the loop, start-up and close included.
    Arguments as :func:`start_blocking_engine`.
    """
    opener = _opener(
        shards,
        config,
        snapshot,
        start_time,
        data_dir,
        fsync,
        {
            "url": redis_url,
            "cluster": cluster,
            "prefix": prefix,
            "timeout": timeout,
            "sweep_interval": sweep_interval,
            "sweep_limit": sweep_limit,
            "username": username,
            "password": password,
            "ssl_context": ssl_context,
        },
    )
    loop = asyncio.get_running_loop()
    started: asyncio.Future[BaseException | None] = loop.create_future()

    def report(error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the opener is gone
            loop.call_soon_threadsafe(settle, started, error)

    thread = EngineThread(opener, clock)
    thread.start(report)
    try:
        error = await started
    except asyncio.CancelledError:
        thread.stop()
        raise
    if error is not None:
        thread.thread.join()
        raise error
    assert thread.portal is not None
    mem: AsyncioEngine = asyncio_handle(thread.portal, thread, owner=True)
    async with mem:
        yield mem


def attach_blocking(engine: Any) -> BlockingEngine:
    """``MemoryEngine.blocking()``: a blocking handle on a trio app's own engine."""
    handle: BlockingEngine = blocking_handle(attach_portal(engine), None)
    return handle


def _forget(thread: EngineThread) -> None:
    with _live_lock:
        _live.discard(thread)


@atexit.register
def _close_at_exit() -> None:
    """Close engines still running at interpreter exit (their handles were not)."""
    with _live_lock:
        threads = list(_live)
    for thread in threads:
        warnings.warn(
            "a shardmem engine started with start_blocking_engine() was never closed; "
            "closing it at exit",
            ResourceWarning,
            stacklevel=1,
        )
        thread.stop()
    for thread in threads:
        thread.thread.join(timeout=10)
