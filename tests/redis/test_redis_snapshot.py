"""``open_redis_memory(snapshot=...)``: only into an empty prefix; TTLs come back."""

from __future__ import annotations

from typing import Any

import pytest

from engine import InvalidArgument, Session

pytestmark = pytest.mark.redis


async def test_restoring_into_a_prefix_that_holds_records_is_refused(
    redis_mem: Any, redis_server: tuple[str, bool]
) -> None:
    from engine._redis._engine import open_redis_memory

    await redis_mem.sessions.upsert(Session(session_id="s", user_id="u"), ttl=60.0)
    snapshot = await redis_mem.snapshot()
    assert snapshot["ttls"]["sessions"] == [60.0]
    url, cluster = redis_server
    prefix = redis_mem._conn.keys.prefix
    with pytest.raises(InvalidArgument, match="empty prefix"):
        async with open_redis_memory(
            url, cluster=cluster, prefix=prefix, shards=redis_mem.shards, snapshot=snapshot
        ):
            pass
