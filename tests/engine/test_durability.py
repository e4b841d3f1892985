"""A durable engine (``open_memory_engine(data_dir=..., fsync=...)``) on real files.

Covers the data directory's layout, the three fsync policies and group commit,
recovery (snapshot + journal replay, torn tails cut, damage refused naming the file
and offset), compaction, TTLs across restarts, re-sharding, restoring a snapshot
into a data directory, and the directory lock.

Time: tests that move time use pytest-trio's ``mock_clock`` (``rate=0``, no autojump)
and jump it explicitly. ``autojump_clock`` does not mix with a durable engine: while
a worker thread does file IO every task is blocked, so the clock would jump to the
next TTL deadline in the middle of a recovery or an fsync.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import threading
from collections.abc import Callable, Iterator
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
    KnowledgeDoc,
    MemoryEngine,
    Message,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
    shard_of,
)
from engine._data_dir import MANIFEST
from engine._journal import DurableShard, ShardJournal
from engine._journal_format import (
    HEADER_SIZE,
    decode_entry,
    decode_snapshot,
    read_frames,
)
from engine._snapshot import routing_key

START = 1_000_000.0


# ------------------------------------------------------------------- helpers


@pytest.fixture
def journals(monkeypatch: pytest.MonkeyPatch) -> list[ShardJournal]:
    """Every :class:`ShardJournal` opened during the test, in shard order."""
    opened: list[ShardJournal] = []
    original = ShardJournal.open

    async def open_(self: ShardJournal) -> None:
        opened.append(self)
        await original(self)

    monkeypatch.setattr(ShardJournal, "open", open_)
    return opened


@pytest.fixture
def behaviours(monkeypatch: pytest.MonkeyPatch) -> list[DurableShard]:
    """Every :class:`DurableShard` created during the test."""
    made: list[DurableShard] = []
    original = DurableShard.__init__

    def init(self: DurableShard, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(DurableShard, "__init__", init)
    return made


def files(root: Path) -> list[str]:
    return sorted(path.name for path in root.iterdir())


def journal_files(root: Path, shard: int | None = None) -> list[Path]:
    return sorted(
        path
        for path in root.glob("*.journal")
        if shard is None or path.name.split("-")[1] == f"s{shard:04d}"
    )


def entries(path: Path) -> list[tuple[int, float, str, tuple[Any, ...]]]:
    payloads, _ = read_frames(path.read_bytes(), str(path))
    return [decode_entry(payload) for payload in payloads]


def ends_of_records(path: Path) -> list[int]:
    """The offset just past each record of a journal file."""
    data = path.read_bytes()
    ends, offset = [], HEADER_SIZE
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 8 + length
        ends.append(offset)
    assert offset == len(data)
    return ends


def strip(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key != "taken_at"}


async def fill(mem: MemoryEngine, n: int = 12, prefix: str = "") -> None:
    """Write records of every kind, through every write operation."""
    for i in range(n):
        sid = f"{prefix}s{i}"
        await mem.sessions.upsert(
            Session(session_id=sid, user_id=f"u{i % 3}", name=f"n{i}", state={"i": i, "l": [i]}),
            ttl=None if i % 2 else 5000.0,
        )
        await mem.sessions.append_run(
            sid,
            Run(run_id="r1", messages=(Message(role="user", content=f"hello {i}"),)),
        )
        if i % 3 == 0:
            await mem.sessions.set_summary(sid, f"summary {i}", topics=("t",))
        if i % 4 == 0:
            await mem.sessions.rename(sid, f"renamed {i}")
        await mem.memories.upsert(
            UserMemory(user_id=f"u{i % 3}", memory_id=f"{prefix}m{i}", memory=f"likes {i}"),
            ttl=None if i % 2 else 7000.0,
        )
        await mem.working.store(f"{prefix}c{i}", f"data {i}", metadata={"i": i}, ttl=9000.0)
        if i % 2:
            await mem.working.update(f"{prefix}c{i}", f"data {i}+")
        await mem.knowledge.upsert(KnowledgeDoc(doc_id=f"{prefix}d{i}", name=f"doc {i}"))
    await mem.sessions.delete(f"{prefix}s0")
    await mem.memories.delete(f"{prefix}m1", user_id="u1")
    await mem.working.delete(f"{prefix}c2")
    await mem.knowledge.delete(f"{prefix}d3")


def assert_routed(mem: MemoryEngine) -> None:
    """Every record lives on the shard its routing key names; every store is sound."""
    for index, store in enumerate(mem._stores):
        store._check()
        for kind in store.dump(mem.now()).values():
            for record in kind:
                assert shard_of(routing_key(record), mem.shards) == index, record


def copy_dir(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


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
    assert manifest == {"format": "shardmem.data-dir", "version": 1, "generation": 1, "shards": 3}
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


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """``{path: bytes}``: how much of each file an ``os.fsync`` has made durable."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    durable: dict[str, int] = {}
    real = os.fsync

    def fsync(fd: int) -> None:
        size = os.fstat(fd).st_size  # what was written before the call is covered
        real(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        durable[path] = max(durable.get(path, 0), size)

    monkeypatch.setattr(os, "fsync", fsync)
    return durable


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


# --------------------------------------------------------- torn tails, damage


async def write_sessions(root: Path, n: int, *, shards: int = 1, start: int = 0) -> None:
    async with open_memory_engine(shards=shards, data_dir=root, fsync="no") as mem:
        for i in range(start, start + n):
            await mem.sessions.upsert(Session(session_id=f"s{i}", user_id="u", name="x" * i))


async def session_ids(root: Path, shards: int = 1) -> list[str]:
    async with open_memory_engine(shards=shards, data_dir=root) as mem:
        snapshot = await mem.snapshot()
    return sorted((r["session_id"] for r in snapshot["sessions"]), key=lambda s: int(s[1:]))


async def test_torn_tail_at_any_offset_keeps_every_complete_record(tmp_path: Path) -> None:
    source = tmp_path / "source"
    await write_sessions(source, 30)
    name = journal_files(source)[0].name
    ends = ends_of_records(source / name)
    size = ends[-1]
    rng = random.Random(20240607)
    cuts = {HEADER_SIZE, HEADER_SIZE + 1, HEADER_SIZE + 8, size - 1, size}
    cuts |= {end + delta for end in ends[:3] for delta in (-1, 0, 1, 7, 8, 9)}
    cuts |= {rng.randrange(HEADER_SIZE, size + 1) for _ in range(25)}
    for cut in sorted(cuts):
        root = copy_dir(source, tmp_path / f"cut{cut}")
        path = root / name
        with open(path, "r+b") as file:
            file.truncate(cut)
        kept = [end for end in ends if end <= cut]
        assert await session_ids(root) == [f"s{i}" for i in range(len(kept))], cut
        assert path.stat().st_size == (kept[-1] if kept else HEADER_SIZE), cut  # cut on disk
        assert await session_ids(root) == [f"s{i}" for i in range(len(kept))], cut  # stable


async def test_torn_tail_then_more_writes(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 5)
    path = journal_files(tmp_path)[0]
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size - 3)
    await write_sessions(tmp_path, 5, start=5)
    assert await session_ids(tmp_path) == ["s0", "s1", "s2", "s3", *(f"s{i}" for i in range(5, 10))]


