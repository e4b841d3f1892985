"""Helpers shared by the conformance tests (backend-neutral)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import trio

from engine import EngineConfig, KindPolicy

START = 1_700_000_000.0


#: How to move the engine's clock when it runs in a thread of its own (the bridge
#: backends): set by :func:`jumping` for the duration of a test.
_jump: list[Callable[[float], Awaitable[None]]] = []


@contextmanager
def jumping(jump: Callable[[float], Awaitable[None]]) -> Iterator[None]:
    """Make :func:`elapse` call ``jump(seconds)`` instead of sleeping."""
    _jump.append(jump)
    try:
        yield
    finally:
        _jump.remove(jump)


async def elapse(seconds: float) -> None:
    """Let ``seconds`` pass: instantly under the mock clock (the test's, or the
    engine thread's for the bridge backends), really for Redis."""
    if _jump:
        await _jump[-1](seconds)
    else:
        await trio.sleep(seconds)


async def stored_counts(mem: Any) -> Any:
    """The engine's :class:`EngineStatistics` (Redis reads it from the server)."""
    if hasattr(mem, "server_statistics"):
        return await mem.server_statistics()
    return mem.statistics()


def policy_config(kind: str, **policy: Any) -> EngineConfig:
    """An :class:`EngineConfig` with ``kind``'s policy replaced."""
    return EngineConfig(**{kind: KindPolicy(**policy)})
