"""Registers the ``redis`` marker until pyproject.toml lists it."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "redis: needs a Redis server (started by the test)")
