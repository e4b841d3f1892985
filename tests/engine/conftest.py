"""Shared fixtures of the engine tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine import MemoryEngine, open_memory_engine
from engine._durable._journal import ShardJournal
from engine._embedded._durable_shard import DurableShard

START = 1_000_000.0  # the engine clock at start, epoch seconds


@pytest.fixture
async def mem() -> AsyncIterator[MemoryEngine]:
    """A 4-shard engine whose clock reads ``START`` at start.

    pytest-trio uses a clock only when the *test* requests it: tests that need time to
    be exact take the ``autojump_clock`` argument themselves.
    """
    async with open_memory_engine(shards=4, start_time=START) as engine:
        yield engine


@pytest.fixture
def journals(monkeypatch: pytest.MonkeyPatch) -> list[ShardJournal]:
    """Every :class:`ShardJournal` opened during the test, in shard order."""
    opened: list[ShardJournal] = []
    original = ShardJournal.open

    async def open_(self: ShardJournal) -> None:
        opened.append(self)
        await original(self)

    monkeypatch.setattr(ShardJournal, "open", open_)
    return opened


@pytest.fixture
def behaviours(monkeypatch: pytest.MonkeyPatch) -> list[DurableShard]:
    """Every :class:`DurableShard` created during the test."""
    made: list[DurableShard] = []
    original = DurableShard.__init__

    def init(self: DurableShard, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(DurableShard, "__init__", init)
    return made


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """``{path: bytes}``: how much of each file an ``os.fsync`` has made durable."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    durable: dict[str, int] = {}
    real = os.fsync

    def fsync(fd: int) -> None:
        size = os.fstat(fd).st_size  # what was written before the call is covered
        real(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        durable[path] = max(durable.get(path, 0), size)

    monkeypatch.setattr(os, "fsync", fsync)
    return durable
