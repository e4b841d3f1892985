"""The conformance fixture: the same behaviour tests against every backend.

``mem`` is parametrized over ``embedded`` (``open_memory_engine``),
``embedded-blocking`` and ``embedded-asyncio`` (the same engine in a thread of its
own, reached through ``open_blocking_engine`` / ``open_asyncio_engine``: see
``bridge_backends``), ``redis-blocking`` (the Redis engine through
``open_blocking_engine(redis_url=...)``), ``redis``
(``open_redis_memory`` on ``$SHARDMEM_REDIS_URL``) and ``redis-cluster``
(``$SHARDMEM_REDIS_CLUSTER_URL``). The Redis ones carry the ``redis`` marker and are
skipped, saying why, when their variable is unset: the default run needs no network.
Each Redis test gets its own key prefix and drops it afterwards.

TTL tests also take ``clock``: trio's ``MockClock`` (autojump) for the embedded
engine, the real clock for Redis (whose server expiry runs in real time), and wait
with :func:`elapse`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
from bridge_backends import open_asyncio, open_blocking
from conformance_helpers import START

from engine import EngineConfig, open_memory_engine

ENV = {
    "redis": "SHARDMEM_REDIS_URL",
    "redis-cluster": "SHARDMEM_REDIS_CLUSTER_URL",
    "redis-blocking": "SHARDMEM_REDIS_URL",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis: needs a Redis server (SHARDMEM_REDIS_URL ...)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # parametrized here, not with fixture(params=...), so the ``redis`` mark is
    # built after ``pytest_configure`` registered it (strict markers)
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize(
            "backend",
            [
                pytest.param("embedded", id="embedded"),
                pytest.param("embedded-blocking", id="embedded-blocking"),
                pytest.param("embedded-asyncio", id="embedded-asyncio"),
                pytest.param("redis", id="redis", marks=pytest.mark.redis),
                pytest.param("redis-cluster", id="redis-cluster", marks=pytest.mark.redis),
                pytest.param("redis-blocking", id="redis-blocking", marks=pytest.mark.redis),
            ],
            indirect=True,
        )


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name in ENV and not os.environ.get(ENV[name]):
        pytest.skip(f"{name}: set {ENV[name]} to a Redis URL to run the Redis conformance tests")
    return name


@pytest.fixture
def clock(backend: str) -> trio.testing.MockClock | None:
    """Autojump mock clock for the embedded engine; the real clock for Redis and for
    the bridge backends (whose engine thread runs a mock clock of its own)."""
    return trio.testing.MockClock(autojump_threshold=0) if backend == "embedded" else None


@pytest.fixture
def engine_config() -> EngineConfig:
    """The engine configuration; override in a test module to change TTL policies."""
    return EngineConfig()


@pytest.fixture
def open_backend(
    backend: str, engine_config: EngineConfig, request: pytest.FixtureRequest
) -> Callable[..., Any]:
    """``open_backend(snapshot=None)``: an ``async with`` opening a fresh engine of the
    backend under test (a Redis one on a prefix of its own, dropped on exit)."""
    # TTL tests: a mock engine clock (the embedded bridge backends; Redis expires in
    # real time)
    mock_clock = "clock" in request.fixturenames and backend.startswith("embedded")

    @asynccontextmanager
    async def opener(snapshot: Mapping[str, Any] | None = None) -> AsyncIterator[Any]:
        if backend == "embedded":
            async with open_memory_engine(
                config=engine_config, start_time=START, snapshot=snapshot
            ) as engine:
                yield engine
            return
        if backend == "embedded-blocking":
            async with open_blocking(engine_config, snapshot, mock_clock) as engine:
                yield engine
            return
        if backend == "embedded-asyncio":
            async with open_asyncio(engine_config, snapshot, mock_clock) as engine:
                yield engine
            return
        pytest.importorskip("coredis", reason="install the redis extra: pip install -e '.[redis]'")
        from engine._redis._engine import open_redis_memory

        if backend == "redis-blocking":
            async with open_blocking(
                engine_config,
                snapshot,
                False,
                redis_url=os.environ[ENV[backend]],
                prefix=f"t{uuid.uuid4().hex[:12]}",
                sweep_interval=None,
            ) as engine:
                yield engine
            return

        cluster = backend == "redis-cluster"
        prefix = f"t{uuid.uuid4().hex[:12]}"
        async with open_redis_memory(
            os.environ[ENV[backend]],
            cluster=cluster,
            config=engine_config,
            shards=8 if cluster else 4,
            prefix=prefix,
            timeout=5.0,
            start_time=START,
            snapshot=snapshot,
        ) as engine:
            try:
                yield engine
            finally:
                if not engine.closed:
                    await engine.drop(forget=True)

    return opener


@pytest.fixture
async def mem(open_backend: Callable[..., Any]) -> AsyncIterator[Any]:
    """A fresh engine of the backend under test."""
    async with open_backend() as engine:
        yield engine
