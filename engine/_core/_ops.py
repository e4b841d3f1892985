"""The operation vocabulary: every request a shard (or a Redis partition) serves.

An :class:`Op` is a frozen value naming one operation of one shard's store. Its
``name`` is the wire name: a durable shard writes it into each journal entry and replay
reads it back, the Redis backend runs the operation of that name. The names are the
names the journal has always carried (``ShardStore``'s method names), and they never
change with a Python rename: renaming ``ShardStore.store_working`` breaks
``tests/engine/test_ops.py``, not the on-disk format.

A request to a shard is a typed message:

- :class:`Call` — one operation and its arguments (after ``now``), with the key that
  routes it (``None`` for a call sent to every shard);
- :class:`Batch` — a pipeline's calls for one shard, run in order at one ``now``;
- :class:`Compact` — ask a durable shard to compact its journal.

Pure values: no trio, no store. Each backend maps an :class:`Op` to its own code
(``engine._store._dispatch.STORE_METHODS``, ``RedisOps`` methods of the same name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, NamedTuple

import attrs

__all__ = [
    "CLEAR",
    "EXPORT",
    "OPS",
    "Batch",
    "Call",
    "Compact",
    "Op",
]

Kind = Literal["sessions", "memories", "working", "knowledge", "items", "checkpoints", "store"]


@attrs.frozen(eq=False)
class Op:
    """One operation of a shard's store.

    Ops are singletons (compared and hashed by identity): use the constants of this
    module, or look one up by wire name in :data:`OPS`.

    Attributes:
        name: the stable wire name (journal entries, Redis dispatch).
        kind: the record kind it touches (``"sessions"``, ``"memories"``,
            ``"working"``, ``"knowledge"``, ``"items"``, ``"checkpoints"``), or
            ``"store"`` for whole-store ones.
        writes: it changes state; a durable shard journals every call.
        refreshes: a read that may restart a TTL (``refresh_on_read``); a durable
            shard journals a call that did.
        fan_out: it may be sent to every shard (lists, all-user topics, clear, export).
        pipelined: a pipeline may queue it (single-shard, one result).
    """

    name: str
    kind: Kind
    writes: bool = False
    refreshes: bool = False
    fan_out: bool = False
    pipelined: bool = False

    @property
    def journaled(self) -> bool:
        """Whether a journal may hold it (and replay must accept it)."""
        return self.writes or self.refreshes

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _op_named, (self.name,)  # copies and pickles stay the singleton


def _op_named(name: str) -> Op:
    return OPS[name]


def _write(name: str, kind: Kind, *, pipelined: bool = True) -> Op:
    return Op(name, kind, writes=True, pipelined=pipelined)


def _read(name: str, kind: Kind) -> Op:
    return Op(name, kind, refreshes=True, pipelined=True)


def _listing(name: str, kind: Kind, *, pipelined: bool = False) -> Op:
    return Op(name, kind, fan_out=True, pipelined=pipelined)


UPSERT_SESSION: Final = _write("upsert_session", "sessions")
GET_SESSION: Final = _read("get_session", "sessions")
LIST_SESSIONS: Final = _listing("list_sessions", "sessions")
RENAME_SESSION: Final = _write("rename_session", "sessions")
DELETE_SESSION: Final = _write("delete_session", "sessions")
DELETE_SESSIONS: Final = _write("delete_sessions", "sessions", pipelined=False)
APPEND_RUN: Final = _write("append_run", "sessions")
GET_RUNS: Final = _read("get_runs", "sessions")
GET_MESSAGES: Final = _read("get_messages", "sessions")
SET_SUMMARY: Final = _write("set_summary", "sessions")
GET_SUMMARY: Final = _read("get_summary", "sessions")

UPSERT_MEMORY: Final = _write("upsert_memory", "memories")
GET_MEMORY: Final = _read("get_memory", "memories")
LIST_MEMORIES: Final = _listing("list_memories", "memories")
SEARCH_MEMORIES: Final = _read("search_memories", "memories")
MEMORY_TOPICS: Final = _listing("memory_topics", "memories")
DELETE_MEMORY: Final = _write("delete_memory", "memories")
CLEAR_MEMORIES: Final = _write("clear_memories", "memories")

STORE_WORKING: Final = _write("store_working", "working")
RETRIEVE_WORKING: Final = _read("retrieve_working", "working")
UPDATE_WORKING: Final = _write("update_working", "working")
DELETE_WORKING: Final = _write("delete_working", "working")

UPSERT_DOC: Final = _write("upsert_doc", "knowledge")
GET_DOC: Final = _read("get_doc", "knowledge")
LIST_DOCS: Final = _listing("list_docs", "knowledge")
DELETE_DOC: Final = _write("delete_doc", "knowledge")

# LangGraph's records (mem.items, mem.checkpoints): never pipelined; a read that may
# restart an item's TTL (``refresh_ttl=True``) is journaled when it did.
PUT_ITEM: Final = Op("put_item", "items", writes=True)
GET_ITEM: Final = Op("get_item", "items", refreshes=True)
DELETE_ITEM: Final = Op("delete_item", "items", writes=True)
SEARCH_ITEMS: Final = Op("search_items", "items", refreshes=True, fan_out=True)
LIST_ITEM_NAMESPACES: Final = _listing("list_item_namespaces", "items")

PUT_CHECKPOINT: Final = Op("put_checkpoint", "checkpoints", writes=True)
PUT_CHECKPOINT_WRITES: Final = Op("put_checkpoint_writes", "checkpoints", writes=True)
GET_CHECKPOINT: Final = Op("get_checkpoint", "checkpoints")
LIST_CHECKPOINTS: Final = _listing("list_checkpoints", "checkpoints")
DELETE_CHECKPOINT_THREAD: Final = Op("delete_checkpoint_thread", "checkpoints", writes=True)
DELETE_CHECKPOINT_RUNS: Final = Op(
    "delete_checkpoint_runs", "checkpoints", writes=True, fan_out=True
)
PRUNE_CHECKPOINTS: Final = Op("prune_checkpoints", "checkpoints", writes=True)
EXPORT_CHECKPOINT_THREAD: Final = Op("export_checkpoint_thread", "checkpoints")
IMPORT_CHECKPOINT_THREAD: Final = Op("import_checkpoint_thread", "checkpoints", writes=True)

CLEAR: Final = Op("clear", "store", writes=True, fan_out=True)
EXPORT: Final = Op("export", "store", fan_out=True)

#: Every operation by wire name.
OPS: Final[dict[str, Op]] = {
    op.name: op
    for op in (
        UPSERT_SESSION, GET_SESSION, LIST_SESSIONS, RENAME_SESSION, DELETE_SESSION,
        DELETE_SESSIONS, APPEND_RUN, GET_RUNS, GET_MESSAGES, SET_SUMMARY, GET_SUMMARY,
        UPSERT_MEMORY, GET_MEMORY, LIST_MEMORIES, SEARCH_MEMORIES, MEMORY_TOPICS,
        DELETE_MEMORY, CLEAR_MEMORIES,
        STORE_WORKING, RETRIEVE_WORKING, UPDATE_WORKING, DELETE_WORKING,
        UPSERT_DOC, GET_DOC, LIST_DOCS, DELETE_DOC,
        PUT_ITEM, GET_ITEM, DELETE_ITEM, SEARCH_ITEMS, LIST_ITEM_NAMESPACES,
        PUT_CHECKPOINT, PUT_CHECKPOINT_WRITES, GET_CHECKPOINT, LIST_CHECKPOINTS,
        DELETE_CHECKPOINT_THREAD, DELETE_CHECKPOINT_RUNS, PRUNE_CHECKPOINTS,
        EXPORT_CHECKPOINT_THREAD, IMPORT_CHECKPOINT_THREAD,
        CLEAR, EXPORT,
    )
}  # fmt: skip


class Call(NamedTuple):
    """A request for one operation: ``op`` applied to ``args`` (after the shard's ``now``).

    ``key`` routes it (``shard_of(key, shards)``); ``None`` for a call sent to every
    shard. A tuple: building one costs what the ``(function, args)`` tuple it replaces
    did.
    """

    op: Op
    args: tuple[Any, ...]
    key: str | None = None


class Batch(NamedTuple):
    """A pipeline's calls for one shard: run in order at one ``now``, each succeeding
    or failing on its own. The shard answers with each call's value in one list and
    the errors by position (``engine._api._batch.BatchReply``). Each call is a
    :class:`Call` or a plain ``(op, args, key)`` tuple (cheaper to build); the sender
    does not change ``calls`` once sent."""

    calls: Sequence[tuple[Op, tuple[Any, ...], str | None]]


class Compact(NamedTuple):
    """Ask a durable shard to compact its journal after the current batch (a shard
    without a journal refuses it)."""
