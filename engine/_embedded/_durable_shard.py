"""Durability: the committing shard behaviour, which journals each batch's writes.

Compaction (Redis' AOF rewrite is the model): when the journal outgrows the snapshot
by ``compact_factor``, the owner takes the live rows (an O(n) list of references to
immutable tuples, no record built), starts a new journal segment, and a background task writes the
snapshot in a worker thread and then deletes the older segments. The shard keeps
serving while the snapshot is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final

import trio

from actors import CommitFailed
from engine._api._clock import EngineClock
from engine._core._errors import JournalUnavailable
from engine._core._ops import (
    DELETE_CHECKPOINT_THREAD,
    DELETE_DOC,
    DELETE_ITEM,
    DELETE_MEMORY,
    DELETE_SESSIONS,
    DELETE_WORKING,
    Compact,
    Op,
)
from engine._durable._data_dir import fsync_dir, snapshot_body, write_snapshot
from engine._durable._journal import ShardJournal
from engine._durable._row_entries import ROW_WRITES
from engine._embedded._shard import ShardBehaviour
from engine._store._dispatch import STORE_METHODS
from engine._store._store import ShardStore, StoreRows

__all__ = ["DurableShard"]


#: The journal entry that replays an eviction of each record kind (the store's kind
#: number -> the delete operation and its arguments for the record's key).
_EVICTION_ENTRIES: Final[tuple[Callable[[Any], tuple[Op, tuple[Any, ...]]], ...]] = (
    lambda sid: (DELETE_SESSIONS, ((sid,), None)),
    lambda key: (DELETE_MEMORY, key),
    lambda key: (DELETE_WORKING, key),
    lambda doc_id: (DELETE_DOC, (doc_id,)),
    lambda ident: (DELETE_ITEM, ident),  # an item: (namespace, key)
    lambda thread_id: (DELETE_CHECKPOINT_THREAD, (thread_id,)),  # a whole thread
)


class DurableShard(ShardBehaviour):
    """A shard behaviour that journals its writes and commits each batch.

    Args:
        store, clock: as :class:`ShardBehaviour`.
        journal: the shard's :class:`ShardJournal`.
        spawn: starts a background task (for compaction), e.g. ``nursery.start_soon``.
        compact_factor: compact when the journal exceeds this many times the snapshot.
        compact_min_bytes: ... and is larger than this many bytes.
    """

    __slots__ = (
        "_compact_factor",
        "_compact_min",
        "_compact_requested",
        "_compacting",
        "_position",
        "_spawn",
        "_writes",
        "compactions",
        "journal",
    )

    def __init__(
        self,
        store: ShardStore,
        clock: EngineClock,
        journal: ShardJournal,
        spawn: Callable[..., Any],
        *,
        compact_factor: float,
        compact_min_bytes: int,
    ) -> None:
        super().__init__(store, clock)
        store.eviction_log = []  # evictions are journaled (as deletes) before the write
        self.journal = journal
        self._spawn = spawn
        self._compact_factor = compact_factor
        self._compact_min = compact_min_bytes
        self._compacting = False
        self._compact_requested = False
        self.compactions = 0
        self._position = -1  # the position in the batch of the request being served
        self._writes: list[int] = []  # positions of the batch's journaled writes

    def handle(self, message: object) -> object:
        """Serve one request (journaling what changed state), or a compaction request."""
        self._position += 1
        if type(message) is Compact:
            self._compact_requested = True  # done in commit(), right after this batch
            return True
        return super().handle(message)

    def _apply(self, op: Op, args: tuple[Any, ...], now: float) -> Any:
        method = STORE_METHODS[op]
        store = self.store
        if op.writes:
            journal = self.journal
            if journal.failure is not None and not journal.retry_due():
                raise journal.unavailable()  # refused before it changes anything
            # Encode (or check) first: a write the journal cannot hold fails before
            # it changes anything (and before it takes a sequence number).
            stores_row = ROW_WRITES.get(op)
            if stores_row is None:
                entry = journal.encode(now, op.name, args)
            else:
                journal.check_row(op.name, args)
            try:
                result = method(store, now, *args)
            finally:
                evicted = self._journal_evictions(now)
            if stores_row is not None:  # journaled as the row it stored (always encodes)
                kind, key_of = stores_row
                row, ttl = store.stored_row(kind, key_of(args))
                entry = journal.encode_row(now, op.name, kind, row, ttl)
            elif evicted:  # the entry comes after the evictions: its sequence moved on
                entry = journal.encode(now, op.name, args)
            journal.append(entry)
            self._writes.append(self._position)
            return result
        touches = store.touches
        result = method(store, now, *args)
        if store.touches != touches:  # a read that restarted a TTL (ids only: encodable)
            self.journal.append(self.journal.encode(now, op.name, args))
        return result

    def _journal_evictions(self, now: float) -> bool:
        """Journal the records the write just evicted for the memory budget, as the
        deletes that replay them (replay does not evict: it repeats these); return
        whether there were any."""
        log = self.store.eviction_log
        if not log:
            return False
        for kind, key in log:
            delete, args = _EVICTION_ENTRIES[kind](key)
            self.journal.append(self.journal.encode(now, delete.name, args))
        log.clear()
        return True

    async def commit(self) -> None:
        """Group commit of the batch just served; maybe start a compaction.

        Raises:
            CommitFailed: if the journal could not be written: the batch's writes get
                :class:`JournalUnavailable`, its reads their results, and the shard
                keeps serving (see :class:`ShardJournal`).
        """
        journal = self.journal
        writes, self._writes, self._position = self._writes, [], -1
        try:
            await journal.commit()
        except JournalUnavailable as error:
            if writes:
                raise CommitFailed(error, frozenset(writes)) from None
            return
        if journal.failure is not None:
            return  # no compaction on a disk that just failed
        if self._compact_requested:
            self._compact_requested = False
            await self.start_compaction()
        elif (
            not self._compacting
            and journal.journal_bytes > self._compact_min
            and journal.journal_bytes > self._compact_factor * journal.snapshot_bytes
        ):
            await self.start_compaction()

    async def start_compaction(self) -> bool:
        """Start writing a snapshot in the background; ``False`` if one is running."""
        if self._compacting:
            return False
        self._compacting = True
        now = self._clock.now()
        contents = self.store.export_rows(now)  # rows as stored: encoded in the thread
        seq = self.journal.seq
        segment = await self.journal.rotate()
        self._spawn(self._write_snapshot, contents, now, seq, segment)
        return True

    async def _write_snapshot(
        self, contents: StoreRows, now: float, seq: int, segment: int
    ) -> None:
        journal = self.journal
        files = journal.files

        def write() -> int:
            body = snapshot_body(contents, now, files.shard, journal.shards, seq, segment)
            size = write_snapshot(files, body)
            for old in files.segments():
                if old < segment:
                    os.unlink(files.journal(old))
            fsync_dir(files.root)
            return size

        try:
            journal.snapshot_bytes = await trio.to_thread.run_sync(write)
            self.compactions += 1
        finally:
            self._compacting = False