async def test_torn_record_in_a_segment_that_is_not_the_last_is_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 5)
    await write_sessions(tmp_path, 5, start=5)
    first = journal_files(tmp_path)[0]
    good_end = ends_of_records(first)[-2]
    with open(first, "r+b") as file:
        file.truncate(first.stat().st_size - 3)
    size = first.stat().st_size
    message = rf"^{first}: offset {good_end}: truncated record in a segment that is not the last"
    with pytest.raises(JournalCorrupt, match=message):
        await session_ids(tmp_path)
    assert first.stat().st_size == size  # nothing cut


@pytest.mark.parametrize("record", [0, 3, 28])
async def test_damage_in_the_middle_names_file_and_offset(tmp_path: Path, record: int) -> None:
    await write_sessions(tmp_path, 30)
    path = journal_files(tmp_path)[0]
    ends = ends_of_records(path)
    offset = HEADER_SIZE if record == 0 else ends[record - 1]
    data = bytearray(path.read_bytes())
    data[offset + 8 + 5] ^= 0x20  # a byte in the record's JSON payload
    path.write_bytes(data)
    before = files(tmp_path)
    with pytest.raises(JournalCorrupt) as caught:
        await session_ids(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}: offset {offset}: record fails its CRC check"), message
    assert path.read_bytes() == data  # nothing dropped, nothing truncated
    assert files(tmp_path) == before  # the engine never started


