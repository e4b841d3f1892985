"""The engine as a whole: snapshot/restore, drop, statistics, closing, overload."""

from __future__ import annotations

import json

import pytest
import trio
from trio.testing import MockClock

from engine import (
    EngineClosed,
    EngineConfig,
    InvalidArgument,
    KnowledgeDoc,
    MemoryEngine,
    Message,
    Overloaded,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
)
from engine._store._store import ShardStore

from .conftest import START


def _records(snapshot: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in snapshot.items() if key != "taken_at"}


async def _fill(mem: MemoryEngine) -> None:
    for i in range(40):
        await mem.sessions.upsert(
            Session(session_id=f"s{i}", user_id=f"u{i % 4}", state={"n": i, "tags": ["a"]})
        )
        await mem.sessions.append_run(
            f"s{i}", Run(run_id="r1", messages=(Message(role="user", content=f"hello {i}"),))
        )
        await mem.memories.upsert(
            UserMemory(user_id=f"u{i % 4}", memory_id=f"m{i}", memory=f"fact {i}", topics=("t",))
        )
        await mem.working.store(f"c{i}", f"note {i}", ttl=100 + i)
        await mem.knowledge.upsert(KnowledgeDoc(doc_id=f"d{i}", name=f"doc {i}"))


@pytest.mark.parametrize("shards", [1, 3, 7])
async def test_snapshot_restores_into_any_shard_count(
    shards: int, autojump_clock: MockClock
) -> None:
    async with open_memory_engine(shards=4, start_time=START) as mem:
        await _fill(mem)
        snapshot = await mem.snapshot()
    text = json.dumps(snapshot)  # JSON-safe as it is
    assert json.loads(text) == snapshot
    restored_at = START + 1
    async with open_memory_engine(
        shards=shards, snapshot=json.loads(text), start_time=restored_at
    ) as restored:
        assert _records(await restored.snapshot()) == _records(snapshot)
        assert restored.statistics().records == 160
        assert len(await restored.sessions.list(user_id="u1")) == 10
        found = await restored.memories.search("u2", "fact 6")
        assert found[0].memory_id == "m6"
        got = await restored.working.retrieve("c3")
        assert got is not None and got.expires_at == got.created_at + 103


async def test_snapshot_is_a_copy(mem: MemoryEngine) -> None:
    await mem.sessions.upsert(Session(session_id="s", state={"k": [1]}))
    snapshot = await mem.snapshot()
    snapshot["sessions"][0]["state"]["k"].append(2)
    got = await mem.sessions.get("s")
    assert got is not None and got.state == {"k": (1,)}


async def test_restore_drops_records_expired_while_down(autojump_clock: MockClock) -> None:
    async with open_memory_engine(start_time=START) as mem:
        await mem.working.store("short", "x", ttl=10)
        await mem.working.store("long", "y", ttl=1000)
        snapshot = await mem.snapshot()
    async with open_memory_engine(start_time=START + 500, snapshot=snapshot) as mem:
        assert await mem.working.retrieve("short") is None
        assert await mem.working.retrieve("long") is not None
        await trio.sleep(500)
        assert await mem.working.retrieve("long") is None
        assert mem.statistics().expired == 1


