"""The import-light entry point of the Redis backend (coredis is an optional extra)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine._redis._engine import RedisMemoryEngine

__all__ = ["open_redis_memory"]


def open_redis_memory(*args: Any, **kwargs: Any) -> AbstractAsyncContextManager[RedisMemoryEngine]:
    """Run a memory engine on Redis/Valkey: ``async with open_redis_memory(url) as mem``.

    The drop-in sibling of ``open_memory_engine``: the same facades, records, errors
    and semantics, with the data in Redis. See ``engine._redis._engine.open_redis_memory``
    for the arguments (``url``, ``cluster``, ``shards``, ``config``, ``prefix``,
    ``timeout`` in seconds, ``sweep_interval``, ``sweep_limit``, ``start_time``,
    ``snapshot`` to restore into an empty prefix) and
    ``docs/scale-out.md`` for the key layout.

    Raises:
        ImportError: if coredis is not installed (``pip install 'shardmem[redis]'``).
        BackendUnavailable: if the server cannot be reached within ``timeout``.
    """
    try:
        from engine._redis._engine import open_redis_memory as open_redis
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"open_redis_memory needs coredis: pip install 'shardmem[redis]' ({error})"
        ) from error
    return open_redis(*args, **kwargs)