async def test_damaged_length_field_in_the_middle_is_not_a_torn_tail(tmp_path: Path) -> None:
    """Regression: it was taken for a torn tail, and every later record cut away."""
    await write_sessions(tmp_path, 20)
    path = journal_files(tmp_path)[0]
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + 2] ^= 0x01  # record 0 now claims ~64 KiB: past the end of the file
    path.write_bytes(data)
    with pytest.raises(JournalCorrupt, match=f"offset {HEADER_SIZE}"):
        await session_ids(tmp_path)  # (once: opened with 0 sessions, the file cut to 22 B)
    assert path.read_bytes() == data


@pytest.mark.parametrize("header_bytes", [0, 10])
async def test_segment_cut_inside_its_header_is_a_torn_tail(
    tmp_path: Path, header_bytes: int
) -> None:
    """A crash between creating a segment and writing its header (regression: the
    directory could not be opened any more, "header truncated")."""
    await write_sessions(tmp_path, 3)
    await write_sessions(tmp_path, 3, start=3)
    last = journal_files(tmp_path)[-1]
    with open(last, "r+b") as file:
        file.truncate(header_bytes)  # as a SIGKILL inside _open_segment would leave it
    assert await session_ids(tmp_path) == ["s0", "s1", "s2"]


async def test_zero_filled_tail_is_a_torn_tail(tmp_path: Path) -> None:
    """After a power loss, XFS (or ext4 with data=writeback) can show a file whose
    size was extended but whose new blocks were never written: zeros. The writer
    never writes an empty payload, so zeros to the end of the file are a torn tail."""
    await write_sessions(tmp_path, 5)
    path = journal_files(tmp_path)[0]
    size = path.stat().st_size
    with open(path, "ab") as file:
        file.write(bytes(4096))
    assert await session_ids(tmp_path) == ["s0", "s1", "s2", "s3", "s4"]
    assert path.stat().st_size == size


async def test_zeros_in_the_middle_are_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 5)
    path = journal_files(tmp_path)[0]
    ends = ends_of_records(path)
    data = bytearray(path.read_bytes())
    data[ends[1] : ends[2]] = bytes(ends[2] - ends[1])  # record 2 zeroed, 3 and 4 intact
    path.write_bytes(data)
    with pytest.raises(JournalCorrupt, match=rf"^{path}: "):
        await session_ids(tmp_path)
    assert path.read_bytes() == data


async def test_bad_journal_header_is_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 3)
    path = journal_files(tmp_path)[0]
    good = path.read_bytes()
    path.write_bytes(b"SHMX" + good[4:])
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 0: not a shardmem journal"):
        await session_ids(tmp_path)
    path.write_bytes(good[:4] + struct.pack("<H", 99) + good[6:])
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset 4: journal version 99 "):
        await session_ids(tmp_path)
    path.write_bytes(good)
    assert await session_ids(tmp_path) == ["s0", "s1", "s2"]


async def test_a_journal_of_another_shard_is_corrupt(tmp_path: Path) -> None:
    async with open_memory_engine(shards=2, data_dir=tmp_path) as mem:
        await fill(mem, 4)
    zero, one = journal_files(tmp_path, 0)[0], journal_files(tmp_path, 1)[0]
    shutil.copyfile(zero, one)
    with pytest.raises(JournalCorrupt, match=rf"^{one}: offset 0: header names shard 0"):
        await session_ids(tmp_path, shards=2)


async def test_undecodable_entry_with_a_good_crc_is_corrupt(tmp_path: Path) -> None:
    from engine._journal_format import frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(b'[3, 0.0, "upsert_session", [{"$": "Pickle"}]]'))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: .*: undecodable entry"):
        await session_ids(tmp_path)


async def test_undecodable_entry_is_named_by_its_offset(tmp_path: Path) -> None:
    from engine._journal_format import frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    offset = path.stat().st_size
    with open(path, "ab") as file:
        file.write(frame(b'[3, 0.0, "upsert_session", [{"$": "Pickle"}]]'))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: offset {offset}: undecodable entry"):
        await session_ids(tmp_path)


