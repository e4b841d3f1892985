"""Opening the coredis client of a Redis engine: URL, credentials and TLS, a cluster's
entry node, the leak workarounds, then the :class:`Connection` serving it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import coredis
import trio
from coredis.connection import TCPLocation
from coredis.retry import NoRetryPolicy

from engine._core._errors import BackendUnavailable
from engine._redis._conn import UNAVAILABLE, Connection
from engine._redis._coredis_compat import close_failed_connections, close_layout_streams
from engine._redis._keys import KeyLayout

__all__ = ["connect"]


@asynccontextmanager
async def connect(
    url: str,
    *,
    cluster: bool,
    keys: KeyLayout,
    timeout: float,
    sweep_limit: int,
    capacity: int | None = None,
    credentials: dict[str, Any] | None = None,
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
        **(credentials or {}),
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
    close_failed_connections(client)
    async with AsyncExitStack() as stack:
        stack.callback(close_layout_streams, client)
        try:
            await stack.enter_async_context(client)
        except UNAVAILABLE as error:
            raise BackendUnavailable(f"redis at {url} is unavailable: {error}") from error
        conn = Connection(client, keys, timeout, sweep_limit, capacity)
        async with trio.open_nursery() as nursery:
            await nursery.start(conn.serve)
            try:
                yield conn
            finally:
                nursery.cancel_scope.cancel()
