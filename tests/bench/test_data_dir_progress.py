"""Progress of reading a data directory (``shardmem inspect`` and ``compact``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

from bench._cli._compact import CompactOutcome, compact_data_dir
from engine import EngineConfig, UserMemory, inspect_data_dir, open_memory_engine


async def _write(path: Path) -> None:
    async with open_memory_engine(config=EngineConfig(shards=3), data_dir=path) as mem:
        for index in range(30):
            await mem.memories.upsert(UserMemory(user_id=f"u{index}", memory="tea"))


async def test_inspect_reports_progress_per_shard(tmp_path: Path) -> None:
    await _write(tmp_path)
    calls: list[tuple[int, int]] = []
    report = inspect_data_dir(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert report.total("memories") == 30


async def test_compact_reports_each_step(tmp_path: Path) -> None:
    await _write(tmp_path)
    steps: list[tuple[str, int, int]] = []
    outcome = await _in_thread(
        lambda: compact_data_dir(tmp_path, progress=lambda *step: steps.append(step))
    )
    assert outcome.after.total("memories") == 30
    assert [s for s in steps if s[0] == "compacting"] == [
        ("compacting", 0, 1),
        ("compacting", 1, 1),
    ]
    assert ("reading", 3, 3) in steps and ("checking", 3, 3) in steps


async def _in_thread(function: Callable[[], CompactOutcome]) -> CompactOutcome:
    return await trio.to_thread.run_sync(function)  # compact runs its own trio loop
