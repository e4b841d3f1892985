"""``mem.items`` and ``mem.checkpoints`` (LangGraph's records): the same behaviour on
every backend — order, filters, namespaces, vectors, TTLs, the checkpoint chain,
idempotent writes, run deletion, prune, copy, thread expiry."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import elapse

from engine import ChannelBlob, Checkpoint, InvalidArgument, PendingWrite

TTL = 0.3
PAST = 0.5


async def test_items_order_filters_and_namespaces(mem: Any) -> None:
    for n in range(8):
        await mem.items.put(("docs", f"u{n % 3}"), f"d{n}", {"n": n, "m": {"odd": n % 2 == 1}})
        await elapse(0.002)  # distinct updated_at on every backend
    newest = await mem.items.search(("docs",), limit=3, offset=1)
    assert [h.item.key for h in newest] == ["d6", "d5", "d4"]
    odd = await mem.items.search((), filter={"m": {"odd": True}, "n": {"$lt": 7}}, limit=None)
    assert [h.item.key for h in odd] == ["d5", "d3", "d1"]
    assert [h.item.key for h in await mem.items.search(("docs", "u1"))] == ["d7", "d4", "d1"]
    assert await mem.items.list_namespaces(prefix=("docs",), max_depth=1) == [("docs",)]
    assert await mem.items.list_namespaces(suffix=("u2",)) == [("docs", "u2")]
    assert await mem.items.list_namespaces(prefix=("docs", "*")) == [
        ("docs", "u0"),
        ("docs", "u1"),
        ("docs", "u2"),
    ]
    again = await mem.items.put(("docs", "u0"), "d0", {"n": 0})
    assert again.created_at < again.updated_at
    assert (await mem.items.search(("docs",), limit=1))[0].item.key == "d0"
    assert await mem.items.delete(("docs", "u0"), "d0") is True
    assert await mem.items.get(("docs", "u0"), "d0") is None


async def test_items_rank_by_vectors(mem: Any) -> None:
    await mem.items.put(("v",), "x", {}, vectors=[[1, 0], [0, 1]])
    await mem.items.put(("v", "deeper"), "y", {}, vectors=[[0.6, 0.8]])
    await mem.items.put(("v",), "plain", {})
    hits = await mem.items.search(("v",), vector=[0, 1])
    assert [(h.item.key, round(h.score, 6) if h.score else None) for h in hits] == [
        ("x", 1.0),
        ("y", 0.8),
        ("plain", None),
    ]


async def test_items_expire_and_reads_restart_ttls(mem: Any, clock: Any) -> None:
    await mem.items.put(("t",), "gone", {}, ttl=TTL)
    await mem.items.put(("t",), "kept", {}, ttl=TTL)
    await elapse(0.2)
    kept = await mem.items.get(("t",), "kept", refresh_ttl=True)
    assert kept.expires_at > kept.updated_at + TTL
    await elapse(0.2)
    assert [h.item.key for h in await mem.items.search(("t",))] == ["kept"]
    assert await mem.items.get(("t",), "gone") is None
    await elapse(PAST)
    assert await mem.items.search(("t",)) == []
    assert await mem.items.list_namespaces() == []


def _checkpoint(
    cid: str, thread: str = "t", parent: str | None = None, run: str | None = None
) -> Checkpoint:
    return Checkpoint(
        thread_id=thread, checkpoint_ns="", checkpoint_id=cid, parent_id=parent, type="m",
        data=cid.encode(), metadata_type="m", metadata_data=b"\x00\xff",
        metadata={"step": int(cid)}, versions={"ch": cid}, run_id=run,
    )  # fmt: skip


def _blob(cid: str, thread: str = "t") -> ChannelBlob:
    return ChannelBlob(
        thread_id=thread,
        checkpoint_ns="",
        channel="ch",
        version=cid,
        type="m",
        data=b"\x01" + cid.encode(),
    )


def _write(cid: str, idx: int, data: bytes, thread: str = "t") -> PendingWrite:
    return PendingWrite(
        thread_id=thread,
        checkpoint_ns="",
        checkpoint_id=cid,
        task_id="task",
        idx=idx,
        channel="c",
        type="m",
        data=data,
    )


async def test_checkpoint_chain_writes_and_cursors(mem: Any) -> None:
    for cid, parent in (("1", None), ("2", "1"), ("3", "2")):
        await mem.checkpoints.put(_checkpoint(cid, parent=parent, run=f"r{cid}"), [_blob(cid)])
    assert await mem.checkpoints.put_writes([_write("3", 0, b"a"), _write("3", 1, b"b")]) == 2
    assert await mem.checkpoints.put_writes([_write("3", 0, b"again"), _write("3", -1, b"e")]) == 1
    latest = await mem.checkpoints.get("t")
    assert latest.checkpoint.checkpoint_id == "3" and latest.checkpoint.parent_id == "2"
    assert latest.blobs == (_blob("3"),)
    assert sorted((w.idx, w.data) for w in latest.writes) == [(-1, b"e"), (0, b"a"), (1, b"b")]
    assert [s.checkpoint.checkpoint_id for s in await mem.checkpoints.list("t", before="3")] == [
        "2",
        "1",
    ]
    assert [s.checkpoint.checkpoint_id for s in await mem.checkpoints.list(filter={"step": 2})] == [
        "2"
    ]
    assert len(await mem.checkpoints.list("t", limit=2)) == 2
    assert await mem.checkpoints.get("t", "", "9") is None
    with pytest.raises(InvalidArgument, match="another thread"):
        await mem.checkpoints.put(_checkpoint("4"), [_blob("4", thread="u")])


async def test_checkpoint_runs_prune_copy_delete(mem: Any) -> None:
    for cid, parent in (("1", None), ("2", "1"), ("3", "2")):
        await mem.checkpoints.put(_checkpoint(cid, parent=parent, run=f"r{cid}"), [_blob(cid)])
    await mem.checkpoints.put_writes([_write("3", 0, b"w")])
    assert await mem.checkpoints.copy_thread("t", "copy") == 7
    copied = await mem.checkpoints.get("copy")
    assert copied.checkpoint.thread_id == "copy" and copied.writes[0].data == b"w"
    assert await mem.checkpoints.delete_for_runs(["r3"]) == 2
    assert (await mem.checkpoints.get("t")).checkpoint.checkpoint_id == "2"
    assert await mem.checkpoints.prune(["t"]) == 1
    only = await mem.checkpoints.list("t")
    assert [s.checkpoint.checkpoint_id for s in only] == ["2"] and only[0].blobs == (_blob("2"),)
    assert await mem.checkpoints.delete_thread("copy") is True
    assert await mem.checkpoints.get("copy") is None


async def test_an_idle_thread_expires(mem: Any, clock: Any) -> None:
    await mem.checkpoints.put(_checkpoint("1"), [_blob("1")], ttl=TTL)
    await mem.checkpoints.put(_checkpoint("1", thread="busy"), [_blob("1", thread="busy")], ttl=TTL)
    await elapse(0.2)
    await mem.checkpoints.put_writes([_write("1", 0, b"w", thread="busy")], ttl=TTL)
    await elapse(0.2)
    assert await mem.checkpoints.get("t") is None
    assert await mem.checkpoints.get("busy") is not None
