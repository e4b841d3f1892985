"""``ShardmemSaver``: LangGraph's ``BaseCheckpointSaver`` on ``mem.checkpoints``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.base import Checkpoint as LgCheckpoint
from langgraph.checkpoint.serde.base import SerializerProtocol

from engine import (
    BlockingEngine,
    ChannelBlob,
    Checkpoint,
    FrozenDict,
    PendingWrite,
    SavedCheckpoint,
)
from engine.integrations.langgraph._engine import EngineLink

__all__ = ["ShardmemSaver"]


def _json_part(metadata: dict[str, Any]) -> dict[str, Any]:
    """The top-level metadata entries the engine can hold as JSON (what ``filter``
    matches); the rest stay in the serialized metadata only."""
    kept = {}
    for key, value in metadata.items():
        try:
            FrozenDict({key: value})
        except (TypeError, ValueError):
            continue
        kept[key] = value
    return kept


def _filter_in_engine(filter: dict[str, Any] | None) -> bool:
    if not filter:
        return True
    try:
        FrozenDict(filter)
    except (TypeError, ValueError):
        return False
    return True


class ShardmemSaver(BaseCheckpointSaver[str]):
    """LangGraph's checkpointer on a shardmem engine.

    Every method has its sync and async form. The sync ones block the calling thread
    (LangGraph's ``invoke`` calls ``put``/``put_writes`` from executor threads,
    concurrently: each call is one request to the engine); the async ones never
    block the loop. Beyond ``InMemorySaver``: ``delete_for_runs``, ``copy_thread``,
    ``prune``, durability with ``data_dir``, and ``thread_ttl``.

    Args:
        serde: LangGraph's serializer (default ``JsonPlusSerializer``).
        thread_ttl: seconds an abandoned thread lives after its last write (``None``:
            forever); the engine's expiry index removes the whole thread.
        engine: a :class:`engine.BlockingEngine` to share (it stays open on close).
        data_dir, fsync: make the saver's own engine durable (``docs/durability.md``).
        redis_url: run the saver's own engine on Redis/Valkey (``prefix=`` among the
            options keeps applications apart).
        **options: more options of :func:`engine.start_blocking_engine`.
    """

    def __init__(
        self,
        *,
        serde: SerializerProtocol | None = None,
        thread_ttl: float | None = None,
        engine: BlockingEngine | None = None,
        data_dir: str | None = None,
        fsync: str | None = None,
        redis_url: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(serde=serde)
        self.thread_ttl = thread_ttl
        self._link = EngineLink(engine, data_dir, fsync, redis_url, options)
        self.engine = self._link.blocking

    def close(self) -> None:
        """Stop the engine if the saver started it (a shared engine stays open)."""
        self._link.close()

    def __enter__(self) -> ShardmemSaver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversions ----------------------------------------------------------------

    def _records(
        self,
        config: RunnableConfig,
        checkpoint: LgCheckpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> tuple[Checkpoint, list[ChannelBlob], RunnableConfig]:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        copy = checkpoint.copy()
        values: dict[str, Any] = copy.pop("channel_values")  # type: ignore[misc]
        blobs = []
        for channel, version in new_versions.items():
            kind, data = (
                self.serde.dumps_typed(values[channel]) if channel in values else ("empty", b"")
            )
            blobs.append(
                ChannelBlob(
                    thread_id=thread_id,
                    checkpoint_ns=ns,
                    channel=channel,
                    version=str(version),
                    type=kind,
                    data=data,
                )
            )
        full_metadata = get_checkpoint_metadata(config, metadata)
        kind, data = self.serde.dumps_typed(copy)
        meta_kind, meta_data = self.serde.dumps_typed(full_metadata)
        run_id = full_metadata.get("run_id")
        record = Checkpoint(
            thread_id=thread_id,
            checkpoint_ns=ns,
            checkpoint_id=checkpoint["id"],
            parent_id=configurable.get("checkpoint_id"),
            type=kind,
            data=data,
            metadata_type=meta_kind,
            metadata_data=meta_data,
            metadata=_json_part(dict(full_metadata)),
            versions={ch: str(v) for ch, v in checkpoint["channel_versions"].items()},
            run_id=None if run_id is None else str(run_id),
        )
        next_config: RunnableConfig = {
            "configurable": {
                "thread_id": configurable["thread_id"],
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint["id"],
            }
        }
        return record, blobs, next_config

    def _writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> list[PendingWrite]:
        configurable = config["configurable"]
        records = []
        for idx, (channel, value) in enumerate(writes):
            kind, data = self.serde.dumps_typed(value)
            records.append(
                PendingWrite(
                    thread_id=str(configurable["thread_id"]),
                    checkpoint_ns=configurable.get("checkpoint_ns", ""),
                    checkpoint_id=configurable["checkpoint_id"],
                    task_id=task_id,
                    idx=WRITES_IDX_MAP.get(channel, idx),
                    channel=channel,
                    type=kind,
                    data=data,
                    task_path=task_path,
                )
            )
        return records

    def _tuple(self, saved: SavedCheckpoint, config: RunnableConfig | None) -> CheckpointTuple:
        record = saved.checkpoint
        checkpoint = self.serde.loads_typed((record.type, record.data))
        checkpoint["channel_values"] = {
            blob.channel: self.serde.loads_typed((blob.type, blob.data))
            for blob in saved.blobs
            if blob.type != "empty"
        }
        writes = sorted(saved.writes, key=lambda w: writes_sort_key(w.task_path, w.task_id, w.idx))
        ids = {
            "thread_id": record.thread_id,
            "checkpoint_ns": record.checkpoint_ns,
        }
        if config is None or get_checkpoint_id(config) is None:
            thread = record.thread_id if config is None else config["configurable"]["thread_id"]
            config = {
                "configurable": {**ids, "thread_id": thread, "checkpoint_id": record.checkpoint_id}
            }
        return CheckpointTuple(
            config=config,
            checkpoint=checkpoint,
            metadata=self.serde.loads_typed((record.metadata_type, record.metadata_data)),
            parent_config=(
                {"configurable": {**ids, "checkpoint_id": record.parent_id}}
                if record.parent_id
                else None
            ),
            pending_writes=[
                (w.task_id, w.channel, self.serde.loads_typed((w.type, w.data))) for w in writes
            ],
        )

    @staticmethod
    def _list_args(
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> tuple[tuple[Any, ...], dict[str, Any], bool]:
        configurable = config["configurable"] if config else {}
        thread = configurable.get("thread_id")
        in_engine = _filter_in_engine(filter)
        kwargs = {
            "checkpoint_ns": configurable.get("checkpoint_ns"),
            "checkpoint_id": configurable.get("checkpoint_id") or None,
            "filter": filter if in_engine else None,
            "before": get_checkpoint_id(before) if before else None,
            "limit": limit if in_engine else None,
        }
        return (None if thread is None else str(thread),), kwargs, in_engine

    def _listed(
        self,
        found: list[SavedCheckpoint],
        filter: dict[str, Any] | None,
        in_engine: bool,
        limit: int | None,
    ) -> Iterator[CheckpointTuple]:
        count = 0
        for saved in found:
            item = self._tuple(saved, None)
            if (
                not in_engine
                and filter
                and any(item.metadata.get(k) != v for k, v in filter.items())
            ):
                continue
            if limit is not None and count >= limit:
                return
            count += 1
            yield item

    # -- sync ---------------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (the thread's latest without a
        ``checkpoint_id``), with its channel values and pending writes; or ``None``."""
        c = config["configurable"]
        saved = self.engine.checkpoints.get(
            str(c["thread_id"]), c.get("checkpoint_ns", ""), get_checkpoint_id(config)
        )
        return None if saved is None else self._tuple(saved, config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first (see :meth:`engine.Checkpoints.list`)."""
        args, kwargs, in_engine = self._list_args(config, filter, before, limit)
        found = self.engine.checkpoints.list(*args, **kwargs)
        return self._listed(found, filter, in_engine, limit)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: LgCheckpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint and its new channel values; returns its config."""
        record, blobs, next_config = self._records(config, checkpoint, metadata, new_versions)
        self.engine.checkpoints.put(record, blobs, ttl=self.thread_ttl)
        return next_config

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes (idempotent per ``(checkpoint, task, index)``)."""
        self.engine.checkpoints.put_writes(
            self._writes(config, writes, task_id, task_path), ttl=self.thread_ttl
        )

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread."""
        self.engine.checkpoints.delete_thread(str(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints and writes of the given runs (metadata ``run_id``)."""
        self.engine.checkpoints.delete_for_runs([str(r) for r in run_ids])

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's checkpoints, channel values and writes to another thread."""
        if str(source_thread_id) != str(target_thread_id):
            self.engine.checkpoints.copy_thread(
                str(source_thread_id), str(target_thread_id), ttl=self.thread_ttl
            )

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``keep_latest``: keep each namespace's newest checkpoint; ``delete``: delete."""
        self.engine.checkpoints.prune([str(t) for t in thread_ids], strategy=strategy)

    def get_next_version(self, current: str | None, channel: None) -> str:
        """The next channel version: ``"<32-digit counter>.<16-digit random>"``, as
        ``InMemorySaver``'s (they sort as text)."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    # -- async ----------------------------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """:meth:`get_tuple`, awaited."""
        c = config["configurable"]
        saved = await self._link.aio.checkpoints.get(
            str(c["thread_id"]), c.get("checkpoint_ns", ""), get_checkpoint_id(config)
        )
        return None if saved is None else self._tuple(saved, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """:meth:`list`, awaited."""
        args, kwargs, in_engine = self._list_args(config, filter, before, limit)
        found = await self._link.aio.checkpoints.list(*args, **kwargs)
        for item in self._listed(found, filter, in_engine, limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: LgCheckpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """:meth:`put`, awaited."""
        record, blobs, next_config = self._records(config, checkpoint, metadata, new_versions)
        await self._link.aio.checkpoints.put(record, blobs, ttl=self.thread_ttl)
        return next_config

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """:meth:`put_writes`, awaited."""
        records = self._writes(config, writes, task_id, task_path)
        await self._link.aio.checkpoints.put_writes(records, ttl=self.thread_ttl)

    async def adelete_thread(self, thread_id: str) -> None:
        """:meth:`delete_thread`, awaited."""
        await self._link.aio.checkpoints.delete_thread(str(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """:meth:`delete_for_runs`, awaited."""
        await self._link.aio.checkpoints.delete_for_runs([str(r) for r in run_ids])

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """:meth:`copy_thread`, awaited."""
        if str(source_thread_id) != str(target_thread_id):
            await self._link.aio.checkpoints.copy_thread(
                str(source_thread_id), str(target_thread_id), ttl=self.thread_ttl
            )

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """:meth:`prune`, awaited."""
        await self._link.aio.checkpoints.prune([str(t) for t in thread_ids], strategy=strategy)
