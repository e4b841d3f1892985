"""Shared fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine import MemoryEngine, open_memory_engine

START = 1_000_000.0  # the engine clock at start, epoch seconds


@pytest.fixture
async def mem() -> AsyncIterator[MemoryEngine]:
    """A 4-shard engine whose clock reads ``START`` at start.

    pytest-trio uses a clock only when the *test* requests it: tests that need time to
    be exact take the ``autojump_clock`` argument themselves.
    """
    async with open_memory_engine(shards=4, start_time=START) as engine:
        yield engine
