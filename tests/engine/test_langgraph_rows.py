"""LangGraph's records stored as rows: what the store holds for items and checkpoint
threads is untracked by the cyclic GC, and the records built on read are the records
written (without re-validation)."""

from __future__ import annotations

import gc
from typing import Any

from engine import EngineConfig, Item, ShardStore
from engine._core._checkpoint_rows import (
    blob_of,
    blob_row,
    checkpoint_of,
    checkpoint_row,
    write_of,
    write_row,
)
from engine._core._item_rows import item_of, item_row
from engine._core._records import replace
from tests.engine.test_checkpoints_api import blob, checkpoint, write

NOW = 1_000.0


def _fill(store: ShardStore, n: int) -> None:
    for i in range(n):
        namespace = ("users", f"u{i % 7}", "facts")
        value = {"text": f"fact {i}", "tags": ["a", {"b": i}], "n": i * 0.5}
        vectors = [[float(i), 1.0, -2.5]] if i % 2 else []
        store.put_item(
            NOW + i,
            Item(namespace=namespace, key=f"k{i}", value=value, vectors=vectors),
            60.0 if i % 3 else None,
        )
    for t in range(n // 10):
        thread = f"t{t}"
        for step in range(1, 4):
            cid = f"00{step}"
            for ns in ("", "child"):
                c = checkpoint(cid, thread=thread, ns=ns, run_id=f"r{step}", step=step)
                store.put_checkpoint(NOW, c, (blob(cid, thread=thread, ns=ns),), 600.0)
            store.put_checkpoint_writes(NOW, (write(cid, 0, b"w", thread=thread),), 600.0)
            store.put_checkpoint_writes(NOW, (write(cid, -1, b"x", thread=thread),), 600.0)


def _untracked(values: Any) -> bool:
    return not any(gc.is_tracked(value) for value in values)


def test_what_the_store_holds_for_items_and_threads_is_untracked() -> None:
    store = ShardStore(EngineConfig())
    _fill(store, 300)
    gc.collect()
    gc.collect()  # a row whose inner tuple sat in an older generation: the next one
    items, threads = store.items, store.threads
    assert len(items.records) == 300 and len(threads.threads) == 30
    assert _untracked(items.records.values()) and _untracked(items.records)
    for table in (threads.threads, threads.checkpoints, threads.blobs, threads.writes):
        assert table and _untracked(table.values()) and _untracked(table)
    assert _untracked(threads.runs.values())
    # the indexes hold ids in tuples (sorted tuples, tuple chunks), never records
    assert _untracked(items.namespaces._chunks) and _untracked(items.by_namespace._groups.values())
    assert _untracked(threads.index._chunks)
    assert all(type(key) is str for ns in items.namespaces for _, key in items.keys_of(ns))
    store._check()


def test_rows_build_the_records_they_were_made_from() -> None:
    item = Item(
        namespace=("a", "b"),
        key="k",
        value={"x": [1, 2.5, {"y": None}], "z": "text"},
        vectors=[[0.1, 0.2, 1e-300], [3.0, -4.0, 5.0]],
        created_at=1.0,
        updated_at=2.0,
        expires_at=3.0,
    )
    assert item_of(item_row(item)) == item
    empty = Item(namespace=("a",), key="k", created_at=1.0, updated_at=1.0)
    assert item_row(empty)[5:] == (None, ()) and item_of(item_row(empty)) == empty
    c = replace(checkpoint("001", parent="000", run_id="r", step=1), created_at=5.0)
    key = ("t", "", "001")
    assert checkpoint_of(key, checkpoint_row(c)) == c
    b = blob("001")
    assert blob_of(("t", "", "ch", "v001"), blob_row(b)) == b
    w = write("001", -1, b"data")
    assert write_of(key, write_row(w)) == w


def test_a_read_is_a_private_copy_of_the_value() -> None:
    store = ShardStore(EngineConfig())
    store.put_item(NOW, Item(namespace=("n",), key="k", value={"a": {"b": 1}}), None)
    first = store.get_item(NOW, ("n",), "k", False)
    second = store.get_item(NOW, ("n",), "k", False)
    assert first is not None and second is not None
    assert first.value == second.value and first.value is not second.value
