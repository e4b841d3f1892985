"""``ShardmemSaver``: LangGraph's checkpoint conformance suite in full, and what it does
not cover — concurrent sync writers, thread TTL, durability, list filters."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio.testing

pytest.importorskip(
    "langgraph", reason="install the langgraph extra: pip install -e '.[langgraph]'"
)

from langgraph.checkpoint.base import empty_checkpoint

from engine.integrations.langgraph import ShardmemSaver


def test_conformance_suite_passes_in_full_with_the_extended_capabilities() -> None:
    conformance = pytest.importorskip(
        "langgraph.checkpoint.conformance",
        reason="install the test extra (langgraph-checkpoint-conformance)",
    )

    @conformance.checkpointer_test(name="ShardmemSaver")
    async def factory() -> AsyncIterator[ShardmemSaver]:
        with ShardmemSaver(shards=4) as saver:
            yield saver

    report = asyncio.run(conformance.validate(factory))
    results = report.to_dict()["results"]
    assert report.conformance_level() == "FULL", results
    for name in ("delete_for_runs", "copy_thread", "prune"):
        assert results[name]["detected"] and results[name]["passed"], name
    assert sum(r["tests_failed"] for r in results.values()) == 0
    assert sum(r["tests_passed"] for r in results.values()) >= 58


def _put(
    saver: ShardmemSaver, thread: str, parent: str | None = None, **metadata: Any
) -> dict[str, Any]:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"messages": [thread]}
    checkpoint["channel_versions"] = {"messages": saver.get_next_version(None, None)}
    configurable: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ""}
    if parent is not None:
        configurable["checkpoint_id"] = parent
    return saver.put(
        {"configurable": configurable}, checkpoint, metadata, dict(checkpoint["channel_versions"])
    )


def test_sync_writers_on_many_threads() -> None:
    with ShardmemSaver(shards=4) as saver:

        def worker(n: int) -> None:
            parent = None
            for _ in range(20):
                parent = _put(saver, f"t{n}", parent, step=n)["configurable"]["checkpoint_id"]
                saver.put_writes(
                    {
                        "configurable": {
                            "thread_id": f"t{n}",
                            "checkpoint_ns": "",
                            "checkpoint_id": parent,
                        }
                    },
                    [("messages", n)],
                    task_id="task",
                )

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(list(saver.list(None))) == 160
        latest = saver.get_tuple({"configurable": {"thread_id": "t3"}})
        assert latest is not None and latest.checkpoint["channel_values"] == {"messages": ["t3"]}
        assert latest.pending_writes == [("task", "messages", 3)]
        assert len(list(saver.list({"configurable": {"thread_id": "t3"}}, limit=5))) == 5
        assert len(list(saver.list(None, filter={"step": 3}))) == 20


def test_abandoned_threads_expire_and_writes_keep_them_alive() -> None:
    clock = trio.testing.MockClock(rate=0)
    with ShardmemSaver(thread_ttl=60, clock=clock) as saver:
        jump = saver.engine.call_in_engine_thread
        _put(saver, "idle")
        active = _put(saver, "active")
        jump(clock.jump, 40)
        saver.put_writes(active, [("messages", "x")], task_id="t")
        jump(clock.jump, 30)
        assert saver.get_tuple({"configurable": {"thread_id": "idle"}}) is None
        assert saver.get_tuple({"configurable": {"thread_id": "active"}}) is not None


def test_a_non_json_metadata_filter_is_applied_by_the_adapter() -> None:
    with ShardmemSaver() as saver:
        _put(saver, "t", tag="x")
        _put(saver, "u", tag="y")
        assert [c.metadata["tag"] for c in saver.list(None, filter={"tag": "x"})] == ["x"]
        assert list(saver.list(None, filter={"tag": {1, 2}})) == []


def test_checkpoints_survive_a_restart(tmp_path: Path) -> None:
    with ShardmemSaver(data_dir=str(tmp_path), shards=2, thread_ttl=3600) as saver:
        first = _put(saver, "t", source="input")
        _put(saver, "t", first["configurable"]["checkpoint_id"], source="loop")
        saver.put_writes(first, [("messages", "w")], task_id="task")
    with ShardmemSaver(data_dir=str(tmp_path), shards=4) as saver:
        listed = list(saver.list({"configurable": {"thread_id": "t"}}))
        assert [c.metadata["source"] for c in listed] == ["loop", "input"]
        assert listed[0].parent_config == {
            "configurable": {
                "thread_id": "t",
                "checkpoint_ns": "",
                "checkpoint_id": first["configurable"]["checkpoint_id"],
            }
        }
        assert listed[1].pending_writes == [("task", "messages", "w")]
        assert listed[0].checkpoint["channel_values"] == {"messages": ["t"]}


@pytest.mark.redis
def test_conformance_suite_passes_on_redis() -> None:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to a Redis URL to run the Redis tests")
    conformance = pytest.importorskip("langgraph.checkpoint.conformance")
    savers: list[ShardmemSaver] = []

    @conformance.checkpointer_test(name="ShardmemSaver-redis")
    async def factory() -> AsyncIterator[ShardmemSaver]:
        saver = ShardmemSaver(redis_url=url, prefix=f"lg{uuid.uuid4().hex[:10]}")
        savers.append(saver)
        yield saver

    try:
        report = asyncio.run(conformance.validate(factory))
    finally:
        for saver in savers:
            saver.engine.drop(forget=True)
            saver.close()
    assert report.conformance_level() == "FULL", report.to_dict()["results"]