async def test_unknown_operation_is_corrupt(tmp_path: Path) -> None:
    from engine._journal_format import encode_entry, frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(encode_entry(3, START, "_remove", (0, "s0"))))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: entry 3: unknown operation '_remove'"):
        await session_ids(tmp_path)


async def test_sequence_gap_is_corrupt(tmp_path: Path) -> None:
    from engine._journal_format import encode_entry, frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(encode_entry(9, START, "clear", ())))
    with pytest.raises(JournalCorrupt, match=rf"^{path}: sequence jumps from 2 to 9"):
        await session_ids(tmp_path)


async def test_damaged_manifest_is_corrupt(tmp_path: Path) -> None:
    await write_sessions(tmp_path, 1)
    (tmp_path / MANIFEST).write_bytes(b'{"format": "something-else", "version": 1}')
    with pytest.raises(JournalCorrupt, match=r"MANIFEST\.json: not a shardmem data directory"):
        await session_ids(tmp_path)


async def test_manifest_that_is_not_json_is_corrupt(tmp_path: Path) -> None:
    """Regression: it raised orjson's JSONDecodeError, which names no file."""
    await write_sessions(tmp_path, 1)
    (tmp_path / MANIFEST).write_bytes(b"\x00garbage")
    with pytest.raises(JournalCorrupt, match=r"MANIFEST\.json"):
        await session_ids(tmp_path)


# ---------------------------------------------------------------- compaction

SMALL = EngineConfig(shards=2, compact_factor=2.0, compact_min_bytes=4096)


async def test_compaction_writes_a_snapshot_and_deletes_old_segments(
    tmp_path: Path, behaviours: list[DurableShard]
) -> None:
    async with open_memory_engine(config=SMALL, data_dir=tmp_path, start_time=START) as mem:
        for round_ in range(6):
            await fill(mem, 10, prefix=f"r{round_}")  # rewrites shrink nothing but grow
        before = await mem.snapshot()
    assert all(shard.compactions >= 1 for shard in behaviours), [s.compactions for s in behaviours]
    for shard in range(2):
        snapshot = tmp_path / f"g0001-s{shard:04d}.snapshot"
        body = decode_snapshot(snapshot.read_bytes(), str(snapshot))
        assert body["shard"] == shard and body["shards"] == 2 and body["seq"] > 0
        segments = [int(p.stem.split("-")[2]) for p in journal_files(tmp_path, shard)]
        assert min(segments) == body["segment"] > 1  # older segments are gone
        covered = [e for p in journal_files(tmp_path, shard) for e in entries(p)]
        assert covered[0][0] == body["seq"] + 1  # the journal continues the snapshot
    async with open_memory_engine(config=SMALL, data_dir=tmp_path, start_time=START) as mem:
        assert strip(await mem.snapshot()) == strip(before)
        assert_routed(mem)


async def compacted(behaviours: list[DurableShard]) -> None:
    """Wait until no shard is writing a snapshot in the background."""
    for _ in range(5000):
        await trio.testing.wait_all_tasks_blocked()
        if not any(shard._compacting for shard in behaviours):
            return
        await trio.to_thread.run_sync(threading.Event().wait, 0.001)
    raise AssertionError("a compaction did not finish")


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
    import engine._journal

    release = threading.Event()
    writing = threading.Event()
    real = engine._journal.write_snapshot

    def slow_write(*args: Any) -> int:
        writing.set()
        assert release.wait(timeout=30), "the test never released the snapshot"
        return real(*args)

    monkeypatch.setattr(engine._journal, "write_snapshot", slow_write)
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
    import engine._journal

    release = threading.Event()
    real = engine._journal.write_snapshot

    def slow_write(*args: Any) -> int:
        release.wait(timeout=30)
        return real(*args)

    monkeypatch.setattr(engine._journal, "write_snapshot", slow_write)
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


async def session_ids_named(root: Path) -> list[str]:
    async with open_memory_engine(shards=1, data_dir=root) as mem:
        return sorted(r["session_id"] for r in (await mem.snapshot())["sessions"])
