"""``agno-shardmem`` and ``agno-shardmem-redis``: Agno's db calls of the replay on
``ShardmemDb`` hold the same sessions, runs and memories, and find the same history, as
on Agno's ``InMemoryDb``."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("agno", reason="agno is not installed")

from bench._targets._peer_targets import PEER_OPERATIONS, open_peer_target
from tests.bench.targets.test_peers import CONFIG, _replay


async def _outcome(peer: str) -> tuple[object, ...]:
    async with open_peer_target(peer, working_ttl=CONFIG.working_ttl) as target:
        recorder, tally, counts = await _replay(target)
        details = target.details()
    assert details["package"] == "agno" and details["version"]
    ops = tuple(recorder.count(op) for op in sorted(PEER_OPERATIONS["agno"]))
    return counts, ops, tally.history_messages, tally.memory_hits


async def test_the_agno_adapter_replays_what_agno_replays() -> None:
    assert await _outcome("agno-shardmem") == await _outcome("agno")
    assert PEER_OPERATIONS["agno-shardmem"] == PEER_OPERATIONS["agno"]


@pytest.mark.redis
async def test_the_agno_adapter_on_redis_replays_what_agno_replays() -> None:
    if not os.environ.get("SHARDMEM_REDIS_URL"):
        pytest.skip("set SHARDMEM_REDIS_URL to run the Redis test")
    pytest.importorskip("coredis", reason="install the redis extra")
    assert await _outcome("agno-shardmem-redis") == await _outcome("agno")
