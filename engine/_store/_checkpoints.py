"""Shard store operations on checkpoints (LangGraph's ``BaseCheckpointSaver`` shape).

A thread's checkpoints, blobs and writes live on the shard of its ``thread_id``. A
thread may have a TTL (seconds): every write restarts it, and when it runs out the
expiry index removes the whole thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine._core._errors import InvalidArgument
from engine._core._items import ChannelBlob, Checkpoint, PendingWrite
from engine._core._records import replace
from engine._store._base import TTL
from engine._store._checkpoint_table import Lane
from engine._store._items import THREAD, RecordKinds

__all__ = ["CheckpointEntry", "CheckpointOps"]

#: What a read returns per checkpoint: the checkpoint, its channel blobs, its writes.
CheckpointEntry = tuple[Checkpoint, tuple[ChannelBlob, ...], tuple[PendingWrite, ...]]

STRATEGIES = ("keep_latest", "delete")


class CheckpointOps(RecordKinds):
    """Checkpoints by ``(thread_id, checkpoint_ns, checkpoint_id)``."""

    def _keep_alive(self, now: float, thread_id: str, ttl: TTL) -> None:
        state = self.threads.thread(thread_id)
        expires = self._deadline(now, ttl)
        self._set_deadline(THREAD, thread_id, ttl, expires)
        state.expires_at = expires

    def _lane(self, now: float, thread_id: str, checkpoint_ns: str) -> Lane | None:
        state = self._live(THREAD, thread_id, now)
        return None if state is None else state.lanes.get(checkpoint_ns)

    def put_checkpoint(
        self, now: float, checkpoint: Checkpoint, blobs: tuple[ChannelBlob, ...], ttl: TTL
    ) -> Checkpoint:
        """Store a checkpoint and the channel blobs it introduces; restart the thread's
        TTL. O(log n + blobs)."""
        for blob in blobs:
            if (blob.thread_id, blob.checkpoint_ns) != (
                checkpoint.thread_id,
                checkpoint.checkpoint_ns,
            ):
                raise InvalidArgument("put_checkpoint: a blob of another thread or namespace")
        self._live(THREAD, checkpoint.thread_id, now)  # an expired thread starts afresh
        stored = replace(checkpoint, created_at=now)
        lane = self.threads.thread(checkpoint.thread_id).lane(checkpoint.checkpoint_ns)
        for blob in blobs:
            lane.blobs[(blob.channel, blob.version)] = blob
        self.threads.put_checkpoint(stored)
        self._keep_alive(now, checkpoint.thread_id, ttl)
        return stored

    def put_checkpoint_writes(self, now: float, writes: tuple[PendingWrite, ...], ttl: TTL) -> int:
        """Store pending writes; a write whose ``(checkpoint_id, task_id, idx)`` is
        stored already is skipped when ``idx >= 0`` (idempotent retries) and replaced
        when ``idx < 0`` (LangGraph's special channels). Returns how many were stored."""
        if not writes:
            return 0
        thread_id = writes[0].thread_id
        if any(w.thread_id != thread_id for w in writes):
            raise InvalidArgument("put_checkpoint_writes: writes of more than one thread")
        self._live(THREAD, thread_id, now)
        state = self.threads.thread(thread_id)
        stored = 0
        for write in writes:
            lane = state.lane(write.checkpoint_ns)
            slots = lane.writes.setdefault(write.checkpoint_id, {})
            slot = (write.task_id, write.idx)
            if write.idx >= 0 and slot in slots:
                continue
            slots[slot] = write
            stored += 1
        self._keep_alive(now, thread_id, ttl)
        return stored

    def get_checkpoint(
        self, now: float, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> CheckpointEntry | None:
        """A checkpoint (the latest when ``checkpoint_id`` is ``None``) with its blobs
        and writes, or ``None``. O(log n)."""
        lane = self._lane(now, thread_id, checkpoint_ns)
        if lane is None or not lane.checkpoints:
            return None
        if checkpoint_id is None:
            checkpoint = lane.checkpoints.peekitem(-1)[1]
        else:
            checkpoint = lane.checkpoints.get(checkpoint_id)
            if checkpoint is None:
                return None
        return checkpoint, lane.blobs_of(checkpoint), lane.writes_of(checkpoint.checkpoint_id)

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
        for tid in threads:
            state = self.threads.threads[tid]
            for ns, lane in state.lanes.items():
                if checkpoint_ns is not None and ns != checkpoint_ns:
                    continue
                for cid in lane.checkpoints.irange(
                    maximum=before, inclusive=(True, False), reverse=True
                ):
                    if checkpoint_id is not None and cid != checkpoint_id:
                        continue
                    checkpoint = lane.checkpoints[cid]
                    if filter and any(
                        checkpoint.metadata.get(key) != value for key, value in filter.items()
                    ):
                        continue
                    entry = (checkpoint, lane.blobs_of(checkpoint), lane.writes_of(cid))
                    found.append(((cid, tid, ns), entry))
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
        removed = 0
        touched: set[tuple[str, str]] = set()
        for run_id in run_ids:
            for thread_id, ns, cid in sorted(self.threads.runs.get(run_id, ())):
                lane = self.threads.threads[thread_id].lanes[ns]
                self.threads.remove_checkpoint(lane, lane.checkpoints[cid])
                touched.add((thread_id, ns))
                removed += 1
        for thread_id, ns in touched:
            self.threads.threads[thread_id].lanes[ns].collect_blobs()
        return removed

    def prune_checkpoints(self, now: float, thread_ids: tuple[str, ...], strategy: str) -> int:
        """``keep_latest``: keep only each namespace's newest checkpoint (its writes and
        blobs); ``delete``: delete the threads. Returns the checkpoints removed."""
        if strategy not in STRATEGIES:
            raise InvalidArgument(f"prune: expected strategy in {STRATEGIES}, got {strategy!r}")
        removed = 0
        for thread_id in thread_ids:
            state = self._live(THREAD, thread_id, now)
            if state is None:
                continue
            if strategy == "delete":
                removed += sum(len(lane.checkpoints) for lane in state.lanes.values())
                self._remove(THREAD, thread_id)
                continue
            for lane in state.lanes.values():
                for checkpoint in list(lane.checkpoints.values())[:-1]:
                    self.threads.remove_checkpoint(lane, checkpoint)
                    removed += 1
                lane.collect_blobs()
        return removed

    def export_checkpoint_thread(
        self, now: float, thread_id: str
    ) -> tuple[Checkpoint | ChannelBlob | PendingWrite, ...]:
        """Every record of a thread (checkpoints, blobs, writes). O(thread size)."""
        state = self._live(THREAD, thread_id, now)
        if state is None:
            return ()
        records: list[Checkpoint | ChannelBlob | PendingWrite] = []
        for lane in state.lanes.values():
            records.extend(lane.checkpoints.values())
            records.extend(lane.blobs.values())
            for writes in lane.writes.values():
                records.extend(writes.values())
        return tuple(records)

    def import_checkpoint_thread(
        self,
        now: float,
        records: tuple[Checkpoint | ChannelBlob | PendingWrite, ...],
        ttl: TTL,
    ) -> int:
        """Add exported records (all of one thread, e.g. renamed by ``copy_thread``),
        keeping checkpoints' times; restart the thread's TTL. Returns how many."""
        threads = {record.thread_id for record in records}
        if len(threads) > 1:
            raise InvalidArgument("import_checkpoint_thread: records of more than one thread")
        if not threads:
            return 0
        self._restore(records)
        self._keep_alive(now, threads.pop(), ttl)
        return len(records)

    def _restore(self, records: Iterable[Checkpoint | ChannelBlob | PendingWrite]) -> None:
        for record in records:
            lane = self.threads.thread(record.thread_id).lane(record.checkpoint_ns)
            if isinstance(record, Checkpoint):
                self.threads.put_checkpoint(record)
            elif isinstance(record, ChannelBlob):
                lane.blobs[(record.channel, record.version)] = record
            else:
                lane.writes.setdefault(record.checkpoint_id, {})[(record.task_id, record.idx)] = (
                    record
                )

    def _load_checkpoint_record(
        self, now: float, record: Checkpoint | ChannelBlob | PendingWrite, ttl: TTL
    ) -> bool:
        """Put back one snapshotted record; a thread's deadline is its newest
        checkpoint's time plus ``ttl``. ``False`` if that has passed at ``now``."""
        if isinstance(record, Checkpoint) and ttl is not None:
            state = self.threads.threads.get(record.thread_id)
            expires = record.created_at + ttl  # type: ignore[operator]
            if state is not None and state.expires_at is not None:
                expires = max(expires, state.expires_at)
            if expires <= now:
                return False
            self._restore((record,))
            self._set_deadline(THREAD, record.thread_id, ttl, expires)
            self.threads.threads[record.thread_id].expires_at = expires
            return True
        if ttl is not None and record.thread_id not in self.threads.threads:
            return False  # its thread expired (checkpoints come first in a dump)
        self._restore((record,))
        return True

    def _thread_ttl(self, thread_id: str) -> TTL:
        """The TTL (seconds) a thread was last written with, or ``None``."""
        return self._ttls.get((THREAD, thread_id))
