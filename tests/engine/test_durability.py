"""A durable engine (``open_memory_engine(data_dir=..., fsync=...)``) on real files:
the data directory's layout, the directory lock, the three fsync policies and group
commit, and compaction.

Time: tests that move time use pytest-trio's ``mock_clock`` (``rate=0``, no autojump)
and jump it explicitly. ``autojump_clock`` does not mix with a durable engine: while
a worker thread does file IO every task is blocked, so the clock would jump to the
next TTL deadline in the middle of a recovery or an fsync.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing

from engine import (
    EngineConfig,
    InvalidArgument,
    JournalCorrupt,
    KindPolicy,
    MemoryEngine,
    open_memory_engine,
    shard_of,
)
from engine._durable._data_dir import MANIFEST
from engine._durable._format import (
    HEADER_SIZE,
    decode_snapshot,
)
from engine._durable._journal import ShardJournal
from engine._embedded._durable_shard import DurableShard

from ._durable_support import (
    START,
    assert_routed,
    compacted,
    entries,
    files,
    fill,
    journal_files,
    session_ids,
    strip,
)

# -------------------------------------------------------------------- layout


async def test_without_data_dir_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with open_memory_engine(shards=2, fsync="always") as mem:
        await fill(mem, 3)
    assert list(tmp_path.iterdir()) == []


async def test_layout_and_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "data"
    async with open_memory_engine(shards=3, data_dir=root, start_time=START) as mem:
        await fill(mem)
        before = await mem.snapshot()
    manifest = orjson.loads((root / MANIFEST).read_bytes())
    policies = manifest.pop("policies")  # the TTL policies replay must apply
    segments = manifest.pop("segments")  # each shard's newest journal segment
    assert manifest == {"format": "shardmem.data-dir", "version": 1, "generation": 1, "shards": 3}
    assert segments == {"0": 1, "1": 1, "2": 1}
    assert policies["working"] == {
        "default_ttl": 12 * 3600.0,
        "refresh_on_read": False,
        "refresh_on_update": True,
    }
    assert set(policies) == {"sessions", "memories", "working", "knowledge"}
    assert files(root) == [
        "LOCK",
        "MANIFEST.json",
        "g0001-s0000-00000001.journal",
        "g0001-s0001-00000001.journal",
        "g0001-s0002-00000001.journal",
    ]
    async with open_memory_engine(shards=3, data_dir=str(root), start_time=START + 1) as mem:
        after = await mem.snapshot()
        assert_routed(mem)
    assert strip(after) == strip(before)
    assert len(after["sessions"]) == 11 and len(after["knowledge"]) == 11
    # each run starts a new segment; a recovered one is never appended to
    assert [p.name for p in journal_files(root, 0)] == [
        "g0001-s0000-00000001.journal",
        "g0001-s0000-00000002.journal",
    ]
    assert journal_files(root, 0)[1].stat().st_size == HEADER_SIZE


async def test_journal_holds_the_logged_now_and_consecutive_seqs(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with open_memory_engine(shards=1, data_dir=tmp_path, start_time=START) as mem:
        await mem.working.store("c", "x", ttl=60)
        await mem.working.retrieve("c")  # a read that restarts no TTL: not journaled
        await mem.working.update("c", "y")
        assert await mem.sessions.get("nope") is None
    logged = entries(journal_files(tmp_path)[0])
    assert [(seq, op) for seq, _, op, _ in logged] == [(1, "store_working"), (2, "update_working")]
    assert all(now == START for _, now, _, _ in logged)


async def test_every_call_works_on_a_durable_engine(tmp_path: Path) -> None:
    """Reads, lists, scatter queries and pipelines: the journal must not get in the way."""
    policy = KindPolicy(refresh_on_read=True)
    config = EngineConfig(shards=3, sessions=policy, memories=policy, working=policy)
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        await fill(mem, 6)
        assert [m.role for m in await mem.sessions.messages("s1", roles=("user",))] == ["user"]
        assert len(await mem.sessions.runs("s1", last_n=1)) == 1
        assert (await mem.sessions.get_summary("s3")).summary == "summary 3"  # type: ignore[union-attr]
        assert await mem.memories.search("u2", "likes", method="last_n", limit=1)
        assert await mem.memories.topics() == []
        async with mem.pipeline() as p:
            got = p.sessions.get("s2")
            stored = p.working.store("pipelined", "x")
        assert got.result() is not None and stored.result().data == "x"
        before = await mem.snapshot()
        assert sum(shard.errors for shard in mem.statistics().shards) == 0
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == strip(before)


LISTS = [
    pytest.param(lambda mem: mem.sessions.list(user_id="u1", limit=5), 2, id="sessions.list"),
    pytest.param(lambda mem: mem.sessions.recent(limit=3), 3, id="sessions.recent"),
    pytest.param(lambda mem: mem.memories.list(user_id="u2", limit=10), 2, id="memories.list"),
    pytest.param(lambda mem: mem.knowledge.list(limit=2), 2, id="knowledge.list"),
]


@pytest.mark.parametrize(("call", "expected"), LISTS)
async def test_lists_work_on_a_durable_engine(
    tmp_path: Path, call: Callable[[MemoryEngine], Any], expected: int
) -> None:
    async with open_memory_engine(shards=3, data_dir=tmp_path, start_time=START) as mem:
        await fill(mem, 6)
        assert len(await call(mem)) == expected


@pytest.mark.parametrize("fsync", ["sometimes", "ALWAYS"])
async def test_bad_fsync_policy_is_refused_before_touching_the_disk(
    tmp_path: Path, fsync: str
) -> None:
    root = tmp_path / "data"
    with pytest.raises(InvalidArgument, match="fsync"):
        async with open_memory_engine(data_dir=root, fsync=fsync):
            pass  # pragma: no cover
    assert not root.exists()


async def test_data_dir_must_be_a_path() -> None:
    with pytest.raises(TypeError, match="data_dir: expected a path"):
        async with open_memory_engine(data_dir=3):  # type: ignore[arg-type]
            pass  # pragma: no cover


# ------------------------------------------------------------------- the lock


async def test_lock_prevents_a_second_engine(tmp_path: Path) -> None:
    async with open_memory_engine(shards=1, data_dir=tmp_path) as mem:
        await mem.working.store("c", "x")
        with pytest.raises(BlockingIOError, match="in use by another engine"):
            async with open_memory_engine(shards=1, data_dir=tmp_path):
                pass  # pragma: no cover
        assert (await mem.working.retrieve("c")) is not None  # the first one is unharmed
    async with open_memory_engine(shards=1, data_dir=tmp_path) as mem:
        assert (await mem.working.retrieve("c")) is not None


async def test_a_failed_recovery_releases_the_lock(tmp_path: Path) -> None:
    async with open_memory_engine(shards=1, data_dir=tmp_path) as mem:
        await mem.working.store("c", "x")
    path = journal_files(tmp_path)[0]
    good = path.read_bytes()
    path.write_bytes(b"XXXX" + good[4:])
    with pytest.raises(JournalCorrupt):
        async with open_memory_engine(shards=1, data_dir=tmp_path):
            pass  # pragma: no cover
    path.write_bytes(good)  # the operator repaired it
    async with open_memory_engine(shards=1, data_dir=tmp_path) as mem:
        assert (await mem.working.retrieve("c")) is not None


# ---------------------------------------------------------- fsync and commit


async def test_always_acknowledges_only_fsynced_writes(
    tmp_path: Path, journals: list[ShardJournal], synced: dict[str, int]
) -> None:
    async with open_memory_engine(shards=1, data_dir=tmp_path, fsync="always") as mem:
        path = str(journal_files(tmp_path)[0])
        for i in range(10):
            await mem.working.store(f"c{i}", "x")
            assert synced[path] == os.path.getsize(path)  # on disk before the reply
            for _ in range(3):
                await mem.working.retrieve(f"c{i}")  # reads write nothing, fsync nothing
        assert journals[0].fsyncs == 10
        assert mem.statistics().shards[0].fsyncs == 10
        assert mem.statistics().shards[0].journal_entries == 10
    assert journals[0].fsyncs == 11  # + the close


async def test_no_leaves_flushing_to_the_os_until_close(
    tmp_path: Path, journals: list[ShardJournal], synced: dict[str, int]
) -> None:
    async with open_memory_engine(shards=2, data_dir=tmp_path, fsync="no") as mem:
        await fill(mem, 5)
        assert [journal.fsyncs for journal in journals] == [0, 0]
        assert [shard.fsyncs for shard in mem.statistics().shards] == [0, 0]
        assert all(shard.commits > 0 for shard in mem.statistics().shards)
        for path in journal_files(tmp_path):
            assert synced[str(path)] == HEADER_SIZE < path.stat().st_size
    assert [journal.fsyncs for journal in journals] == [1, 1]  # close makes it durable
    for path in journal_files(tmp_path):
        assert synced[str(path)] == path.stat().st_size


async def settle(journals: list[ShardJournal]) -> None:
    """Let woken tasks run and every fsync in a worker thread finish."""
    for _ in range(1000):
        await trio.testing.wait_all_tasks_blocked()
        if not any(journal._lock.locked() for journal in journals):
            return
        await trio.to_thread.run_sync(threading.Event().wait, 0.001)
    raise AssertionError("an fsync did not finish")


async def test_everysec_fsyncs_at_most_once_a_second(
    tmp_path: Path,
    mock_clock: trio.testing.MockClock,
    journals: list[ShardJournal],
    synced: dict[str, int],
) -> None:
    async with open_memory_engine(shards=2, data_dir=tmp_path, fsync="everysec") as mem:
        target = shard_of("c", 2)
        path = str(journals[target].files.journal(1))
        for _ in range(50):
            await mem.working.store("c", "x")  # acknowledged without waiting for a disk
        assert synced[path] == HEADER_SIZE < os.path.getsize(path)
        mock_clock.jump(0.5)
        await settle(journals)
        assert [j.fsyncs for j in journals] == [0, 0]
        mock_clock.jump(0.5)
        await settle(journals)
        assert journals[target].fsyncs == 1  # one second after: durable
        assert journals[1 - target].fsyncs == 0  # nothing to sync, no fsync
        assert synced[path] == os.path.getsize(path)
        for second in range(3):
            await mem.working.store("c", f"x{second}")
            mock_clock.jump(1.0)
            await settle(journals)
        assert journals[target].fsyncs == 4
        mock_clock.jump(5.0)  # idle: nothing more to sync
        await settle(journals)
        assert journals[target].fsyncs == 4


async def test_everysec_close_does_not_race_the_sync_task(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Regression: close() fsyncs in a worker thread; the everysec task woke meanwhile
    (the autojump clock makes it certain; in production, a matter of luck), found
    unsynced data, waited for the lock, then fsynced fd -1 and crashed the engine."""
    async with open_memory_engine(shards=2, data_dir=tmp_path, fsync="everysec") as mem:
        for i in range(8):  # every shard has unsynced data at close
            await mem.working.store(f"c{i}", "x")


