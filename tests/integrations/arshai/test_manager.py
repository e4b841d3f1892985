"""``engine.integrations.arshai``: Arshai's ``IMemoryManager`` contract on shardmem,
its async face under Arshai's own ``WorkingMemoryAgent``, TTLs, threads, durability
and Redis."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import trio.testing

pytest.importorskip("arshai", reason="install the arshai extra: pip install -e '.[arshai]'")

from arshai.agents.hub.working_memory import WorkingMemoryAgent
from arshai.core.interfaces.iagent import IAgentInput
from arshai.core.interfaces.imemorymanager import (
    ConversationMemoryType,
    IMemoryInput,
    IWorkingMemory,
)

from engine import start_blocking_engine
from engine.integrations.arshai import AsyncShardmemMemoryManager, ShardmemMemoryManager

WORKING = ConversationMemoryType.WORKING_MEMORY


def request(cid: str = "c1", *texts: str, memory_type: Any = WORKING, **extra: Any) -> IMemoryInput:
    data = [IWorkingMemory(working_memory=t) for t in texts] or None
    return IMemoryInput(conversation_id=cid, memory_type=memory_type, data=data, **extra)


@pytest.fixture
def manager() -> Any:
    with ShardmemMemoryManager(ttl=300) as made:
        yield made


def test_store_returns_arshais_key_and_retrieve_returns_every_item(manager: Any) -> None:
    key = manager.store(request("c1", "first", "second", metadata={"k": "v"}))
    assert key == "memory:WORKING_MEMORY:c1"
    assert [m.working_memory for m in manager.retrieve(request("c1"))] == ["first", "second"]
    stored = manager.engine.working.retrieve("c1", memory_type="WORKING_MEMORY")
    assert dict(stored.metadata) == {"k": "v"}


def test_a_conversation_has_one_memory_per_memory_type(manager: Any) -> None:
    manager.store(request("c1", "working"))
    manager.store(request("c1", "short", memory_type=ConversationMemoryType.SHORT_TERM_MEMORY))
    assert manager.retrieve(request("c1"))[0].working_memory == "working"
    short = manager.retrieve(request("c1", memory_type=ConversationMemoryType.SHORT_TERM_MEMORY))
    assert short[0].working_memory == "short"
    assert manager.retrieve(request("c2")) == []


def test_update_replaces_the_items_and_keeps_the_metadata(manager: Any) -> None:
    manager.store(request("c1", "v1", metadata={"k": "v"}))
    manager.update(request("c1", "v2"))
    assert [m.working_memory for m in manager.retrieve(request("c1"))] == ["v2"]
    stored = manager.engine.working.retrieve("c1", memory_type="WORKING_MEMORY")
    assert dict(stored.metadata) == {"k": "v"}


def test_updating_a_missing_memory_warns_and_changes_nothing(
    manager: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="engine.integrations.arshai._manager"):
        manager.update(request("nobody", "text"))
    assert "No existing data found for key: memory:WORKING_MEMORY:nobody" in caplog.text
    assert manager.retrieve(request("nobody")) == []


def test_delete_and_inputs_without_data(manager: Any) -> None:
    manager.store(request("c1", "x"))
    manager.delete(request("c1"))
    assert manager.retrieve(request("c1")) == []
    manager.delete(request("c1"))  # deleting nothing is fine
    with pytest.raises(ValueError, match="No data provided to store"):
        manager.store(request("c1"))
    with pytest.raises(ValueError, match="No data provided to update"):
        manager.update(request("c1"))


def test_dicts_mean_working_memory_as_working_memory_agent_passes_them(manager: Any) -> None:
    key = manager.store({"conversation_id": "c1", "working_memory": "from a dict", "metadata": {}})
    assert key == "memory:WORKING_MEMORY:c1"
    assert manager.retrieve({"conversation_id": "c1"})[0].working_memory == "from a dict"
    with pytest.raises(TypeError, match="expected IMemoryInput or dict"):
        manager.retrieve("c1")


def test_ttl_expires_and_update_restarts_it() -> None:
    clock = trio.testing.MockClock(rate=0)
    with ShardmemMemoryManager(ttl=60, clock=clock) as manager:
        jump = manager.engine.call_in_engine_thread
        manager.store(request("c1", "x"))
        jump(clock.jump, 50)
        manager.update(request("c1", "y"))  # the TTL starts again
        jump(clock.jump, 50)
        assert manager.retrieve(request("c1"))[0].working_memory == "y"
        jump(clock.jump, 11)
        assert manager.retrieve(request("c1")) == []


def test_without_refresh_on_update_the_first_ttl_stands() -> None:
    clock = trio.testing.MockClock(rate=0)
    with ShardmemMemoryManager(ttl=60, refresh_on_update=False, clock=clock) as manager:
        jump = manager.engine.call_in_engine_thread
        manager.store(request("c1", "x"))
        jump(clock.jump, 50)
        manager.update(request("c1", "y"))
        jump(clock.jump, 11)
        assert manager.retrieve(request("c1")) == []


def test_ttl_none_never_expires_and_bad_ttls_are_refused() -> None:
    clock = trio.testing.MockClock(rate=0)
    with ShardmemMemoryManager(ttl=None, clock=clock) as manager:
        manager.store(request("c1", "forever"))
        manager.engine.call_in_engine_thread(clock.jump, 10**9)
        assert manager.retrieve(request("c1"))[0].working_memory == "forever"
    for bad in (0, -5, "60", True):
        with pytest.raises(ValueError, match="ttl: expected seconds > 0 or None"):
            ShardmemMemoryManager(ttl=bad)


def test_many_threads_at_once(manager: Any) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(100):
                manager.store(request(f"t{n}", f"{n}-{i}"))
                manager.store(request("shared", f"{n}-{i}"))
                assert manager.retrieve(request(f"t{n}"))[0].working_memory == f"{n}-{i}"
                manager.retrieve(request("shared"))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert manager.retrieve(request("shared"))[0].working_memory.endswith("-99")


def test_a_shared_engine_serves_many_managers_and_outlives_them() -> None:
    engine = start_blocking_engine()
    try:
        with ShardmemMemoryManager(engine=engine) as one:
            one.store(request("c1", "shared"))
        with ShardmemMemoryManager(engine=engine) as two:
            assert two.retrieve(request("c1"))[0].working_memory == "shared"
        assert not engine.closed
    finally:
        engine.close()


def test_durable_with_a_data_dir(tmp_path: Path) -> None:
    with ShardmemMemoryManager(data_dir=str(tmp_path), fsync="always") as manager:
        manager.store(request("c1", "kept"))
    with ShardmemMemoryManager(data_dir=str(tmp_path)) as manager:
        assert manager.retrieve(request("c1"))[0].working_memory == "kept"


class ScriptedLLM:
    """An offline ``ILLM``: answers with a numbered memory that quotes its input."""

    def __init__(self) -> None:
        self.inputs: list[str] = []

    async def chat(self, input: Any) -> dict[str, Any]:
        self.inputs.append(input.user_message)
        return {"llm_response": f"memory v{len(self.inputs)}: user said {len(self.inputs)} things"}

    async def stream(self, input: Any) -> Any:  # pragma: no cover - not used
        raise NotImplementedError


def test_working_memory_agent_remembers_across_turns() -> None:
    """Arshai's own ``WorkingMemoryAgent`` awaits ``retrieve(dict)``/``store(dict)``:
    with Arshai's ``InMemoryManager`` both fail; with the async face turn 2 sees turn 1."""

    async def main() -> tuple[list[str], ScriptedLLM, list[Any]]:
        llm = ScriptedLLM()
        memory = AsyncShardmemMemoryManager(ttl=600)
        try:
            agent = WorkingMemoryAgent(llm_client=llm, memory_manager=memory)
            meta = {"conversation_id": "conv-1"}
            results = [
                await agent.process(IAgentInput(message="I am Alice", metadata=meta)),
                await agent.process(IAgentInput(message="I like tea", metadata=meta)),
            ]
            stored = await memory.retrieve({"conversation_id": "conv-1"})
        finally:
            memory.close()
        return results, llm, stored

    results, llm, stored = asyncio.run(main())
    assert results == ["success", "success"]
    assert "No existing memory" in llm.inputs[0]
    assert "memory v1: user said 1 things" in llm.inputs[1]
    assert [m.working_memory for m in stored] == ["memory v2: user said 2 things"]


@pytest.mark.redis
def test_one_class_for_development_and_redis() -> None:
    url = os.environ.get("SHARDMEM_REDIS_URL")
    if not url:
        pytest.skip("set SHARDMEM_REDIS_URL to run the Redis test")
    pytest.importorskip("coredis", reason="install the redis extra")
    prefix = f"arshai{uuid.uuid4().hex[:8]}"
    with ShardmemMemoryManager(redis_url=url, prefix=prefix) as writer:
        writer.store(request("c1", "on redis"))
        with ShardmemMemoryManager(redis_url=url, prefix=prefix) as reader:
            assert reader.retrieve(request("c1"))[0].working_memory == "on redis"
        writer.engine.drop(forget=True)
