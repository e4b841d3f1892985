"""Recovery semantics of a durable engine: TTLs across restarts, re-sharding, restoring
a snapshot into a data directory, and requests the journal cannot hold.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

from engine import (
    EngineConfig,
    InvalidArgument,
    KindPolicy,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
)
from engine._durable._data_dir import MANIFEST
from engine._durable._format import (
    decode_snapshot,
)
from engine._embedded._durable_shard import DurableShard

from ._durable_support import (
    START,
    assert_routed,
    compacted,
    copy_dir,
    entries,
    files,
    fill,
    journal_files,
    session_ids_named,
    strip,
)

# ---------------------------------------------------------------------- TTLs


@pytest.mark.parametrize("compact", [False, True], ids=["journal", "snapshot"])
async def test_ttls_survive_a_restart(
    tmp_path: Path, mock_clock: trio.testing.MockClock, compact: bool
) -> None:
    config = EngineConfig(shards=2, compact_min_bytes=1 if compact else 1 << 20)
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        await mem.working.store("short", "x", ttl=100)
        await mem.working.store("long", "y", ttl=1000)
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="z"), ttl=300)
        await mem.sessions.upsert(Session(session_id="forever", user_id="u"))
        mock_clock.jump(10)
        await mem.working.update("long", "y2")  # refresh_on_update: deadline restarts
    long_deadline = START + 10 + 1000

    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START + 50) as mem:
        short = await mem.working.retrieve("short")
        assert short is not None and short.expires_at == START + 100  # absolute deadline
        assert (await mem.working.retrieve("long")).expires_at == long_deadline  # type: ignore[union-attr]
        mock_clock.jump(60)  # START + 110: the sweep expires it in this run
        await trio.testing.wait_all_tasks_blocked()
        assert await mem.working.retrieve("short") is None
        assert sum(s.store.expired_working for s in mem.statistics().shards) == 1
        # the TTL a record was written with survives too: an update restarts 1000 s
        updated = await mem.working.update("long", "y3")
        assert updated.expires_at == START + 110 + 1000

    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START + 500) as mem:
        stats = mem.statistics()
        assert stats.records == 2  # the memory expired while the engine was down
        assert await mem.memories.get("m", user_id="u") is None
        assert (await mem.working.retrieve("long")).expires_at == START + 1110  # type: ignore[union-attr]
        assert await mem.sessions.get("forever") is not None
        assert sum(s.store.expiry_entries for s in stats.shards) == 1


async def test_refreshing_reads_are_journaled(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    policy = KindPolicy(default_ttl=None, refresh_on_read=True)
    config = EngineConfig(shards=1, memories=policy, working=policy)
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="vegan"), ttl=100)
        await mem.working.store("c", "x")  # no TTL: a read restarts nothing
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START + 80) as mem:
        assert (await mem.memories.get("m", user_id="u")).expires_at == START + 180  # type: ignore[union-attr]
        assert (await mem.memories.search("u", "vegan"))[0].expires_at == START + 180
        assert (await mem.working.retrieve("c")) is not None
        assert await mem.memories.get("absent", user_id="u") is None
    ops = [op for path in journal_files(tmp_path) for _, _, op, _ in entries(path)]
    assert ops == ["upsert_memory", "store_working", "get_memory", "search_memories"]
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START + 150) as mem:
        memory = await mem.memories.get("m", user_id="u")  # alive thanks to the read at +80
        assert memory is not None and memory.expires_at == START + 250


async def test_a_snapshot_keeps_the_ttl_not_only_the_deadline(
    tmp_path: Path, mock_clock: trio.testing.MockClock, behaviours: list[DurableShard]
) -> None:
    policy = KindPolicy(refresh_on_read=True)
    config = EngineConfig(shards=1, memories=policy, compact_min_bytes=1)  # always compact
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="x"), ttl=100)
        mock_clock.jump(80)
        read = await mem.memories.get("m", user_id="u")  # deadline START + 180
        assert read is not None and read.expires_at == START + 180
        await compacted(behaviours)  # the compaction of the first batch is done
        for i in range(20):  # more batches: the journal outgrows the snapshot again
            await mem.working.store(f"later{i}", "x" * 100)
    path = tmp_path / "g0001-s0000.snapshot"
    records = decode_snapshot(path.read_bytes(), str(path))["records"]
    (memory,) = [fields for kind, fields, ttl in records if kind == "UserMemory"]
    assert memory["expires_at"] == START + 180  # the snapshot holds the refreshed read
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START + 150) as mem:
        got = await mem.memories.get("m", user_id="u")
        # restarted for the TTL it was written with (100 s), not expires_at - updated_at
        assert got is not None and got.expires_at == START + 250


async def test_replay_does_not_depend_on_the_reopening_config(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    """Replay applies the policies the journal was written under (kept in the
    manifest); new ones apply from the reopening on. Regression: replay used the
    reopening engine's policies and lost an acknowledged deadline."""
    refreshing = EngineConfig(shards=1)  # working: refresh_on_update=True
    fixed = EngineConfig(shards=1, working=KindPolicy(default_ttl=3600, refresh_on_update=False))
    async with open_memory_engine(config=refreshing, data_dir=tmp_path, start_time=START) as mem:
        await mem.working.store("c", "x", ttl=100)
        mock_clock.jump(50)
        acked = await mem.working.update("c", "y")  # the deadline moves to START + 150
        assert acked.expires_at == START + 150
    async with open_memory_engine(config=fixed, data_dir=tmp_path, start_time=START + 120) as mem:
        record = await mem.working.retrieve("c")  # (once: None, replayed without refresh)
        assert record is not None and record.expires_at == START + 150
        updated = await mem.working.update("c", "z")  # the new policy: no refresh
        assert updated.expires_at == START + 150
    manifest = orjson.loads((tmp_path / MANIFEST).read_bytes())
    assert manifest["policies"]["working"]["refresh_on_update"] is False
    async with open_memory_engine(config=fixed, data_dir=tmp_path, start_time=START + 140) as mem:
        record = await mem.working.retrieve("c")
        assert record is not None and (record.data, record.expires_at) == ("z", START + 150)


