"""Helpers shared by the conformance tests (backend-neutral)."""

from __future__ import annotations

from typing import Any

import trio

from engine import EngineConfig, KindPolicy

START = 1_700_000_000.0


async def elapse(seconds: float) -> None:
    """Let ``seconds`` pass: instantly under the mock clock, really for Redis."""
    await trio.sleep(seconds)


async def stored_counts(mem: Any) -> Any:
    """The engine's :class:`EngineStatistics` (Redis reads it from the server)."""
    if hasattr(mem, "server_statistics"):
        return await mem.server_statistics()
    return mem.statistics()


def policy_config(kind: str, **policy: Any) -> EngineConfig:
    """An :class:`EngineConfig` with ``kind``'s policy replaced."""
    return EngineConfig(**{kind: KindPolicy(**policy)})
