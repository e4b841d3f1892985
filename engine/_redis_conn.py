"""The Redis connection of the engine: client, scripts, timeouts, error mapping.

Every request runs under ``trio.fail_after(timeout)``-like bound: a server that is
down, unreachable or stuck gives :class:`BackendUnavailable` within ``timeout``
seconds, never a hang. The client reconnects by itself, so calls succeed again once
the server is back. Only the Redis wiring modules import coredis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import coredis
import coredis.exceptions as redis_errors
import trio
from coredis.connection import TCPLocation
from coredis.retry import NoRetryPolicy

from engine._errors import BackendUnavailable
from engine._redis_keys import KeyLayout
from engine._redis_lua import PRELUDE, SCRIPTS
from engine._redis_lua_ops import OPS

__all__ = ["Connection", "connect"]

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,
    redis_errors.RedisClusterError,
    redis_errors.ReadOnlyError,
    TimeoutError,
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
)


class Connection:
    """A connected client with the engine's scripts registered.

    Args:
        client: an entered ``coredis.Redis`` or ``coredis.RedisCluster``.
        keys: the key layout.
        timeout: seconds a request may take before ``BackendUnavailable``.
        sweep_limit: due records a script removes before its own work.
    """

    def __init__(self, client: Any, keys: KeyLayout, timeout: float, sweep_limit: int) -> None:
        self.client = client
        self.keys = keys
        self.timeout = timeout
        self.sweep_limit = str(sweep_limit)
        self.location = repr(client)
        self.requests = 0
        self.round_trips = 0
        self.failures = 0
        self._scripts = {
            name: client.register_script(PRELUDE + body)
            for name, body in {**SCRIPTS, **OPS}.items()
        }

    def _args(self, partition: int, now: float, args: Sequence[Any]) -> tuple[list[str], list[Any]]:
        base = self.keys.base(partition)
        return [self.keys.route(partition)], [base, repr(now), self.sweep_limit, *args]

    def _unavailable(self, error: BaseException | None) -> BackendUnavailable:
        self.failures += 1
        if error is None:
            return BackendUnavailable(
                f"redis at {self.location}: no reply within {self.timeout} s (timeout)"
            )
        return BackendUnavailable(
            f"redis at {self.location} is unavailable: {type(error).__name__}: {error}"
        )

    async def run(self, name: str, partition: int, now: float, *args: Any) -> Any:
        """Run script ``name`` in ``partition``; its ARGV[4:] are ``args``.

        Raises:
            BackendUnavailable: if the server cannot be reached or does not answer
                within ``timeout`` seconds.
        """
        keys, argv = self._args(partition, now, args)
        self.requests += 1
        self.round_trips += 1
        with trio.move_on_after(self.timeout):
            try:
                return await self._scripts[name](keys=keys, args=argv)
            except _UNAVAILABLE as error:
                raise self._unavailable(error) from error
        raise self._unavailable(None)

    async def run_many(
        self, name: str, calls: Sequence[tuple[int, float, Sequence[Any]]]
    ) -> list[Any]:
        """Run script ``name`` once per ``(partition, now, args)`` in one pipeline
        (one round trip per server); return the replies in order."""
        if len(calls) == 1:
            partition, now, args = calls[0]
            return [await self.run(name, partition, now, *args)]
        script = self._scripts[name]
        self.requests += len(calls)
        self.round_trips += 1
        with trio.move_on_after(self.timeout):
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    requests = [
                        script(*self._args(partition, now, args), client=pipe)
                        for partition, now, args in calls
                    ]
                return [await request for request in requests]
            except _UNAVAILABLE as error:
                raise self._unavailable(error) from error
        raise self._unavailable(None)

    async def run_batch(self, calls: Sequence[tuple[str, int, float, Sequence[Any]]]) -> list[Any]:
        """Run each ``(script, partition, now, args)`` in one coredis pipeline
        (``transaction=False``: one round trip per server), replies in order.

        A script's own error (``ResponseError``) comes back in its place, not raised,
        so the other calls' replies stay usable.

        Raises:
            BackendUnavailable: as :meth:`run`, for the whole batch.
        """
        self.requests += len(calls)
        self.round_trips += 1
        scripts = self._scripts
        with trio.move_on_after(self.timeout):
            try:
                async with self.client.pipeline(transaction=False, raise_on_error=False) as pipe:
                    requests = [
                        scripts[name](*self._args(partition, now, args), client=pipe)
                        for name, partition, now, args in calls
                    ]
                replies: list[Any] = []
                for request in requests:
                    try:
                        replies.append(await request)
                    except redis_errors.ResponseError as error:
                        replies.append(error)
                return replies
            except _UNAVAILABLE as error:
                raise self._unavailable(error) from error
        raise self._unavailable(None)

    async def command(self, coro_factory: Any) -> Any:
        """Run a one-off client call (``lambda c: c.hsetnx(...)``) with the same bounds."""
        self.requests += 1
        self.round_trips += 1
        with trio.move_on_after(self.timeout):
            try:
                return await coro_factory(self.client)
            except _UNAVAILABLE as error:
                raise self._unavailable(error) from error
        raise self._unavailable(None)


@asynccontextmanager
async def connect(
    url: str, *, cluster: bool, keys: KeyLayout, timeout: float, sweep_limit: int
) -> AsyncIterator[Connection]:
    """Open a client for ``url`` (``redis://``/``rediss://``/``unix://``) and yield a
    :class:`Connection`. The client is closed on exit.

    Raises:
        BackendUnavailable: if the server cannot be reached within ``timeout``.
    """
    options: dict[str, Any] = {
        "decode_responses": True,
        "connect_timeout": timeout,
        "stream_timeout": timeout,
        "retry_policy": NoRetryPolicy(),
    }
    client: Any
    try:
        if cluster:
            # name the entry node as a TCPLocation: coredis' own from_url would build
            # the deprecated dict form and warn
            parsed = urlsplit(url)
            entry = TCPLocation(parsed.hostname or "localhost", parsed.port or 6379)
            client = coredis.RedisCluster.from_url(url, startup_nodes=[entry], **options)
        else:
            client = coredis.Redis.from_url(url, **options)
    except ValueError as error:
        raise BackendUnavailable(f"bad redis url {url!r}: {error}") from error
    pool = client.connection_pool
    pool.connection_class = _closing(pool.connection_class)
    async with AsyncExitStack() as stack:
        stack.callback(_close_layout_streams, client)
        try:
            await stack.enter_async_context(client)
        except _UNAVAILABLE as error:
            raise BackendUnavailable(f"redis at {url} is unavailable: {error}") from error
        yield Connection(client, keys, timeout, sweep_limit)


def _close_layout_streams(client: Any) -> None:
    """Close the error stream of coredis' cluster layout, which coredis 6.9 never
    closes (its ``__del__`` then warns ``ResourceWarning: Unclosed
    MemoryObjectSendStream``). Harmless if a later coredis closes it or renames it."""
    layout = getattr(getattr(client, "connection_pool", None), "cluster_layout", None)
    for stream in getattr(layout, "_error_stream", ()):
        close = getattr(stream, "close", None)
        if close is not None:
            close()


_STREAMS = (
    "_write_buffer_in",
    "_write_buffer_out",
    "_push_message_buffer_in",
    "_push_message_buffer_out",
    "_streamed_message_buffer_in",
    "_streamed_message_buffer_out",
)
_CLOSING: dict[Any, Any] = {}


def _closing(cls: Any) -> Any:
    """A subclass of coredis' connection class ``cls`` whose ``run`` closes the
    connection's memory streams when it ends. coredis 6.9 closes them only after a
    successful connect, so every failed attempt during an outage would otherwise
    leak six streams (``ResourceWarning`` at garbage collection)."""
    if cls in _CLOSING.values():
        return cls
    if cls not in _CLOSING:

        async def run(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                await cls.run(self, *args, **kwargs)
            finally:
                for name in _STREAMS:
                    stream = getattr(self, name, None)
                    if stream is not None:
                        stream.close()

        subclass = type(cls.__name__, (cls,), {"run": run, "__module__": __name__})
        _CLOSING[cls] = subclass
    return _CLOSING[cls]
