"""Workarounds for coredis 6.9 resource leaks, quarantined next to the version pin.

coredis (``pyproject.toml``: ``coredis>=6.9,<7``) leaves anyio memory streams open in two
places, which our ``filterwarnings = error`` turns into failures at garbage collection
(``ResourceWarning: Unclosed MemoryObjectSendStream``):

- a connection closes its six memory streams only after a *successful* connect, so
  every failed attempt during an outage leaks them (:func:`close_failed_connections`);
- a cluster client's layout never closes its error stream (:func:`close_layout_streams`).

Both reach into coredis private attributes (:data:`STREAMS`, ``cluster_layout.
_error_stream``); ``tests/redis/test_coredis_compat.py`` fails loudly, without a server,
when an upgrade moves them. The only other coredis user is ``_conn.py``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STREAMS", "close_failed_connections", "close_layout_streams"]

#: The memory streams a coredis connection creates in ``__init__`` (private names).
STREAMS = (
    "_write_buffer_in",
    "_write_buffer_out",
    "_push_message_buffer_in",
    "_push_message_buffer_out",
    "_streamed_message_buffer_in",
    "_streamed_message_buffer_out",
)


def close_failed_connections(client: Any) -> None:
    """Make ``client``'s (a not yet entered coredis client) connections close their
    memory streams when they end, even after a failed connect (see :func:`_closing`);
    without it every refused connection leaks streams (``ResourceWarning``)."""
    pool = client.connection_pool
    pool.connection_class = _closing(pool.connection_class)


def close_layout_streams(client: Any) -> None:
    """Close the error stream of coredis' cluster layout, which coredis 6.9 never
    closes (its ``__del__`` then warns ``ResourceWarning: Unclosed
    MemoryObjectSendStream``). Harmless if a later coredis closes it or renames it."""
    layout = getattr(getattr(client, "connection_pool", None), "cluster_layout", None)
    for stream in getattr(layout, "_error_stream", ()):
        close = getattr(stream, "close", None)
        if close is not None:
            close()


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
                for name in STREAMS:
                    stream = getattr(self, name, None)
                    if stream is not None:
                        stream.close()

        subclass = type(cls.__name__, (cls,), {"run": run, "__module__": __name__})
        _CLOSING[cls] = subclass
    return _CLOSING[cls]