async def group_commit_run(root: Path, max_batch: int | None) -> tuple[int, int, int, int]:
    """100 concurrent writers under ``always``: (writes, commits, fsyncs, biggest batch)."""
    config = EngineConfig(shards=2, fsync="always", max_batch=max_batch)
    writes = 0
    async with open_memory_engine(config=config, data_dir=root) as mem:

        async def writer(w: int) -> None:
            nonlocal writes
            for i in range(3):
                await mem.working.store(f"w{w}", f"write {i}")
                writes += 1

        async with trio.open_nursery() as nursery:
            for w in range(100):
                nursery.start_soon(writer, w)
        shards = mem.statistics().shards
    commits = sum(shard.commits for shard in shards)
    fsyncs = sum(shard.fsyncs for shard in shards)
    return writes, commits, fsyncs, max(shard.mailbox_peak for shard in shards)


async def test_group_commit_fsyncs_once_per_batch(tmp_path: Path) -> None:
    writes, commits, fsyncs, biggest = await group_commit_run(tmp_path / "grouped", None)
    assert writes == 300
    assert fsyncs == commits  # one fsync per batch (the statistics are read before close)
    assert fsyncs < writes / 5, (fsyncs, writes)
    assert biggest > 5
    writes, commits, fsyncs, biggest = await group_commit_run(tmp_path / "single", 1)
    assert writes == 300
    assert fsyncs == commits == writes  # max_batch=1: one fsync per write (the baseline)
    assert biggest == 1
    async with open_memory_engine(shards=2, data_dir=tmp_path / "grouped") as mem:
        for w in range(100):
            assert (await mem.working.retrieve(f"w{w}")).data == "write 2"  # type: ignore[union-attr]


