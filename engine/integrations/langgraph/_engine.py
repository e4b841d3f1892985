"""The engine an adapter runs on: a shared handle, or its own (embedded, durable or
on Redis), as the other adapters in ``engine.integrations`` build theirs."""

from __future__ import annotations

from typing import Any

from engine import AsyncioEngine, BlockingEngine, start_blocking_engine

__all__ = ["EngineLink"]


class EngineLink:
    """A blocking handle (for sync methods, from any thread) and an asyncio handle
    (for ``a*`` methods, never blocking the loop) on one engine.

    Args:
        engine: a :class:`engine.BlockingEngine` to share (it stays open when the
            adapter closes); by default the adapter starts its own from the rest.
        data_dir, fsync: make the adapter's own engine durable.
        redis_url: run the adapter's own engine on Redis/Valkey.
        **options: more options of :func:`engine.start_blocking_engine`.
    """

    __slots__ = ("aio", "blocking", "owned")

    def __init__(
        self,
        engine: BlockingEngine | None,
        data_dir: str | None,
        fsync: str | None,
        redis_url: str | None,
        options: dict[str, Any],
    ) -> None:
        self.owned = engine is None
        if engine is None:
            engine = start_blocking_engine(
                data_dir=data_dir, fsync=fsync, redis_url=redis_url, **options
            )
        elif data_dir is not None or fsync is not None or redis_url is not None or options:
            raise TypeError("engine=: give a shared engine or engine options, not both")
        self.blocking: BlockingEngine = engine
        self.aio: AsyncioEngine = engine.asyncio()

    def close(self) -> None:
        """Stop the engine if the adapter started it (a shared one stays open)."""
        if self.owned:
            self.blocking.close()
