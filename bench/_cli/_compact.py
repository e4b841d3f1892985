"""``shardmem compact``: open a data directory, compact every shard, close."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from time import perf_counter

import attrs
import trio

from bench._cli._data_dirs import check_data_dir
from engine import DataDirReport, inspect_data_dir, open_memory_engine

__all__ = ["CompactOutcome", "compact_data_dir"]


@attrs.frozen(kw_only=True)
class CompactOutcome:
    """What :func:`compact_data_dir` did.

    Attributes:
        before: the directory as inspected before opening it.
        after: the directory as inspected after the engine closed.
        shards: the shard count the engine ran with (and the directory now has).
        seconds: wall time from opening the engine to its close (recovery, compaction,
            snapshot writes), seconds.
    """

    before: DataDirReport
    after: DataDirReport
    shards: int
    seconds: float


def compact_data_dir(
    path: str | os.PathLike[str],
    *,
    shards: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> CompactOutcome:
    """Compact the data directory ``path`` (blocking: runs its own trio loop).

    Opens a durable engine on ``path`` with the manifest's shard count (or ``shards``:
    a different count re-shards the directory first, as opening the engine always
    does), calls :meth:`engine.MemoryEngine.compact`, and closes the engine, which waits
    for every shard's snapshot to be written. Afterwards each shard has its snapshot and
    one journal segment holding no entries. ``progress(step, done, total)`` is called
    as the shards are read before, compacted, and read after.

    Raises:
        bench._cli._data_dirs.DataDirRefused: if ``path`` is not a data directory.
        engine.JournalCorrupt: if a file is damaged beyond a torn tail.
        BlockingIOError: if a running engine holds the directory.
        OSError: for other I/O failures.
    """

    def step(name: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(name, done, total)

    root = check_data_dir(path)
    before = inspect_data_dir(root, progress=step("reading"))
    count = before.shards if shards is None else shards
    start = perf_counter()
    if progress is not None:
        progress("compacting", 0, 1)
    trio.run(_compact, root, count)
    seconds = perf_counter() - start
    if progress is not None:
        progress("compacting", 1, 1)
    after = inspect_data_dir(root, progress=step("checking"))
    return CompactOutcome(before=before, after=after, shards=count, seconds=seconds)


async def _compact(root: Path, shards: int) -> None:
    async with open_memory_engine(shards=shards, data_dir=root) as mem:
        await mem.compact()
