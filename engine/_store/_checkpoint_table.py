"""The checkpoint table of one shard: per thread, per checkpoint namespace (a
*lane*), the checkpoints in id order (LangGraph's ids sort by creation), the channel
blobs by ``(channel, version)`` and the pending writes by checkpoint.

Everything held is GC-untracked (rows and keys of ``engine._core._checkpoint_rows``):
flat dicts keyed by tuples of ids, one :class:`ChunkedSortedList` of every entry's
key, tagged ``(thread_id, checkpoint_ns, 0, checkpoint_id)`` for a checkpoint,
``(..., 1, channel, version)`` for a blob and ``(..., 2, checkpoint_id)`` for a
checkpoint's writes (so a lane's entries are one range, its checkpoints a sub-range
in id order), and per thread one row ``(expires_at, cost, lanes)``: its deadline,
the bytes it accounts for in the memory budget (the unit of eviction is the thread)
and the sorted tuple of its lanes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from engine._core._checkpoint_rows import (
    C_RUN,
    C_VERSIONS,
    blob_size,
    checkpoint_size,
    version_pairs,
    write_size,
)
from engine._store._chunked import ChunkedSortedList
from engine._store._eviction import RECORD_OVERHEAD

__all__ = [
    "BLOB",
    "CHECKPOINT",
    "T_COST",
    "T_LANES",
    "WRITES",
    "CheckpointTable",
    "cost",
    "writes_cost",
]

Row = tuple[Any, ...]
Key = tuple[str, str, str]

T_COST: Final = 1
T_LANES: Final = 2
#: The tags of the index's keys: ``(thread_id, checkpoint_ns, tag, ...)``.
CHECKPOINT: Final = 0
BLOB: Final = 1
WRITES: Final = 2


def cost(key: Row, row: Row) -> int:
    """The bytes one checkpoint (a 3-part key) or blob (a 4-part key) accounts for:
    ``RECORD_OVERHEAD`` plus the characters and bytes of its key and row."""
    if len(key) == 3:
        return RECORD_OVERHEAD + checkpoint_size(key, row)
    return RECORD_OVERHEAD + blob_size(key, row)


def writes_cost(rows: Row) -> int:
    """The bytes a checkpoint's pending writes account for: per write
    ``RECORD_OVERHEAD`` plus its characters and bytes."""
    return RECORD_OVERHEAD * len(rows) + sum(map(write_size, rows))


class CheckpointTable:
    """Threads by ``thread_id``, their rows, and checkpoints by run id (for
    ``delete_for_runs``). Each mutator returns the change of the bytes accounted."""

    __slots__ = ("blobs", "checkpoints", "index", "runs", "threads", "writes")

    def __init__(self) -> None:
        self.threads: dict[str, Row] = {}
        self.checkpoints: dict[Key, Row] = {}
        self.blobs: dict[tuple[str, str, str, str], Row] = {}
        self.writes: dict[Key, Row] = {}
        self.index = ChunkedSortedList()
        #: run_id -> ((thread_id, checkpoint_ns, checkpoint_id), ...)
        self.runs: dict[str, tuple[Key, ...]] = {}

    def __len__(self) -> int:
        return len(self.threads)

    # -- threads ---------------------------------------------------------------

    def _account(self, thread_id: str, checkpoint_ns: str, delta: int) -> int:
        row = self.threads.get(thread_id)
        if row is None:
            row = self.threads[thread_id] = (None, 0, (checkpoint_ns,))
        elif checkpoint_ns not in row[T_LANES]:
            row = (row[0], row[T_COST], tuple(sorted((*row[T_LANES], checkpoint_ns))))
        self.threads[thread_id] = (row[0], row[T_COST] + delta, row[T_LANES])
        return delta

    def set_deadline(self, thread_id: str, expires: float | None) -> None:
        """Set a stored thread's deadline (epoch seconds)."""
        row = self.threads[thread_id]
        self.threads[thread_id] = (expires, *row[1:])

    def lane_keys(self, thread_id: str, checkpoint_ns: str) -> Iterator[Row]:
        """The tagged keys of a lane's entries, in order (checkpoints by id, blobs,
        writes). The lane must not change while the iterator is in use."""
        return self.index.irange(
            (thread_id, checkpoint_ns),
            (thread_id, checkpoint_ns, WRITES + 1),
            inclusive=(True, False),
        )

    def drop(self, thread_id: str) -> Row | None:
        """Remove a whole thread; return its row, or ``None``. O(thread size · log n)."""
        row = self.threads.pop(thread_id, None)
        if row is None:
            return None
        for ns in row[T_LANES]:
            for tagged in list(self.lane_keys(thread_id, ns)):
                self.index.remove(tagged)
                if tagged[2] == CHECKPOINT:
                    key = (thread_id, ns, tagged[3])
                    self._unindex(key, self.checkpoints.pop(key))
                elif tagged[2] == BLOB:
                    del self.blobs[(thread_id, ns, tagged[3], tagged[4])]
                else:
                    del self.writes[(thread_id, ns, tagged[3])]
        return row

    # -- checkpoints -------------------------------------------------------------

    def checkpoint_cost(self, key: Key, row: Row) -> int:
        """How many bytes storing checkpoint ``row`` at ``key`` adds."""
        old = self.checkpoints.get(key)
        return cost(key, row) - (0 if old is None else cost(key, old))

    def put_checkpoint(self, key: Key, row: Row) -> int:
        """Insert or replace a checkpoint (its run index follows)."""
        delta = self.checkpoint_cost(key, row)
        old = self.checkpoints.get(key)
        if old is not None:
            self._unindex(key, old)
        else:
            self.index.add((key[0], key[1], CHECKPOINT, key[2]))
        self.checkpoints[key] = row
        run_id = row[C_RUN]
        if run_id is not None:
            self.runs[run_id] = (*self.runs.get(run_id, ()), key)
        return self._account(key[0], key[1], delta)

    def remove_checkpoint(self, key: Key) -> int:
        """Remove a checkpoint and its pending writes."""
        row = self.checkpoints.pop(key)
        self.index.remove((key[0], key[1], CHECKPOINT, key[2]))
        self._unindex(key, row)
        return self.set_writes(key, ()) + self._account(key[0], key[1], -cost(key, row))

    def _unindex(self, key: Key, row: Row) -> None:
        run_id = row[C_RUN]
        if run_id is None:
            return
        keys = tuple(k for k in self.runs.get(run_id, ()) if k != key)
        if keys:
            self.runs[run_id] = keys
        else:
            self.runs.pop(run_id, None)

    def latest(self, thread_id: str, checkpoint_ns: str) -> str | None:
        """The newest checkpoint id of a lane, or ``None``. O(log n)."""
        return next(self.ids(thread_id, checkpoint_ns, None), None)

    def ids(self, thread_id: str, checkpoint_ns: str, before: str | None) -> Iterator[str]:
        """A lane's checkpoint ids below ``before`` (all when ``None``), newest first."""
        upper: Row = (thread_id, checkpoint_ns, BLOB)
        if before is not None:
            upper = (thread_id, checkpoint_ns, CHECKPOINT, before)
        tagged = self.index.irange(
            (thread_id, checkpoint_ns, CHECKPOINT), upper, inclusive=(True, False), reverse=True
        )
        return (entry[3] for entry in tagged)

    # -- blobs ---------------------------------------------------------------------

    def blob_cost(self, key: tuple[str, str, str, str], row: Row) -> int:
        """How many bytes storing blob ``row`` at ``key`` adds."""
        old = self.blobs.get(key)
        return cost(key, row) - (0 if old is None else cost(key, old))

    def put_blob(self, key: tuple[str, str, str, str], row: Row) -> int:
        """Insert or replace a channel blob."""
        delta = self.blob_cost(key, row)
        if key not in self.blobs:
            self.index.add((key[0], key[1], BLOB, key[2], key[3]))
        self.blobs[key] = row
        return self._account(key[0], key[1], delta)

    def blobs_of(self, key: Key, versions: Row) -> Iterator[Row]:
        """The stored ``(blob key, row)`` of the channel versions a checkpoint names
        (``versions``: its row's)."""
        for channel, version in version_pairs(versions):
            blob_key = (key[0], key[1], channel, version)
            row = self.blobs.get(blob_key)
            if row is not None:
                yield blob_key, row

    def collect_blobs(self, thread_id: str, checkpoint_ns: str) -> int:
        """Drop the blobs no checkpoint of the lane names. O(lane size · log n)."""
        used: set[tuple[str, str]] = set()
        unused: list[Row] = []
        for tagged in list(self.lane_keys(thread_id, checkpoint_ns)):
            if tagged[2] == CHECKPOINT:
                versions = self.checkpoints[(thread_id, checkpoint_ns, tagged[3])][C_VERSIONS]
                used.update(version_pairs(versions))
            elif tagged[2] == BLOB and tagged[3:] not in used:
                unused.append(tagged)
        delta = 0
        for tagged in unused:
            self.index.remove(tagged)
            key = (thread_id, checkpoint_ns, tagged[3], tagged[4])
            delta -= cost(key, self.blobs.pop(key))
        return self._account(thread_id, checkpoint_ns, delta)

    # -- pending writes --------------------------------------------------------------

    def writes_of(self, key: Key) -> Row:
        """The pending write rows of the checkpoint at ``key`` (``()`` if none)."""
        return self.writes.get(key, ())

    def set_writes(self, key: Key, rows: Row) -> int:
        """Replace the pending writes of the checkpoint at ``key`` (``()``: none)."""
        old = self.writes.get(key)
        tagged = (key[0], key[1], WRITES, key[2])
        if not rows:
            if old is None:
                return 0
            del self.writes[key]
            self.index.remove(tagged)
            return self._account(key[0], key[1], -writes_cost(old))
        if old is None:
            self.index.add(tagged)
        self.writes[key] = rows
        return self._account(key[0], key[1], writes_cost(rows) - writes_cost(old or ()))

    def clear(self) -> None:
        """Remove every thread."""
        for table in (self.threads, self.checkpoints, self.blobs, self.writes, self.runs):
            table.clear()
        self.index.clear()

    def _check(self) -> None:
        self.index._check()
        seen = {tid: 0 for tid in self.threads}
        lanes: dict[str, set[str]] = {tid: set() for tid in self.threads}
        for tagged in self.index:
            tid, ns, tag = tagged[:3]
            lanes[tid].add(ns)
            if tag == CHECKPOINT:
                key = (tid, ns, tagged[3])
                seen[tid] += cost(key, self.checkpoints[key])
            elif tag == BLOB:
                key4 = (tid, ns, tagged[3], tagged[4])
                seen[tid] += cost(key4, self.blobs[key4])
            else:
                seen[tid] += writes_cost(self.writes[(tid, ns, tagged[3])])
        assert len(self.index) == len(self.checkpoints) + len(self.blobs) + len(self.writes)
        for tid, row in self.threads.items():
            assert row[T_COST] == seen[tid], (tid, row, seen[tid])
            assert set(row[T_LANES]) >= lanes[tid]
        runs = {(c[C_RUN], *k) for k, c in self.checkpoints.items() if c[C_RUN] is not None}
        assert runs == {(run, *key) for run, keys in self.runs.items() for key in keys}
