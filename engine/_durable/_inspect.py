"""Read-only inspection of a durable engine's data directory (``shardmem inspect``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import attrs

from engine._core._config import EngineConfig
from engine._core._rows import S_USER
from engine._durable._data_dir import DataDir
from engine._durable._recovery import recover_shard, written_config

__all__ = ["DataDirReport", "ShardReport", "inspect_data_dir"]


@attrs.frozen(kw_only=True)
class ShardReport:
    """One shard of a data directory.

    Attributes:
        shard: the shard's index.
        sessions, runs, memories, working, knowledge: live records at inspection time.
        snapshot_bytes: size of the shard's snapshot file (0 if none yet).
        journal_bytes: bytes of journal segments replayed after the snapshot.
        journal_records: journal entries replayed after the snapshot.
        last_seq: the last journal sequence number.
        torn_bytes: bytes of a torn tail (a crash mid-write) that recovery will cut.
    """

    shard: int
    sessions: int
    runs: int
    memories: int
    working: int
    knowledge: int
    snapshot_bytes: int
    journal_bytes: int
    journal_records: int
    last_seq: int
    torn_bytes: int


@attrs.frozen(kw_only=True)
class DataDirReport:
    """What :func:`inspect_data_dir` found.

    Attributes:
        path: the directory.
        generation: the generation in use (bumped by re-sharding).
        shards: the shard count the directory was written with.
        users: distinct ``user_id`` values among live sessions and memories.
        shard_reports: one :class:`ShardReport` per shard.
    """

    path: str
    generation: int
    shards: int
    users: int
    shard_reports: tuple[ShardReport, ...]

    def total(self, field: str) -> int:
        """The sum of ``field`` over the shards (e.g. ``"sessions"``)."""
        return sum(getattr(report, field) for report in self.shard_reports)


def inspect_data_dir(
    path: str | os.PathLike[str],
    now: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DataDirReport:
    """Recover every shard of ``path`` in memory, without changing a byte on disk.

    Safe while an engine is using the directory (the lock is not taken; the report
    is then as of the moment each file was read).

    Args:
        path: a data directory written by ``open_memory_engine(data_dir=...)``.
        now: epoch seconds used to leave out expired records; default ``time.time()``.
        progress: called as ``progress(shards_done, shards)`` before the first shard
            and after each (a large directory takes seconds per shard).

    Raises:
        FileNotFoundError: if ``path`` has no manifest.
        JournalCorrupt: if a file is damaged beyond a torn tail (names file and offset).
    """
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{os.fspath(path)!r} is not a directory")
    if not os.path.exists(os.path.join(path, "MANIFEST.json")):
        raise FileNotFoundError(f"{os.fspath(path)!r} has no MANIFEST.json: not a data directory")
    directory = DataDir.open(path, lock=False)
    try:
        manifest = directory.manifest()
        if manifest is None:
            raise FileNotFoundError(
                f"{os.fspath(path)!r} has no MANIFEST.json: not a data directory"
            )
        generation, shards = int(manifest["generation"]), int(manifest["shards"])
        config = written_config(directory, manifest, EngineConfig())
        at = time.time() if now is None else now
        reports = []
        users: set[str] = set()
        for index in range(shards):
            if progress is not None:
                progress(index, shards)
            recovered = recover_shard(directory, generation, index, config, repair=False)
            store = recovered.store
            store.expire_due(at)
            counts = store.counts()
            users.update(r[S_USER] for r in store.sessions.records.values() if r[S_USER])
            users.update(user for user, _ in store.memories.records)
            reports.append(
                ShardReport(
                    shard=index,
                    sessions=counts.sessions,
                    runs=counts.runs,
                    memories=counts.memories,
                    working=counts.working,
                    knowledge=counts.knowledge,
                    snapshot_bytes=recovered.snapshot_bytes,
                    journal_bytes=recovered.journal_bytes,
                    journal_records=recovered.journal_records,
                    last_seq=recovered.seq,
                    torn_bytes=recovered.truncated,
                )
            )
        if progress is not None:
            progress(shards, shards)
    finally:
        directory.close()
    return DataDirReport(
        path=os.fspath(path),
        generation=generation,
        shards=shards,
        users=len(users),
        shard_reports=tuple(reports),
    )
