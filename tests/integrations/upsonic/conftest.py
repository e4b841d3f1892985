"""Fixtures of the Upsonic adapter tests: a storage on an engine the test owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("upsonic", reason="install the upsonic extra: pip install -e '.[upsonic]'")

from engine import open_blocking_engine
from engine.integrations.upsonic import ShardmemStorage


@pytest.fixture
def mem() -> Iterator[Any]:
    with open_blocking_engine() as engine:
        yield engine


@pytest.fixture
def storage(mem: Any) -> ShardmemStorage:
    return ShardmemStorage(engine=mem)
