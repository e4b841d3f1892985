"""Shard store operations on checkpoints (LangGraph's ``BaseCheckpointSaver`` shape).

A thread's checkpoints, blobs and writes live on the shard of its ``thread_id``, as
rows (``engine._core._checkpoint_rows``) built into records on read. A thread may
have a TTL (seconds): every write restarts it, and when it runs out the expiry index
removes the whole thread. A thread is also the unit of the memory budget: a write
that does not fit evicts other records (never a part of a thread), or raises
``MemoryLimitExceeded``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine._core._checkpoint_rows import (
    C_METADATA,
    C_VERSIONS,
    blob_of,
    blob_row,
    checkpoint_of,
    checkpoint_row,
    write_of,
    write_row,
)
from engine._core._encoded import decode_payload
from engine._core._errors import InvalidArgument
from engine._core._items import ChannelBlob, Checkpoint, PendingWrite
from engine._core._records import replace
from engine._core._rows import EXPIRES
from engine._store._base import TTL
from engine._store._checkpoint_table import BLOB, CHECKPOINT, T_LANES, cost, writes_cost
from engine._store._record_kinds import THREAD, RecordKinds

__all__ = ["CheckpointEntry", "CheckpointOps"]

#: What a read returns per checkpoint: the checkpoint, its channel blobs, its writes.
CheckpointEntry = tuple[Checkpoint, tuple[ChannelBlob, ...], tuple[PendingWrite, ...]]
Record = Checkpoint | ChannelBlob | PendingWrite
Key = tuple[str, str, str]
Row = tuple[Any, ...]

STRATEGIES = ("keep_latest", "delete")


class CheckpointOps(RecordKinds):
    """Checkpoints by ``(thread_id, checkpoint_ns, checkpoint_id)``."""

    def _keep_alive(self, now: float, thread_id: str, ttl: TTL, delta: int) -> None:
        self._set_thread_deadline(thread_id, ttl, self._deadline(now, ttl))
        self._thread_changed(thread_id, delta)

    def put_checkpoint(
        self, now: float, checkpoint: Checkpoint, blobs: tuple[ChannelBlob, ...], ttl: TTL
    ) -> Checkpoint:
        """Store a checkpoint and the channel blobs it introduces; restart the thread's
        TTL. O(log n + blobs). May evict other records for the memory budget.

        Raises:
            InvalidArgument: for a blob of another thread or namespace.
            MemoryLimitExceeded: when the thread cannot fit (see ``docs/memory.md``).
        """
        thread_id, ns = checkpoint.thread_id, checkpoint.checkpoint_ns
        for blob in blobs:
            if (blob.thread_id, blob.checkpoint_ns) != (thread_id, ns):
                raise InvalidArgument("put_checkpoint: a blob of another thread or namespace")
        self._live(THREAD, thread_id, now)  # an expired thread starts afresh
        stored = replace(checkpoint, created_at=now)
        key = (thread_id, ns, checkpoint.checkpoint_id)
        row = checkpoint_row(stored)
        blob_rows = {(thread_id, ns, b.channel, b.version): blob_row(b) for b in blobs}
        table = self.threads
        grow = table.checkpoint_cost(key, row)
        grow += sum(table.blob_cost(blob_key, r) for blob_key, r in blob_rows.items())
        self._fit_thread(thread_id, grow)
        delta = sum(table.put_blob(blob_key, r) for blob_key, r in blob_rows.items())
        delta += table.put_checkpoint(key, row)
        self._keep_alive(now, thread_id, ttl, delta)
        return stored

    def put_checkpoint_writes(self, now: float, writes: tuple[PendingWrite, ...], ttl: TTL) -> int:
        """Store pending writes; a write whose ``(checkpoint_id, task_id, idx)`` is
        stored already is skipped when ``idx >= 0`` (idempotent retries) and replaced
        when ``idx < 0`` (LangGraph's special channels). Returns how many were stored.

        Raises:
            InvalidArgument: for writes of more than one thread.
            MemoryLimitExceeded: when the thread cannot fit (see ``docs/memory.md``).
        """
        if not writes:
            return 0
        thread_id = writes[0].thread_id
        if any(w.thread_id != thread_id for w in writes):
            raise InvalidArgument("put_checkpoint_writes: writes of more than one thread")
        self._live(THREAD, thread_id, now)
        plans, stored = self._plan_writes(writes, skip_stored=True)
        table = self.threads
        grow = sum(writes_cost(rows) - writes_cost(table.writes_of(k)) for k, rows in plans.items())
        self._fit_thread(thread_id, grow)
        delta = sum(table.set_writes(key, rows) for key, rows in plans.items())
        self._keep_alive(now, thread_id, ttl, delta)
        return stored

    def _plan_writes(
        self, writes: Iterable[PendingWrite], skip_stored: bool
    ) -> tuple[dict[Key, Row], int]:
        """The pending write rows per checkpoint after adding ``writes`` (a stored
        ``(task_id, idx)`` keeps its place; with ``skip_stored``, kept as it is when
        ``idx >= 0``), and how many of ``writes`` are stored."""
        plans: dict[Key, list[Row]] = {}
        slots: dict[Key, dict[tuple[str, int], int]] = {}
        stored = 0
        for write in writes:
            key = (write.thread_id, write.checkpoint_ns, write.checkpoint_id)
            rows = plans.get(key)
            if rows is None:
                rows = plans[key] = list(self.threads.writes_of(key))
                slots[key] = {(r[0], r[1]): i for i, r in enumerate(rows)}
            position = slots[key].get((write.task_id, write.idx))
            if position is None:
                slots[key][(write.task_id, write.idx)] = len(rows)
                rows.append(write_row(write))
            elif skip_stored and write.idx >= 0:
                continue
            else:
                rows[position] = write_row(write)
            stored += 1
        return {key: tuple(rows) for key, rows in plans.items()}, stored

    def _entry(self, key: Key, row: Row) -> CheckpointEntry:
        table = self.threads
        blobs = tuple([blob_of(k, r) for k, r in table.blobs_of(key, row[C_VERSIONS])])
        return (
            checkpoint_of(key, row),
            blobs,
            tuple([write_of(key, w) for w in table.writes_of(key)]),
        )

    def get_checkpoint(
        self, now: float, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> CheckpointEntry | None:
        """A checkpoint (the latest when ``checkpoint_id`` is ``None``) with its blobs
        and writes, or ``None``. O(log n + size)."""
        if self._live(THREAD, thread_id, now) is None:
            return None
        if checkpoint_id is None:
            checkpoint_id = self.threads.latest(thread_id, checkpoint_ns)
            if checkpoint_id is None:
                return None
        key = (thread_id, checkpoint_ns, checkpoint_id)
        row = self.threads.checkpoints.get(key)
        if row is None:
            return None
        self._eviction.read((THREAD, thread_id))
        return self._entry(key, row)

    def list_checkpoints(
        self,
        now: float,
        thread_id: str | None,
        checkpoint_ns: str | None,
        checkpoint_id: str | None,
        filter: Mapping[str, Any] | None,
        before: str | None,
        limit: int | None,
    ) -> list[tuple[tuple[str, str, str], CheckpointEntry]]:
        """Checkpoints newest first (by id), with ``(-)``sortable keys for merging:
        of one thread (or all), one namespace (or all), one id (or all), whose
        metadata has every ``filter`` entry, with ids below ``before``; at most
        ``limit``. O(log n + visited)."""
        if thread_id is None:
            every = list(self.threads.threads)
            threads = [t for t in every if self._live(THREAD, t, now) is not None]
        else:
            threads = [thread_id] if self._live(THREAD, thread_id, now) is not None else []
        found: list[tuple[tuple[str, str, str], CheckpointEntry]] = []
        table = self.threads
        for tid in threads:
            for ns in table.threads[tid][T_LANES]:
                if checkpoint_ns is not None and ns != checkpoint_ns:
                    continue
                for cid in table.ids(tid, ns, before):
                    if checkpoint_id is not None and cid != checkpoint_id:
                        continue
                    key = (tid, ns, cid)
                    row = table.checkpoints[key]
                    if filter:
                        metadata = decode_payload(row[C_METADATA])
                        if any(metadata.get(name) != value for name, value in filter.items()):
                            continue
                    found.append(((cid, tid, ns), self._entry(key, row)))
                    if thread_id is not None and limit is not None and len(found) >= limit:
                        break
        found.sort(key=lambda pair: pair[0], reverse=True)
        return found if limit is None else found[:limit]

    def delete_checkpoint_thread(self, now: float, thread_id: str) -> bool:
        """Delete every checkpoint, blob and write of a thread; ``False`` if none."""
        if self._live(THREAD, thread_id, now) is None:
            return False
        self._remove(THREAD, thread_id)
        return True

    def delete_checkpoint_runs(self, now: float, run_ids: tuple[str, ...]) -> int:
        """Delete the checkpoints (and their writes) made by any of ``run_ids``, and the
        blobs no remaining checkpoint names; return how many checkpoints went."""
        table = self.threads
        removed = 0
        touched: set[tuple[str, str]] = set()
        for run_id in run_ids:
            for key in sorted(table.runs.get(run_id, ())):
                self.used_memory += table.remove_checkpoint(key)
                touched.add(key[:2])
                removed += 1
        for thread_id, ns in touched:
            self.used_memory += table.collect_blobs(thread_id, ns)
        return removed

    def prune_checkpoints(self, now: float, thread_ids: tuple[str, ...], strategy: str) -> int:
        """``keep_latest``: keep only each namespace's newest checkpoint (its writes and
        blobs); ``delete``: delete the threads. Returns the checkpoints removed."""
        if strategy not in STRATEGIES:
            raise InvalidArgument(f"prune: expected strategy in {STRATEGIES}, got {strategy!r}")
        table = self.threads
        removed = 0
        for thread_id in thread_ids:
            row = self._live(THREAD, thread_id, now)
            if row is None:
                continue
            if strategy == "delete":
                removed += sum(
                    sum(1 for _ in table.ids(thread_id, ns, None)) for ns in row[T_LANES]
                )
                self._remove(THREAD, thread_id)
                continue
            for ns in row[T_LANES]:
                for cid in list(table.ids(thread_id, ns, None))[1:]:
                    self.used_memory += table.remove_checkpoint((thread_id, ns, cid))
                    removed += 1
                self.used_memory += table.collect_blobs(thread_id, ns)
        return removed

    def _thread_records(self, thread_id: str) -> Iterator[Record]:
        """Every record of a stored thread: per lane its checkpoints (by id), blobs and
        writes."""
        table = self.threads
        for ns in table.threads[thread_id][T_LANES]:
            for tagged in list(table.lane_keys(thread_id, ns)):
                if tagged[2] == CHECKPOINT:
                    key = (thread_id, ns, tagged[3])
                    yield checkpoint_of(key, table.checkpoints[key])
                elif tagged[2] == BLOB:
                    blob_key = (thread_id, ns, tagged[3], tagged[4])
                    yield blob_of(blob_key, table.blobs[blob_key])
                else:
                    key = (thread_id, ns, tagged[3])
                    yield from (write_of(key, w) for w in table.writes_of(key))

    def export_checkpoint_thread(self, now: float, thread_id: str) -> tuple[Record, ...]:
        """Every record of a thread (checkpoints, blobs, writes). O(thread size)."""
        if self._live(THREAD, thread_id, now) is None:
            return ()
        return tuple(self._thread_records(thread_id))

    def _dump_checkpoints(self, now: float) -> Iterator[Record]:
        """Every record of every live thread."""
        for thread_id, row in self.threads.threads.items():
            if self._alive(row, now):
                yield from self._thread_records(thread_id)

    def import_checkpoint_thread(self, now: float, records: tuple[Record, ...], ttl: TTL) -> int:
        """Add exported records (all of one thread, e.g. renamed by ``copy_thread``),
        keeping checkpoints' times; restart the thread's TTL. Returns how many.

        Raises:
            InvalidArgument: for records of more than one thread.
            MemoryLimitExceeded: when the thread cannot fit (see ``docs/memory.md``).
        """
        threads = {record.thread_id for record in records}
        if len(threads) > 1:
            raise InvalidArgument("import_checkpoint_thread: records of more than one thread")
        if not threads:
            return 0
        thread_id = threads.pop()
        self._live(THREAD, thread_id, now)
        self._fit_thread(thread_id, sum(map(_size, records)))
        self._keep_alive(now, thread_id, ttl, self._restore(records))
        return len(records)

    def _restore(self, records: Iterable[Record]) -> int:
        """Put records back (a checkpoint or blob replaces its like, a write takes the
        place of its ``(task_id, idx)``); return the bytes added."""
        table = self.threads
        delta = 0
        writes: list[PendingWrite] = []
        for record in records:
            if isinstance(record, Checkpoint):
                key = (record.thread_id, record.checkpoint_ns, record.checkpoint_id)
                delta += table.put_checkpoint(key, checkpoint_row(record))
            elif isinstance(record, ChannelBlob):
                key4 = (record.thread_id, record.checkpoint_ns, record.channel, record.version)
                delta += table.put_blob(key4, blob_row(record))
            else:
                writes.append(record)
        plans, _ = self._plan_writes(writes, skip_stored=False)
        return delta + sum(table.set_writes(key, rows) for key, rows in plans.items())

    def _load_checkpoint_record(self, now: float, record: Record, ttl: TTL) -> bool:
        """Put back one snapshotted record; a thread's deadline is its newest
        checkpoint's time plus ``ttl``. ``False`` if that has passed at ``now``."""
        thread_id = record.thread_id
        row = self.threads.threads.get(thread_id)
        expires = None if row is None else row[EXPIRES]
        if isinstance(record, Checkpoint) and ttl is not None:
            expires = record.created_at + ttl  # type: ignore[operator]
            if row is not None and row[EXPIRES] is not None:
                expires = max(expires, row[EXPIRES])
            if expires <= now:
                return False
        elif ttl is not None and row is None:
            return False  # its thread expired (checkpoints come first in a dump)
        self._fit_thread(thread_id, _size(record))
        delta = self._restore((record,))
        self._set_thread_deadline(thread_id, None if expires is None else ttl, expires)
        self._thread_changed(thread_id, delta)
        return True

    def _thread_ttl(self, thread_id: str) -> TTL:
        """The TTL (seconds) a thread was last written with, or ``None``."""
        return self._ttls.get((THREAD, thread_id))


def _size(record: Record) -> int:
    """The bytes ``record`` accounts for once stored (at most: a replaced record's
    share is not subtracted)."""
    if isinstance(record, Checkpoint):
        key = (record.thread_id, record.checkpoint_ns, record.checkpoint_id)
        return cost(key, checkpoint_row(record))
    if isinstance(record, ChannelBlob):
        blob_key = (record.thread_id, record.checkpoint_ns, record.channel, record.version)
        return cost(blob_key, blob_row(record))
    return writes_cost((write_row(record),))
