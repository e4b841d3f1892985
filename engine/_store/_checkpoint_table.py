"""The checkpoint table of one shard: per thread, per checkpoint namespace, the
checkpoints in id order (LangGraph's ids sort by creation), the channel blobs by
``(channel, version)`` and the pending writes by checkpoint and ``(task_id, idx)``."""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedDict

from engine._core._items import ChannelBlob, Checkpoint, PendingWrite

__all__ = ["CheckpointTable", "Lane", "ThreadState"]


class Lane:
    """One ``(thread_id, checkpoint_ns)``: its checkpoints, blobs and pending writes."""

    __slots__ = ("blobs", "checkpoints", "writes")

    def __init__(self) -> None:
        self.checkpoints: SortedDict = SortedDict()  # checkpoint_id -> Checkpoint
        self.blobs: dict[tuple[str, str], ChannelBlob] = {}
        self.writes: dict[str, dict[tuple[str, int], PendingWrite]] = {}

    def blobs_of(self, checkpoint: Checkpoint) -> tuple[ChannelBlob, ...]:
        """The stored blobs of the channel versions ``checkpoint`` names."""
        found = (self.blobs.get(pair) for pair in checkpoint.versions.items())
        return tuple(blob for blob in found if blob is not None)

    def writes_of(self, checkpoint_id: str) -> tuple[PendingWrite, ...]:
        """The pending writes of a checkpoint, in ``(task_id, idx)`` insertion order."""
        return tuple(self.writes.get(checkpoint_id, {}).values())

    def collect_blobs(self) -> int:
        """Drop blobs no checkpoint of this lane names; return how many. O(size)."""
        used = {pair for c in self.checkpoints.values() for pair in c.versions.items()}
        unused = [pair for pair in self.blobs if pair not in used]
        for pair in unused:
            del self.blobs[pair]
        return len(unused)


class ThreadState:
    """A thread's lanes by checkpoint namespace, and its deadline (epoch seconds)."""

    __slots__ = ("expires_at", "lanes")

    def __init__(self) -> None:
        self.lanes: dict[str, Lane] = {}
        self.expires_at: float | None = None

    def lane(self, checkpoint_ns: str) -> Lane:
        """The lane of ``checkpoint_ns``, created if absent."""
        lane = self.lanes.get(checkpoint_ns)
        if lane is None:
            lane = self.lanes[checkpoint_ns] = Lane()
        return lane


class CheckpointTable:
    """Threads by ``thread_id``, and checkpoints by run id (for ``delete_for_runs``)."""

    __slots__ = ("runs", "threads")

    def __init__(self) -> None:
        self.threads: dict[str, ThreadState] = {}
        #: run_id -> {(thread_id, checkpoint_ns, checkpoint_id)}
        self.runs: dict[str, set[tuple[str, str, str]]] = {}

    def thread(self, thread_id: str) -> ThreadState:
        """The state of ``thread_id``, created if absent."""
        state = self.threads.get(thread_id)
        if state is None:
            state = self.threads[thread_id] = ThreadState()
        return state

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Insert or replace a checkpoint (its run index follows)."""
        lane = self.thread(checkpoint.thread_id).lane(checkpoint.checkpoint_ns)
        old = lane.checkpoints.get(checkpoint.checkpoint_id)
        if old is not None:
            self._unindex(old)
        lane.checkpoints[checkpoint.checkpoint_id] = checkpoint
        if checkpoint.run_id is not None:
            ident = (checkpoint.thread_id, checkpoint.checkpoint_ns, checkpoint.checkpoint_id)
            self.runs.setdefault(checkpoint.run_id, set()).add(ident)

    def remove_checkpoint(self, lane: Lane, checkpoint: Checkpoint) -> None:
        """Remove a checkpoint and its pending writes from ``lane``."""
        del lane.checkpoints[checkpoint.checkpoint_id]
        lane.writes.pop(checkpoint.checkpoint_id, None)
        self._unindex(checkpoint)

    def _unindex(self, checkpoint: Checkpoint) -> None:
        if checkpoint.run_id is None:
            return
        idents = self.runs.get(checkpoint.run_id)
        if idents is not None:
            c = checkpoint
            idents.discard((c.thread_id, c.checkpoint_ns, c.checkpoint_id))
            if not idents:
                del self.runs[checkpoint.run_id]

    def drop(self, thread_id: str) -> ThreadState | None:
        """Remove a whole thread; return its state, or ``None``."""
        state = self.threads.pop(thread_id, None)
        if state is not None:
            for lane in state.lanes.values():
                for checkpoint in lane.checkpoints.values():
                    self._unindex(checkpoint)
        return state

    def records(self) -> Iterator[Checkpoint | ChannelBlob | PendingWrite]:
        """Every checkpoint, blob and pending write (checkpoints first per lane)."""
        for state in self.threads.values():
            for lane in state.lanes.values():
                yield from lane.checkpoints.values()
                yield from lane.blobs.values()
                for writes in lane.writes.values():
                    yield from writes.values()

    def clear(self) -> None:
        """Remove every thread."""
        self.threads.clear()
        self.runs.clear()

    def _check(self) -> None:
        indexed = {
            (c.run_id, c.thread_id, c.checkpoint_ns, c.checkpoint_id)
            for state in self.threads.values()
            for lane in state.lanes.values()
            for c in lane.checkpoints.values()
            if c.run_id is not None
        }
        assert indexed == {(run, *ident) for run, idents in self.runs.items() for ident in idents}