# ---------------------------------------------------------------- re-sharding


async def test_resharding_three_five_two_keeps_everything(tmp_path: Path) -> None:
    async with open_memory_engine(shards=3, data_dir=tmp_path, start_time=START) as mem:
        await fill(mem, 20, prefix="a")
        expected = strip(await mem.snapshot())
    async with open_memory_engine(shards=5, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == expected
        assert_routed(mem)
        await fill(mem, 10, prefix="b")
        expected = strip(await mem.snapshot())
    manifest = orjson.loads((tmp_path / MANIFEST).read_bytes())
    assert (manifest["generation"], manifest["shards"]) == (2, 5)
    assert not [name for name in files(tmp_path) if name.startswith("g0001-")]
    async with open_memory_engine(shards=2, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == expected
        assert_routed(mem)
        await mem.working.store("after", "2 shards")
    async with open_memory_engine(shards=2, data_dir=tmp_path, start_time=START) as mem:
        assert (await mem.working.retrieve("after")) is not None
        assert (
            mem.statistics().records
            == sum(len(expected[k]) for k in ("sessions", "memories", "working", "knowledge")) + 1
        )
    assert {name[:5] for name in files(tmp_path) if name.startswith("g")} == {"g0003"}


async def test_resharding_drops_records_that_expired_while_down(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with open_memory_engine(shards=2, data_dir=tmp_path, start_time=START) as mem:
        await mem.working.store("short", "x", ttl=10)
        await mem.working.store("long", "y", ttl=1000)
    async with open_memory_engine(shards=3, data_dir=tmp_path, start_time=START + 20) as mem:
        assert mem.statistics().records == 1
        assert (await mem.working.retrieve("long")).expires_at == START + 1000  # type: ignore[union-attr]
        updated = await mem.working.update("long", "z")  # its TTL of 1000 s survived too
        assert updated.expires_at == START + 20 + 1000


# ------------------------------------------------------------------- restore


async def test_restore_a_snapshot_into_an_empty_data_dir_is_durable(tmp_path: Path) -> None:
    async with open_memory_engine(shards=3, start_time=START) as mem:
        await fill(mem)
        snapshot = await mem.snapshot()
    async with open_memory_engine(
        shards=2, data_dir=tmp_path, snapshot=snapshot, start_time=START
    ) as mem:
        assert strip(await mem.snapshot()) == strip(snapshot)
        await mem.working.store("after", "restore")
    for shard in range(2):
        assert (tmp_path / f"g0001-s{shard:04d}.snapshot").exists()
    async with open_memory_engine(shards=2, data_dir=tmp_path, start_time=START) as mem:
        restored = await mem.snapshot()
        assert (await mem.working.retrieve("after")) is not None
    keep = [i for i, w in enumerate(restored["working"]) if w["conversation_id"] != "after"]
    restored["working"] = [restored["working"][i] for i in keep]
    restored["ttls"]["working"] = [restored["ttls"]["working"][i] for i in keep]
    assert strip(restored) == strip(snapshot)


async def test_restore_into_a_data_dir_with_records_is_refused(tmp_path: Path) -> None:
    async with open_memory_engine(shards=1, data_dir=tmp_path) as mem:
        await mem.working.store("c", "x")
        snapshot = await mem.snapshot()
    before = {name: (tmp_path / name).read_bytes() for name in files(tmp_path)}
    with pytest.raises(InvalidArgument, match="data_dir already holds records"):
        async with open_memory_engine(shards=1, data_dir=tmp_path, snapshot=snapshot):
            pass  # pragma: no cover
    assert {name: (tmp_path / name).read_bytes() for name in files(tmp_path)} == before


async def test_a_restore_is_durable_before_the_engine_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the restored records were written by a background compaction
    after the engine started serving; a crash before it landed lost the restore and
    left journaled updates of restored records unreplayable. The slowed background
    write makes that window certain."""
    import engine._embedded._durable_shard

    release = threading.Event()
    real = engine._embedded._durable_shard.write_snapshot

    def slow_write(*args: Any) -> int:
        release.wait(timeout=30)
        return real(*args)

    monkeypatch.setattr(engine._embedded._durable_shard, "write_snapshot", slow_write)
    async with open_memory_engine(shards=1, start_time=START) as mem:
        await mem.sessions.upsert(Session(session_id="s1", user_id="u"))
        snapshot = await mem.snapshot()
    root = tmp_path / "data"
    async with open_memory_engine(
        shards=1, data_dir=root, snapshot=snapshot, fsync="always", start_time=START
    ) as mem:
        try:
            await mem.sessions.append_run("s1", Run(run_id="r1"))  # acknowledged: fsynced
            crashed = copy_dir(root, tmp_path / "crash-image")  # what a SIGKILL now would leave
        finally:
            release.set()
    (crashed / "LOCK").unlink()
    async with open_memory_engine(shards=1, data_dir=crashed, start_time=START) as mem:
        assert [run.run_id for run in await mem.sessions.runs("s1")] == ["r1"]


# ------------------------------------------------ payloads the journal can't hold


def _bad_payloads() -> Iterator[Any]:
    yield pytest.param({"n": 2**70}, id="int-beyond-64-bits")
    yield pytest.param({"s": "\ud800"}, id="lone-surrogate")


@pytest.mark.parametrize("state", list(_bad_payloads()))
async def test_a_payload_the_journal_cannot_hold_changes_nothing(
    tmp_path: Path, state: dict[str, Any]
) -> None:
    """Regression: such a write was applied in memory, then failed to journal after
    taking a sequence number: the caller got TypeError, the record stayed in memory,
    and the next open failed with 'sequence jumps'."""
    async with open_memory_engine(shards=1, data_dir=tmp_path, fsync="always") as mem:
        await mem.sessions.upsert(Session(session_id="before", user_id="u"))
        with pytest.raises((TypeError, ValueError)):
            await mem.sessions.upsert(Session(session_id="bad", user_id="u", state=state))
        assert await mem.sessions.get("bad") is None  # refused, not half-applied
        await mem.sessions.upsert(Session(session_id="after", user_id="u"))
    assert await session_ids_named(tmp_path) == ["after", "before"]