# ---------------------------------------------------------------- compaction

SMALL = EngineConfig(shards=2, compact_factor=2.0, compact_min_bytes=4096)


async def test_compaction_writes_a_snapshot_and_deletes_old_segments(
    tmp_path: Path, behaviours: list[DurableShard]
) -> None:
    async with open_memory_engine(config=SMALL, data_dir=tmp_path, start_time=START) as mem:
        for round_ in range(6):
            await fill(mem, 10, prefix=f"r{round_}")  # rewrites shrink nothing but grow
        before = await mem.snapshot()
        last_seq = [shard.journal_entries for shard in mem.statistics().shards]
    assert all(shard.compactions >= 1 for shard in behaviours), [s.compactions for s in behaviours]
    for shard in range(2):
        snapshot = tmp_path / f"g0001-s{shard:04d}.snapshot"
        body = decode_snapshot(snapshot.read_bytes(), str(snapshot))
        assert body["shard"] == shard and body["shards"] == 2 and body["seq"] > 0
        segments = [int(p.stem.split("-")[2]) for p in journal_files(tmp_path, shard)]
        assert min(segments) == body["segment"] > 1  # older segments are gone
        covered = [e[0] for p in journal_files(tmp_path, shard) for e in entries(p)]
        # The journal continues the snapshot up to the last write; it is empty when the
        # last batch itself triggered the compaction (batching varies with thread timing).
        assert covered == list(range(body["seq"] + 1, last_seq[shard] + 1))
    async with open_memory_engine(config=SMALL, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == strip(before)
        assert_routed(mem)


async def test_compaction_bounds_the_journal(
    tmp_path: Path, behaviours: list[DurableShard]
) -> None:
    config = EngineConfig(shards=1, compact_factor=2.0, compact_min_bytes=4096)
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        for burst in range(5):
            for i in range(300):  # the same ten keys, over and over: ~30 KiB of journal
                await mem.working.store(f"c{i % 10}", f"value {burst} {i}")
            await compacted(behaviours)
            assert behaviours[0].compactions >= burst + 1
            snapshot = tmp_path / "g0001-s0000.snapshot"
            body = decode_snapshot(snapshot.read_bytes(), str(snapshot))
            (segment,) = journal_files(tmp_path)  # every older segment is deleted
            assert segment.name == f"g0001-s0000-{body['segment']:08d}.journal"
            assert len(body["records"]) == 10
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        for i in range(290, 300):
            record = await mem.working.retrieve(f"c{i % 10}")
            assert record is not None and record.data == f"value 4 {i}"


async def test_the_shard_keeps_serving_while_the_snapshot_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviours: list[DurableShard]
) -> None:
    import engine._embedded._durable_shard

    release = threading.Event()
    writing = threading.Event()
    real = engine._embedded._durable_shard.write_snapshot

    def slow_write(*args: Any) -> int:
        writing.set()
        assert release.wait(timeout=30), "the test never released the snapshot"
        return real(*args)

    monkeypatch.setattr(engine._embedded._durable_shard, "write_snapshot", slow_write)
    config = EngineConfig(shards=1, compact_min_bytes=1)  # the first batch compacts
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        try:
            await mem.working.store("first", "x")
            await trio.to_thread.run_sync(writing.wait, 30)
            assert behaviours[0]._compacting
            for i in range(200):  # served while the snapshot is being written
                await mem.working.store(f"c{i}", str(i))
                assert (await mem.working.retrieve(f"c{i}")).data == str(i)  # type: ignore[union-attr]
            assert not (tmp_path / "g0001-s0000.snapshot").exists()
            assert behaviours[0].compactions == 0
        finally:
            release.set()
        before = await mem.snapshot()
    assert behaviours[0].compactions >= 1
    assert (tmp_path / "g0001-s0000.snapshot").exists()
    async with open_memory_engine(config=config, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == strip(before)


async def test_snapshot_crc_failure_is_corrupt(tmp_path: Path) -> None:
    config = EngineConfig(shards=1, compact_min_bytes=1)
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        await fill(mem, 3)
    path = tmp_path / "g0001-s0000.snapshot"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x10
    path.write_bytes(data)
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 10: snapshot fails its CRC"):
        await session_ids(tmp_path)
    path.write_bytes(b"SHMJ" + data[4:])
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 0: not a shardmem snapshot"):
        await session_ids(tmp_path)


async def test_a_leftover_temporary_snapshot_is_ignored(tmp_path: Path) -> None:
    config = EngineConfig(shards=1, compact_min_bytes=1)
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        await mem.working.store("c", "x")
    (tmp_path / "g0001-s0000.snapshot.tmp").write_bytes(b"half a snapsh")  # crash mid-write
    async with open_memory_engine(config=config, data_dir=tmp_path) as mem:
        assert (await mem.working.retrieve("c")) is not None
