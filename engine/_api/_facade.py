"""What the facades need from the engine (a structural type, to avoid an import cycle)."""

from __future__ import annotations

from typing import Any, Protocol

from engine._core._config import EngineConfig
from engine._core._ops import Op

__all__ = ["EngineCore"]


class EngineCore(Protocol):
    """The engine's plumbing used by ``mem.sessions`` and the other facades."""

    config: EngineConfig

    async def _call(self, key: str, op: Op, *args: Any) -> Any: ...

    async def _scatter(self, op: Op, *args: Any) -> list[Any]: ...

    async def _merged(self, op: Op, query: Any, limit: int | None, offset: int) -> list[Any]: ...
