"""The coredis private attributes ``engine._redis._coredis_compat`` patches still exist
(no server needed): when a coredis upgrade moves them, this fails, loudly, instead of
the workarounds silently doing nothing (and the leaks coming back as ResourceWarnings)."""

from __future__ import annotations

import inspect

import anyio
import pytest

coredis = pytest.importorskip("coredis", reason="install the redis extra")

from coredis.connection import TCPLocation  # noqa: E402

from engine._redis._coredis_compat import (  # noqa: E402
    STREAMS,
    close_failed_connections,
    close_layout_streams,
)

NOWHERE = "redis://127.0.0.1:1"


def test_coredis_is_the_pinned_version() -> None:
    major, minor = (int(part) for part in coredis.__version__.split(".")[:2])
    assert (major, minor) >= (6, 9) and major < 7, (
        f"coredis {coredis.__version__}: recheck engine/_redis/_coredis_compat.py, then the pin"
    )


def test_a_connection_still_has_the_streams_we_close() -> None:
    client = coredis.Redis.from_url(NOWHERE)
    original = client.connection_pool.connection_class
    assert inspect.iscoroutinefunction(original.run)
    close_failed_connections(client)
    patched = client.connection_pool.connection_class
    assert issubclass(patched, original) and patched.run is not original.run
    close_failed_connections(client)  # idempotent: no subclass of the subclass
    assert client.connection_pool.connection_class is patched
    connection = patched(TCPLocation("127.0.0.1", 1))
    for name in STREAMS:
        stream = getattr(connection, name)  # AttributeError: coredis renamed it
        assert hasattr(stream, "close"), name
        stream.close()


def test_a_cluster_layout_still_has_the_error_stream_we_close() -> None:
    client = coredis.RedisCluster.from_url(NOWHERE, startup_nodes=[TCPLocation("127.0.0.1", 1)])
    streams = client.connection_pool.cluster_layout._error_stream
    assert len(streams) == 2
    close_layout_streams(client)
    send, receive = streams
    with pytest.raises(anyio.ClosedResourceError):
        send.send_nowait(None)
    with pytest.raises(anyio.ClosedResourceError):
        receive.receive_nowait()