@pytest.mark.parametrize(
    ("snapshot", "error", "match"),
    [
        ([], TypeError, "expected a dict"),
        ({"format": "other", "version": 1}, InvalidArgument, "format"),
        ({"format": "shardmem.snapshot", "version": 99}, InvalidArgument, "version"),
        ({"format": "shardmem.snapshot", "version": 1, "extra": 1}, InvalidArgument, "extra"),
        (
            {"format": "shardmem.snapshot", "version": 1, "sessions": [{"session_id": "s"}]},
            InvalidArgument,
            "created_at",
        ),
        (
            {
                "format": "shardmem.snapshot",
                "version": 1,
                "sessions": [{"session_id": "s", "bogus": 1}],
            },
            InvalidArgument,
            r"snapshot\['sessions'\]\[0\].*bogus",
        ),
    ],
)
async def test_bad_snapshot_is_rejected_before_start(
    snapshot: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        async with open_memory_engine(snapshot=snapshot):  # type: ignore[arg-type]
            pytest.fail("the engine must not start")


async def test_drop_removes_everything(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _fill(mem)
    assert await mem.drop() == 160
    stats = mem.statistics()
    assert stats.records == 0 and stats.runs == 0
    assert await mem.sessions.list() == []
    assert await mem.memories.topics() == []
    for store in mem._stores:  # type: ignore[attr-defined]
        store._check()
        assert len(store.expiry) == 0


async def test_statistics(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _fill(mem)
    stats = mem.statistics()
    assert (stats.sessions, stats.runs, stats.memories, stats.working, stats.knowledge) == (
        40,
        40,
        40,
        40,
        40,
    )
    assert stats.records == 160 and len(stats.shards) == 4 and not stats.closed
    assert stats.requests == 200
    assert sum(s.store.expiry_entries for s in stats.shards) == 40
    with pytest.raises(AttributeError):
        stats.closed = True  # type: ignore[misc]
    await trio.sleep(200)
    assert mem.statistics().expired == 40
    assert sum(s.timers_fired for s in mem.statistics().shards) == 40


async def test_closed_engine_raises_engine_closed() -> None:
    async with open_memory_engine() as mem:
        pass
    assert mem.closed and mem.statistics().closed
    with pytest.raises(EngineClosed):
        await mem.sessions.get("s")
    with pytest.raises(EngineClosed):
        await mem.sessions.list()


async def test_close_serves_what_was_queued() -> None:
    results: list[Session] = []
    async with open_memory_engine(shards=2) as mem, trio.open_nursery() as nursery:
        for i in range(50):
            nursery.start_soon(
                lambda i=i: _append(mem.sessions.upsert(Session(session_id=f"s{i}")), results)
            )
        await trio.testing.wait_all_tasks_blocked()
    assert len(results) == 50


async def _append(call: object, into: list[Session]) -> None:
    into.append(await call)  # type: ignore[misc]


async def test_when_full_reject_raises_overloaded() -> None:
    config = EngineConfig(shards=1, mailbox_size=2, when_full="reject")
    errors: list[Exception] = []
    done: list[object] = []

    async def call(i: int) -> None:
        try:
            done.append(await mem.knowledge.get(f"d{i}"))
        except Overloaded as error:
            errors.append(error)

    async with open_memory_engine(config=config) as mem:
        async with trio.open_nursery() as nursery:
            for i in range(10):
                nursery.start_soon(call, i)
        # 10 clients queued at once into a mailbox of 2: some were rejected, none lost.
        assert errors and len(errors) + len(done) == 10
        assert "mailbox full" in str(errors[0])
        assert await mem.knowledge.get("x") is None  # still serving


async def test_a_failing_request_leaves_the_shard_serving_and_unchanged(
    mem: MemoryEngine,
) -> None:
    await mem.sessions.upsert(Session(session_id="s", user_id="alice"))
    before = await mem.snapshot()
    for _ in range(3):
        with pytest.raises(Exception, match="owned by another user"):
            await mem.sessions.upsert(Session(session_id="s", user_id="mallory"))
    assert _records(await mem.snapshot()) == _records(before)
    assert sum(s.errors for s in mem.statistics().shards) == 3


def test_store_methods_take_now_first() -> None:
    # The pure core never reads a clock: time is always an argument.
    import inspect

    for name, method in inspect.getmembers(ShardStore, inspect.isfunction):
        if name.startswith("_") or name in (
            "counts",
            "next_deadline",
            "identity",
            "ttl_of",
            "reconfigure",
            "holds",
            "stored_row",
        ):
            continue
        assert list(inspect.signature(method).parameters)[1] == "now", name
