"""The engine's Redis backend as benchmark targets: ``redis``, ``redis-cluster``, ``redis-naive``.

``redis`` and ``redis-cluster`` are :class:`bench._targets._engine.EngineTarget` over a
``RedisMemoryEngine`` (``open_redis_memory``): the same calls as the embedded engine, so
the per-turn pipelines the workload uses go through ``mem.pipeline()`` (one coredis
pipeline of EVALSHA calls per round trip). Each run uses a fresh key prefix
(``bench-<hex>``) and drops it on exit, so runs never see each other's data.

A server that cannot be reached raises :class:`PeerUnavailable` with a one-line reason
(the runner prints ``skipped: ...``): a target is never faked.

The server URL: ``--redis-url`` / ``--redis-cluster-url``, defaulting to
``$SHARDMEM_REDIS_URL`` / ``$SHARDMEM_REDIS_CLUSTER_URL``, else
``redis://127.0.0.1:6379``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import attrs
import trio

from bench._targets._engine import EngineTarget
from bench._targets._peers import PeerUnavailable
from bench._targets._protocol import Target, TargetCounts
from engine import BackendUnavailable, open_redis_memory

__all__ = [
    "DEFAULT_REDIS_URL",
    "check_reachable",
    "REDIS_TARGETS",
    "RedisTarget",
    "default_redis_url",
    "open_redis_engine",
    "open_redis_target",
    "register_redis_targets",
]

DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379"

#: The Redis targets and the environment variable of each one's default URL.
REDIS_TARGETS: Final = {
    "redis": "SHARDMEM_REDIS_URL",
    "redis-cluster": "SHARDMEM_REDIS_CLUSTER_URL",
    "redis-naive": "SHARDMEM_REDIS_URL",
}

#: Seconds to reach the server (else the target is skipped) and a request may take.
_TIMEOUT: Final = 5.0


def default_redis_url(target: str) -> str:
    """The URL of ``target``'s server when no option names one: its environment
    variable (see :data:`REDIS_TARGETS`), else :data:`DEFAULT_REDIS_URL`."""
    return os.environ.get(REDIS_TARGETS[target]) or DEFAULT_REDIS_URL


@asynccontextmanager
async def open_redis_engine(
    url: str,
    *,
    cluster: bool,
    shards: int,
    name: str = "redis",
    sweep_interval: float | None = 1.0,
) -> AsyncIterator[Any]:
    """A ``RedisMemoryEngine`` on ``url`` with a fresh key prefix, dropped on exit.

    Raises:
        PeerUnavailable: if coredis is missing or the server cannot be reached (or is
            not a cluster when ``cluster`` is set), with a one-line reason.
    """
    try:
        import coredis  # noqa: F401  (open_redis_memory needs it)
    except ImportError:
        raise PeerUnavailable(
            f"{name}: coredis not installed (pip install 'shardmem[redis]')"
        ) from None
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    started = False
    try:
        opened = open_redis_memory(
            url, cluster=cluster, shards=shards, prefix=prefix, timeout=_TIMEOUT,
            sweep_interval=sweep_interval,
        )  # fmt: skip
        async with opened as engine:
            started = True
            try:
                yield engine
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(60):
                    await engine.drop(forget=True)
    except BackendUnavailable as error:
        if started:
            raise  # the server went away mid-run: the run fails, it is not skipped
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PeerUnavailable(f"{name}: no Redis server at {url} ({reason})") from None


_NO_COUNTS: Final = TargetCounts(sessions=0, runs=0, memories=0, working=0, records=0, expired=0)


@attrs.define(eq=False)
class RedisTarget(EngineTarget):
    """:class:`EngineTarget` over a ``RedisMemoryEngine``: counts come from the server
    (:meth:`refresh_counts`, called by the runner after the replay)."""

    _counts: TargetCounts = attrs.field(factory=lambda: _NO_COUNTS, init=False)

    async def refresh_counts(self) -> None:
        """Read the stored counts from the server (one script call per partition)."""
        engine: Any = self.engine
        self._counts = TargetCounts.of(await engine.server_statistics())

    def counts(self) -> TargetCounts:
        """The counts of the last :meth:`refresh_counts`."""
        return self._counts

    def details(self) -> dict[str, object]:
        """``mem.statistics()`` (client-side: requests, round trips, sweeps)."""
        return attrs.asdict(self.engine.statistics())


@asynccontextmanager
async def open_redis_target(
    name: str, url: str | None = None, *, shards: int = 4
) -> AsyncIterator[Target]:
    """Open the Redis target ``name`` (``"redis"``, ``"redis-cluster"``, ``"redis-naive"``)
    on ``url`` (default: :func:`default_redis_url`).

    On a cluster, the engine uses ``max(shards, 16)`` partitions so every node gets
    several.

    Raises:
        PeerUnavailable: if the server cannot be reached (one line).
        KeyError: for an unknown name.
    """
    if name not in REDIS_TARGETS:
        raise KeyError(name)
    url = url or default_redis_url(name)
    await check_reachable(name, url)
    if name == "redis-naive":
        from bench._targets._redis_naive import open_naive_redis_target

        async with open_naive_redis_target(url) as naive:
            yield naive
        return
    cluster = name == "redis-cluster"
    partitions = max(shards, 16) if cluster else shards
    async with open_redis_engine(url, cluster=cluster, shards=partitions, name=name) as engine:
        yield RedisTarget(engine, label=name)


async def check_reachable(name: str, url: str) -> None:
    """Open (and close) a TCP connection to ``url``'s host and port first, so that a
    missing server is reported before any client exists (coredis' cluster client
    leaks memory streams when its entry node refuses). ``unix://`` is not checked.

    Raises:
        PeerUnavailable: if nothing accepts the connection within the timeout.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return
    host, port = parts.hostname or "localhost", parts.port or 6379
    reason = f"no connection within {_TIMEOUT:g} s"
    with trio.move_on_after(_TIMEOUT):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError as error:
            reason = f"{type(error).__name__}: {error.strerror or error}"
        else:
            await stream.aclose()
            return
    raise PeerUnavailable(f"{name}: no Redis server at {url} ({reason})")


def register_redis_targets() -> dict[str, Callable[[Any], AbstractAsyncContextManager[Target]]]:
    """Factories for the registry's ``TARGETS``: each takes the run's ``BenchOptions``
    (it reads ``redis_url`` / ``redis_cluster_url`` and ``shards``)."""

    def factory(name: str) -> Callable[[Any], AbstractAsyncContextManager[Target]]:
        def open_target(options: Any) -> AbstractAsyncContextManager[Target]:
            option = "redis_cluster_url" if name == "redis-cluster" else "redis_url"
            return open_redis_target(name, getattr(options, option, None), shards=options.shards)

        return open_target

    return {name: factory(name) for name in REDIS_TARGETS}
