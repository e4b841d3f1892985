"""``AsyncShardmemDb``: Agno's ``AsyncBaseDb`` over a :class:`ShardmemDb`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from agno.db.base import AsyncBaseDb

from engine.integrations.agno._db import ShardmemDb

__all__ = ["AsyncShardmemDb"]

_RUN_METHODS = (
    "get_run",
    "get_runs",
    "upsert_run",
    "delete_run",
    "delete_runs",
    "update_eval_run_user_id",
)
_DELEGATED = tuple(sorted(AsyncBaseDb.__abstractmethods__)) + _RUN_METHODS


def _delegate(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def method(self: AsyncShardmemDb, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.sync, name), *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Agno's async ``{name}``: :meth:`ShardmemDb.{name}` on a worker thread."
    return method


class AsyncShardmemDb(AsyncBaseDb):
    """Agno's ``AsyncBaseDb`` on shardmem, for ``agent.arun()``: every method awaits the
    same method of a :class:`ShardmemDb` run on a worker thread, so the event loop never
    waits for the engine.

    Args:
        db: a :class:`ShardmemDb` to serve (it stays open when this one closes); by
            default one is built from ``**options`` (see :class:`ShardmemDb`).
        id: Agno's db id.
    """

    def __init__(
        self, *, db: ShardmemDb | None = None, id: str | None = None, **options: Any
    ) -> None:
        super().__init__(id=id)
        self._owned = db is None
        self.sync = db if db is not None else ShardmemDb(**options)

    async def close(self) -> None:
        """Close the db this one built (a given ``db`` stays open), off the loop."""
        if self._owned:
            await asyncio.to_thread(self.sync.close)

    locals().update({name: _delegate(name) for name in _DELEGATED})
