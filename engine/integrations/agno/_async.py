"""``AsyncShardmemDb``: Agno's ``AsyncBaseDb`` on the engine's asyncio facade."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from agno.db.base import AsyncBaseDb

from engine import AsyncioEngine, BlockingEngine, start_blocking_engine
from engine.integrations.agno._cache import RunObjects
from engine.integrations.agno._db import PLANNED, AgnoPlans, ShardmemDb
from engine.integrations.agno._plan import asyncio_methods, run_asyncio
from engine.integrations.agno._portable import read_json, write_json

__all__ = ["AsyncShardmemDb"]


class AsyncShardmemDb(AsyncBaseDb):
    """Agno's ``AsyncBaseDb`` on shardmem, for ``agent.arun()``: the same methods,
    arguments, results and errors as :class:`ShardmemDb`, each a coroutine that awaits
    the engine through its asyncio facade (:class:`engine.AsyncioEngine`), so the
    event loop never blocks on the engine and no worker thread is involved.

    Args:
        engine: an :class:`engine.AsyncioEngine` or :class:`engine.BlockingEngine` to
            share (it stays open when this db closes).
        db: a :class:`ShardmemDb` whose engine and run-object cache to share (it stays
            open).
        data_dir, fsync, redis_url, **options: for the db's own engine when neither
            is given (see :func:`engine.start_blocking_engine`).
        id: Agno's db id.

    Raises:
        ValueError: if both ``engine`` and ``db`` are given.
    """

    def __init__(
        self,
        *,
        engine: AsyncioEngine | BlockingEngine | None = None,
        db: ShardmemDb | None = None,
        data_dir: str | None = None,
        fsync: str | None = None,
        redis_url: str | None = None,
        id: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(id=id)
        if engine is not None and db is not None:
            raise ValueError("AsyncShardmemDb: expected engine= or db=, got both")
        self._own: BlockingEngine | None = None
        if db is not None:
            engine = db.engine
        elif engine is None:
            engine = self._own = start_blocking_engine(
                data_dir=data_dir, fsync=fsync, redis_url=redis_url, **options
            )
        self.engine = engine.asyncio() if isinstance(engine, BlockingEngine) else engine
        self._plans = db._plans if db is not None else AgnoPlans(RunObjects())

    async def close(self) -> None:
        """Close the db's own engine (a shared one stays open); the engine thread's
        join happens on a worker thread, off the loop."""
        if self._own is not None:
            await asyncio.to_thread(self._own.close)

    async def export_json(self, path: str | os.PathLike[str]) -> None:
        """:meth:`ShardmemDb.export_json`; the file is written on a worker thread."""
        data = await run_asyncio(self.engine, self._plans.export_dict())
        await asyncio.to_thread(write_json, data, path)

    async def import_json(self, path: str | os.PathLike[str]) -> int:
        """:meth:`ShardmemDb.import_json`; the file is read on a worker thread."""
        data = await asyncio.to_thread(read_json, path)
        return await run_asyncio(self.engine, self._plans.import_dict(data))

    locals().update(asyncio_methods(AgnoPlans, PLANNED))
