"""``mem.checkpoints``: LangGraph checkpoints per ``(thread_id, checkpoint_ns)``: the
ordered chain with parent ids, versioned channel blobs and idempotent pending writes."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any

from engine._api._backend import Backend
from engine._api._items import check_filter
from engine._core import _ops as ops
from engine._core._config import EngineConfig
from engine._core._errors import InvalidArgument
from engine._core._items import ChannelBlob, Checkpoint, PendingWrite, SavedCheckpoint
from engine._core._ops import Call
from engine._core._records import replace
from engine._core._validate import check_id, check_limit, check_optional_id, check_str, check_ttl

__all__ = ["CheckpointRequests", "Checkpoints"]


def _records(name: str, values: Iterable[Any], kind: type) -> tuple[Any, ...]:
    records = tuple(values)
    for index, record in enumerate(records):
        if not isinstance(record, kind):
            raise TypeError(
                f"{name}[{index}]: expected {kind.__name__}, got {type(record).__name__}"
            )
    return records


class CheckpointRequests:
    """The single-thread requests of :class:`Checkpoints`, built synchronously (see
    :class:`~engine._api._working.WorkingRequests`); routed by ``thread_id``."""

    __slots__ = ("_config",)

    def __init__(self, config: EngineConfig) -> None:
        self._config = config

    def put(
        self,
        checkpoint: Checkpoint,
        blobs: Sequence[ChannelBlob] = (),
        *,
        ttl: float | None = None,
    ) -> Call:
        """The request of :meth:`Checkpoints.put`."""
        _records("checkpoint", (checkpoint,), Checkpoint)
        blob_records = _records("blobs", blobs, ChannelBlob)
        self._config.check_size("checkpoint", checkpoint)
        ttl_s = check_ttl("ttl", ttl)
        args = (checkpoint, blob_records, ttl_s)
        return Call(ops.PUT_CHECKPOINT, args, checkpoint.thread_id)

    def put_writes(self, writes: Sequence[PendingWrite], *, ttl: float | None = None) -> Call:
        """The request of :meth:`Checkpoints.put_writes` (routed by the first write's
        thread; the shard refuses writes of several threads)."""
        records = _records("writes", writes, PendingWrite)
        ttl_s = check_ttl("ttl", ttl)
        if not records:
            raise InvalidArgument("writes: expected at least one PendingWrite, got none")
        return Call(ops.PUT_CHECKPOINT_WRITES, (records, ttl_s), records[0].thread_id)

    def get(
        self, thread_id: str, checkpoint_ns: str = "", checkpoint_id: str | None = None
    ) -> Call:
        """The request of :meth:`Checkpoints.get` (its result is the raw entry)."""
        check_id("thread_id", thread_id)
        check_str("checkpoint_ns", checkpoint_ns)
        check_optional_id("checkpoint_id", checkpoint_id)
        args = (thread_id, checkpoint_ns, checkpoint_id)
        return Call(ops.GET_CHECKPOINT, args, thread_id)

    def delete_thread(self, thread_id: str) -> Call:
        """The request of :meth:`Checkpoints.delete_thread`."""
        check_id("thread_id", thread_id)
        return Call(ops.DELETE_CHECKPOINT_THREAD, (thread_id,), thread_id)


class Checkpoints:
    """Checkpoints of threads, sharded by ``thread_id`` (all of a thread's namespaces
    on one shard).

    The engine stores LangGraph's serialized bytes as they come and never decodes
    them; what it reads is the checkpoint id order, the parent id, the channel
    versions a checkpoint names (to return their blobs) and the JSON part of its
    metadata (for ``filter``). A thread's ``ttl`` (seconds, ``None`` = never) is
    restarted by every write; when it runs out the engine's expiry index removes the
    whole thread.
    """

    __slots__ = ("_backend", "_requests")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._requests = CheckpointRequests(backend.config)

    async def put(
        self,
        checkpoint: Checkpoint,
        blobs: Sequence[ChannelBlob] = (),
        *,
        ttl: float | None = None,
    ) -> Checkpoint:
        """Store a checkpoint (``created_at`` set) and the blobs of the channel
        versions it introduces. O(log n + blobs).

        Raises:
            TypeError: for a non-``Checkpoint`` or non-``ChannelBlob`` argument.
            InvalidArgument: for a blob of another thread or namespace, a bad ``ttl``,
                or a record larger than ``EngineConfig.max_record_size``.
        """
        call = self._requests.put(checkpoint, blobs, ttl=ttl)
        stored: Checkpoint = await self._backend.call(call)
        return stored

    async def put_writes(self, writes: Sequence[PendingWrite], *, ttl: float | None = None) -> int:
        """Store pending writes of one thread; returns how many were new. A write
        whose ``(checkpoint_id, task_id, idx)`` is stored already is skipped when
        ``idx >= 0`` (a retried task) and replaced when ``idx < 0``.

        Raises:
            TypeError: for a non-``PendingWrite``.
            InvalidArgument: for writes of several threads or a bad ``ttl``.
        """
        records = _records("writes", writes, PendingWrite)
        if not records:
            check_ttl("ttl", ttl)
            return 0
        stored: int = await self._backend.call(self._requests.put_writes(records, ttl=ttl))
        return stored

    async def get(
        self, thread_id: str, checkpoint_ns: str = "", checkpoint_id: str | None = None
    ) -> SavedCheckpoint | None:
        """A checkpoint (the latest if ``checkpoint_id`` is ``None``) with its blobs and
        pending writes, or ``None``. O(log n)."""
        call = self._requests.get(thread_id, checkpoint_ns, checkpoint_id)
        entry = await self._backend.call(call)
        return None if entry is None else SavedCheckpoint(*entry)

    async def list(
        self,
        thread_id: str | None = None,
        *,
        checkpoint_ns: str | None = None,
        checkpoint_id: str | None = None,
        filter: dict[str, Any] | None = None,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[SavedCheckpoint]:
        """Checkpoints newest first: of ``thread_id`` (``None``: every thread, asking
        every shard), of ``checkpoint_ns`` (``None``: all), only ``checkpoint_id``
        if given, whose JSON metadata has every ``filter`` entry, with ids below
        ``before``; at most ``limit``.

        Raises:
            TypeError, InvalidArgument: for a bad argument.
        """
        check_optional_id("thread_id", thread_id)
        if checkpoint_ns is not None:
            check_str("checkpoint_ns", checkpoint_ns)
        check_optional_id("checkpoint_id", checkpoint_id)
        check_optional_id("before", before)
        frozen = check_filter(filter)
        limit_n = check_limit("limit", limit)
        args = (thread_id, checkpoint_ns, checkpoint_id, frozen, before, limit_n)
        if thread_id is not None:
            parts = [await self._backend.call(Call(ops.LIST_CHECKPOINTS, args, thread_id))]
        else:
            parts = await self._backend.scatter(Call(ops.LIST_CHECKPOINTS, args))
        merged = heapq.merge(*parts, key=lambda pair: pair[0], reverse=True)
        found = [SavedCheckpoint(*entry) for _, entry in merged]
        return found if limit_n is None else found[:limit_n]

    async def delete_thread(self, thread_id: str) -> bool:
        """Delete every checkpoint, blob and write of a thread; ``False`` if none."""
        deleted: bool = await self._backend.call(self._requests.delete_thread(thread_id))
        return deleted

    async def delete_for_runs(self, run_ids: Iterable[str]) -> int:
        """Delete the checkpoints whose metadata ``run_id`` is one of ``run_ids``, their
        writes, and blobs no remaining checkpoint names; returns how many checkpoints.
        Asks every shard (a run index per shard: O(checkpoints removed))."""
        ids = tuple(check_id("run_ids[]", run_id) for run_id in run_ids)
        if not ids:
            return 0
        counts = await self._backend.scatter(Call(ops.DELETE_CHECKPOINT_RUNS, (ids,)))
        return sum(counts)

    async def copy_thread(
        self, source_thread_id: str, target_thread_id: str, *, ttl: float | None = None
    ) -> int:
        """Copy every checkpoint, blob and write of a thread to another thread id (added
        to what the target holds); returns how many records were copied.

        Raises:
            InvalidArgument: if source and target are the same thread.
        """
        check_id("source_thread_id", source_thread_id)
        check_id("target_thread_id", target_thread_id)
        if source_thread_id == target_thread_id:
            raise InvalidArgument("copy_thread: expected two different thread ids")
        ttl_s = check_ttl("ttl", ttl)
        export = Call(ops.EXPORT_CHECKPOINT_THREAD, (source_thread_id,), source_thread_id)
        records = await self._backend.call(export)
        renamed = tuple(replace(record, thread_id=target_thread_id) for record in records)
        if not renamed:
            return 0
        copied: int = await self._backend.call(
            Call(ops.IMPORT_CHECKPOINT_THREAD, (renamed, ttl_s), target_thread_id)
        )
        return copied

    async def prune(self, thread_ids: Iterable[str], *, strategy: str = "keep_latest") -> int:
        """``keep_latest``: keep only the newest checkpoint of each namespace of each
        thread (its writes and the blobs it names); ``delete``: delete the threads.
        Returns how many checkpoints were removed.

        Raises:
            InvalidArgument: for another ``strategy``.
        """
        ids = tuple(check_id("thread_ids[]", thread_id) for thread_id in thread_ids)
        if strategy not in ("keep_latest", "delete"):
            raise InvalidArgument(
                f"prune: expected strategy 'keep_latest' or 'delete', got {strategy!r}"
            )
        removed = 0
        for thread_id in ids:
            prune = Call(ops.PRUNE_CHECKPOINTS, ((thread_id,), strategy), thread_id)
            removed += await self._backend.call(prune)
        return removed
