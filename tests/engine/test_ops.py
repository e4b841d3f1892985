"""The operation vocabulary (``engine._core._ops``): one ``Op`` per store operation,
served by exactly one ``ShardStore`` method and one Redis method of the same name; the
wire names are the journal's format and never change."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from engine import EngineConfig, InvalidArgument, JournalCorrupt, Session, ShardStore
from engine._api._batch import NO_VALUE
from engine._api._clock import EngineClock
from engine._core import _ops as ops
from engine._core._ops import OPS, Batch, Call, Compact, Op
from engine._embedded._shard import ShardBehaviour
from engine._store._dispatch import STORE_METHODS

from ._durable_support import START, journal_files, session_ids, write_sessions

#: The names journals written since the first release carry. Changing one breaks
#: every data directory on disk: add a new name instead.
JOURNALED_NAMES = [
    "append_run", "clear", "clear_memories", "delete_doc", "delete_memory",
    "delete_session", "delete_sessions", "delete_working", "get_doc", "get_memory",
    "get_messages", "get_runs", "get_session", "get_summary", "rename_session",
    "retrieve_working", "search_memories", "set_summary", "store_working",
    "update_working", "upsert_doc", "upsert_memory", "upsert_session",
    # LangGraph's records (mem.items, mem.checkpoints)
    "delete_checkpoint_runs", "delete_checkpoint_thread", "delete_item", "get_item",
    "import_checkpoint_thread", "prune_checkpoints", "put_checkpoint",
    "put_checkpoint_writes", "put_item", "search_items",
]  # fmt: skip

#: Public ShardStore methods that are not operations a request carries.
NOT_OPERATIONS = {
    "counts", "dump", "expire_due", "export_rows", "holds", "identity", "load", "load_kinds",
    "load_row", "load_rows", "next_deadline", "put_row", "reconfigure", "stored_row", "ttl_of",
}  # fmt: skip


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(value)
    }


def test_wire_names_are_stable() -> None:
    assert sorted(name for name, op in OPS.items() if op.journaled) == sorted(JOURNALED_NAMES)
    assert all(op.name == name for name, op in OPS.items())
    assert {op.kind for op in OPS.values()} == {
        "sessions", "memories", "working", "knowledge", "items", "checkpoints", "store"
    }  # fmt: skip


def test_every_op_has_exactly_one_shard_store_method() -> None:
    assert _public_methods(ShardStore) == set(OPS) | NOT_OPERATIONS
    for op in OPS.values():
        assert STORE_METHODS[op] is getattr(ShardStore, op.name)
        assert list(inspect.signature(STORE_METHODS[op]).parameters)[:2] == ["self", "now"]


def test_every_op_has_exactly_one_redis_method() -> None:
    pytest.importorskip("coredis")
    from engine._redis._ops import RedisOps

    assert _public_methods(RedisOps) == set(OPS) | {"by_op", "counts", "sweep"}
    for op in OPS.values():
        method = getattr(RedisOps, op.name)
        assert inspect.iscoroutinefunction(method), op
        assert list(inspect.signature(method).parameters)[:3] == ["self", "p", "now"]
        # the same arguments after ``now`` as the embedded store
        store_params = list(inspect.signature(STORE_METHODS[op]).parameters)[2:]
        assert list(inspect.signature(method).parameters)[3:] == store_params, op
    assert set(OPS.values()) >= RedisOps.SEVERAL_CALLS


def test_ops_are_singletons_with_readable_reprs() -> None:
    assert ops.STORE_WORKING is OPS["store_working"]
    assert Op("store_working", "working", writes=True, pipelined=True) != ops.STORE_WORKING
    assert repr(ops.STORE_WORKING) == "<Op store_working>"
    assert ops.STORE_WORKING.journaled and ops.GET_DOC.journaled
    assert not ops.LIST_DOCS.journaled and not ops.EXPORT.journaled


def _behaviour() -> ShardBehaviour:
    return ShardBehaviour(ShardStore(EngineConfig()), EngineClock.start(START))


async def test_shard_serves_calls_batches_and_refuses_compaction() -> None:
    shard = _behaviour()
    session = shard.handle(Call(ops.UPSERT_SESSION, (Session(session_id="s1"), None)))
    assert isinstance(session, Session)
    results = shard.handle(
        Batch(
            (Call(ops.GET_SESSION, ("s1", None, None)), Call(ops.RENAME_SESSION, ("s2", "x", None)))
        )
    )
    values, errors = results
    assert values == [session, NO_VALUE] and list(errors) == [1]
    with pytest.raises(LookupError, match="no session 's2'"):
        raise errors[1]
    assert shard.handle(Batch((Call(ops.GET_SESSION, ("s1", None, None)),))) == ([session], None)
    with pytest.raises(InvalidArgument, match="no data_dir"):
        shard.handle(Compact())
    with pytest.raises(TypeError, match="got tuple"):
        shard.handle((ShardStore.get_session, ("s1", None, None)))


@pytest.mark.parametrize("name", ["list_sessions", "export", "load", "reconfigure", "_remove"])
async def test_replay_refuses_an_operation_that_is_never_journaled(
    tmp_path: Path, name: str
) -> None:
    from engine._durable._format import encode_entry, frame

    await write_sessions(tmp_path, 2)
    path = journal_files(tmp_path)[0]
    with open(path, "ab") as file:
        file.write(frame(encode_entry(3, START, name, ())))
    with pytest.raises(
        JournalCorrupt, match=rf"^{path}: entry 3: unknown operation '{name}' \(journaled"
    ):
        await session_ids(tmp_path)


def test_copies_and_pickles_of_an_op_are_the_op() -> None:
    import copy
    import pickle

    call = Call(ops.GET_DOC, ("d1",), "d1")
    assert copy.deepcopy(call).op is ops.GET_DOC
    assert pickle.loads(pickle.dumps(call)).op is ops.GET_DOC


def test_lowlevel_exports_the_vocabulary() -> None:
    import engine
    import engine.lowlevel as lowlevel

    assert lowlevel.OPS is OPS and lowlevel.Op is Op
    assert lowlevel.ShardStore is engine.ShardStore is ShardStore
    assert lowlevel.shard_of is engine.shard_of and lowlevel.ExpiryIndex is engine.ExpiryIndex
    assert Op.__module__ == "engine.lowlevel"
