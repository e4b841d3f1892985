"""Fixtures of the Redis tests: the ``redis`` marker and engines on the CI servers.

``redis_url`` is parametrized over the standalone server (``$SHARDMEM_REDIS_URL``) and
the cluster (``$SHARDMEM_REDIS_CLUSTER_URL``) and skips, saying why, when its variable
is unset: the default run needs no network. ``redis_mem`` is an engine on it with a
key prefix of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

ENV = {"standalone": "SHARDMEM_REDIS_URL", "cluster": "SHARDMEM_REDIS_CLUSTER_URL"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis: needs a Redis server (started by the test)")


@pytest.fixture(params=sorted(ENV))
def redis_server(request: pytest.FixtureRequest) -> tuple[str, bool]:
    """``(url, cluster)`` of a configured server; skips when its variable is unset."""
    kind: str = request.param
    url = os.environ.get(ENV[kind])
    if not url:
        pytest.skip(f"redis {kind}: set {ENV[kind]} to a Redis URL to run this test")
    pytest.importorskip("coredis", reason="install the redis extra: pip install -e '.[redis]'")
    return url, kind == "cluster"


@pytest.fixture
async def redis_mem(redis_server: tuple[str, bool]) -> AsyncIterator[Any]:
    """A :class:`RedisMemoryEngine` on a fresh prefix, dropped (meta key too) after."""
    from engine._redis._engine import open_redis_memory

    url, cluster = redis_server
    prefix = f"t{uuid.uuid4().hex[:12]}"
    async with open_redis_memory(
        url, cluster=cluster, shards=8 if cluster else 4, prefix=prefix, sweep_interval=None
    ) as engine:
        try:
            yield engine
        finally:
            await engine.drop(forget=True)
