"""``mem.checkpoints``: the chain per (thread, namespace), blobs by version, idempotent
writes, list filters and cursors, run deletion, prune, copy, thread TTL, durability."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from trio.testing import MockClock

from engine import (
    ChannelBlob,
    Checkpoint,
    EngineConfig,
    InvalidArgument,
    MemoryEngine,
    PendingWrite,
    ShardStore,
    open_memory_engine,
)


def checkpoint(
    cid: str, thread: str = "t", ns: str = "", parent: str | None = None, **meta: object
) -> Checkpoint:
    return Checkpoint(
        thread_id=thread,
        checkpoint_ns=ns,
        checkpoint_id=cid,
        parent_id=parent,
        type="msgpack",
        data=cid.encode(),
        metadata_type="msgpack",
        metadata_data=b"m",
        metadata=meta,
        versions={"ch": f"v{cid}"},
        run_id=meta.get("run_id"),  # type: ignore[arg-type]
    )


def blob(cid: str, thread: str = "t", ns: str = "") -> ChannelBlob:
    return ChannelBlob(
        thread_id=thread,
        checkpoint_ns=ns,
        channel="ch",
        version=f"v{cid}",
        type="msgpack",
        data=b"\x00" + cid.encode(),
    )


def write(cid: str, idx: int, data: bytes, task: str = "task", thread: str = "t") -> PendingWrite:
    return PendingWrite(
        thread_id=thread,
        checkpoint_ns="",
        checkpoint_id=cid,
        task_id=task,
        idx=idx,
        channel="c",
        type="msgpack",
        data=data,
    )


async def chain(mem: MemoryEngine, thread: str = "t", n: int = 3, **meta: object) -> None:
    parent = None
    for i in range(1, n + 1):
        cid = f"{i:03}"
        await mem.checkpoints.put(
            checkpoint(cid, thread, parent=parent, step=i, **meta), [blob(cid, thread)]
        )
        parent = cid


async def test_latest_by_id_with_its_blob_and_parent(mem: MemoryEngine) -> None:
    await chain(mem)
    latest = await mem.checkpoints.get("t")
    assert latest is not None and latest.checkpoint.checkpoint_id == "003"
    assert latest.checkpoint.parent_id == "002" and latest.blobs == (blob("003"),)
    assert (await mem.checkpoints.get("t", "", "001")).blobs == (blob("001"),)  # type: ignore[union-attr]
    assert await mem.checkpoints.get("t", "other") is None
    assert await mem.checkpoints.get("nobody") is None


async def test_writes_are_idempotent_and_special_channels_replace(mem: MemoryEngine) -> None:
    await chain(mem, n=1)
    assert await mem.checkpoints.put_writes([write("001", 0, b"a"), write("001", 1, b"b")]) == 2
    assert await mem.checkpoints.put_writes([write("001", 0, b"retry")]) == 0
    assert await mem.checkpoints.put_writes([write("001", -1, b"err1")]) == 1
    assert await mem.checkpoints.put_writes([write("001", -1, b"err2")]) == 1
    saved = await mem.checkpoints.get("t")
    assert [w.data for w in saved.writes] == [b"a", b"b", b"err2"]  # type: ignore[union-attr]
    with pytest.raises(InvalidArgument, match="more than one thread"):
        await mem.checkpoints.put_writes([write("001", 0, b"a"), write("001", 0, b"a", thread="u")])


async def test_list_filters_cursors_limits_and_all_threads(mem: MemoryEngine) -> None:
    await chain(mem, "t", 4)
    await chain(mem, "u", 2)
    ids = [s.checkpoint.checkpoint_id for s in await mem.checkpoints.list("t")]
    assert ids == ["004", "003", "002", "001"]
    assert [s.checkpoint.checkpoint_id for s in await mem.checkpoints.list("t", before="003")] == [
        "002",
        "001",
    ]
    assert [s.checkpoint.checkpoint_id for s in await mem.checkpoints.list("t", limit=1)] == ["004"]
    assert [
        s.checkpoint.metadata["step"] for s in await mem.checkpoints.list(filter={"step": 2})
    ] == [2, 2]
    assert len(await mem.checkpoints.list()) == 6
    assert len(await mem.checkpoints.list(limit=3)) == 3
    assert len(await mem.checkpoints.list("t", checkpoint_id="002")) == 1


async def test_delete_for_runs_prune_copy_and_delete(mem: MemoryEngine) -> None:
    await mem.checkpoints.put(checkpoint("001", run_id="r1"), [blob("001")])
    await mem.checkpoints.put(checkpoint("002", parent="001", run_id="r2"), [blob("002")])
    await mem.checkpoints.put_writes([write("002", 0, b"w")])
    assert await mem.checkpoints.copy_thread("t", "copy") == 5
    assert await mem.checkpoints.delete_for_runs(["r2"]) == 2  # in both threads
    left = await mem.checkpoints.list("t")
    assert [s.checkpoint.checkpoint_id for s in left] == ["001"] and left[0].blobs == (blob("001"),)
    await chain(mem, "p", 5)
    assert await mem.checkpoints.prune(["p"]) == 4
    assert [s.checkpoint.checkpoint_id for s in await mem.checkpoints.list("p")] == ["005"]
    assert await mem.checkpoints.prune(["p"], strategy="delete") == 1
    assert await mem.checkpoints.list("p") == []
    assert await mem.checkpoints.delete_thread("copy") is True
    assert await mem.checkpoints.delete_thread("copy") is False
    with pytest.raises(InvalidArgument, match="strategy"):
        await mem.checkpoints.prune(["t"], strategy="oldest")
    with pytest.raises(InvalidArgument, match="different"):
        await mem.checkpoints.copy_thread("t", "t")


async def test_a_thread_expires_whole_after_its_ttl(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.checkpoints.put(checkpoint("001"), [blob("001")], ttl=60)
    await trio.sleep(50)
    await mem.checkpoints.put_writes([write("001", 0, b"w")], ttl=60)  # restarts the minute
    await trio.sleep(50)
    assert await mem.checkpoints.get("t") is not None
    await trio.sleep(10)
    assert await mem.checkpoints.get("t") is None
    assert sum(s.store.expiry_entries for s in mem.statistics().shards) == 0


async def test_bad_records_are_refused(mem: MemoryEngine) -> None:
    with pytest.raises(TypeError, match="Checkpoint"):
        await mem.checkpoints.put(blob("001"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        ChannelBlob(
            thread_id="t", checkpoint_ns="", channel="c", version="1", type="m", data="text"
        )  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="another thread"):
        await mem.checkpoints.put(checkpoint("001"), [blob("001", thread="u")])
    assert await mem.checkpoints.get("t") is None  # refused whole


def test_table_invariants_after_runs_are_deleted() -> None:
    store = ShardStore(EngineConfig())
    for i in range(1, 5):
        store.put_checkpoint(
            float(i), checkpoint(f"00{i}", run_id=f"r{i % 2}"), (blob(f"00{i}"),), None
        )
    store._check()
    assert store.delete_checkpoint_runs(5.0, ("r1",)) == 2
    store._check()
    assert sorted(store.threads.blobs) == [("t", "", "ch", "v002"), ("t", "", "ch", "v004")]


async def test_checkpoints_replay_and_compact(tmp_path: Path) -> None:
    async with open_memory_engine(shards=2, data_dir=str(tmp_path)) as mem:
        await chain(mem, "t", 3, run_id="r")
        await mem.checkpoints.put_writes([write("003", 0, b"\xff\x00")])
        await mem.checkpoints.prune(["t"])
        await mem.checkpoints.copy_thread("t", "u")
    async with open_memory_engine(shards=3, data_dir=str(tmp_path)) as mem:
        for thread in ("t", "u"):
            saved = await mem.checkpoints.get(thread)
            assert saved is not None and saved.checkpoint.checkpoint_id == "003"
            assert (
                saved.writes[0].data == b"\xff\x00" and len(await mem.checkpoints.list(thread)) == 1
            )
        await mem.compact()
    async with open_memory_engine(shards=1, data_dir=str(tmp_path)) as mem:
        assert len(await mem.checkpoints.list()) == 2
