"""Snapshots written by an earlier engine (tests/engine/fixtures/snapshot_v1, format
version 1: JSON records) still load, and compacting rewrites them in today's format."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import orjson

from engine import open_memory_engine

from ._write_snapshot_fixture import EXPECTED, FIXTURE


def versions(root: Path) -> list[int]:
    return [struct.unpack_from("<4sH", path.read_bytes())[1] for path in root.glob("*.snapshot")]


async def test_loads_the_v1_fixture_snapshot(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(FIXTURE, data_dir)
    assert versions(data_dir) == [1, 1]
    expected = orjson.loads(EXPECTED.read_bytes())
    async with open_memory_engine(shards=2, data_dir=data_dir) as engine:
        snapshot = await engine.snapshot()
        del snapshot["taken_at"]
        assert snapshot == expected
        await engine.compact()
    async with open_memory_engine(shards=2, data_dir=data_dir) as engine:
        again = await engine.snapshot()
        del again["taken_at"]
    assert again == expected
