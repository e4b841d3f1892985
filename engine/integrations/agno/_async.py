"""``AsyncShardmemDb``: Agno's ``AsyncBaseDb`` on the engine's asyncio facade."""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

from agno.db.base import AsyncBaseDb

from engine import AsyncioEngine, BlockingEngine, start_blocking_engine
from engine.integrations.agno._cache import RunObjects
from engine.integrations.agno._db import AgnoPlans, ShardmemDb
from engine.integrations.agno._plan import asyncio_method, run_asyncio
from engine.integrations.agno._portable import read_json, write_json

__all__ = ["AsyncShardmemDb"]


_asyncio = functools.partial(asyncio_method, AgnoPlans)


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

    # every Agno method this db implements, each run from its plan in AgnoPlans
    get_session = _asyncio("get_session")
    get_sessions = _asyncio("get_sessions")
    rename_session = _asyncio("rename_session")
    upsert_session = _asyncio("upsert_session")
    upsert_sessions = _asyncio("upsert_sessions")
    delete_session = _asyncio("delete_session")
    delete_sessions = _asyncio("delete_sessions")
    upsert_run = _asyncio("upsert_run")
    get_run = _asyncio("get_run")
    get_runs = _asyncio("get_runs")
    delete_run = _asyncio("delete_run")
    delete_runs = _asyncio("delete_runs")
    get_user_memory = _asyncio("get_user_memory")
    get_user_memories = _asyncio("get_user_memories")
    get_all_memory_topics = _asyncio("get_all_memory_topics")
    get_user_memory_stats = _asyncio("get_user_memory_stats")
    upsert_user_memory = _asyncio("upsert_user_memory")
    upsert_memories = _asyncio("upsert_memories")
    delete_user_memory = _asyncio("delete_user_memory")
    delete_user_memories = _asyncio("delete_user_memories")
    clear_memories = _asyncio("clear_memories")
    table_exists = _asyncio("table_exists")
    get_latest_schema_version = _asyncio("get_latest_schema_version")
    upsert_schema_version = _asyncio("upsert_schema_version")
    upsert_knowledge_content = _asyncio("upsert_knowledge_content")
    get_knowledge_content = _asyncio("get_knowledge_content")
    get_knowledge_contents = _asyncio("get_knowledge_contents")
    delete_knowledge_content = _asyncio("delete_knowledge_content")
    create_eval_run = _asyncio("create_eval_run")
    get_eval_run = _asyncio("get_eval_run")
    get_eval_runs = _asyncio("get_eval_runs")
    rename_eval_run = _asyncio("rename_eval_run")
    update_eval_run_user_id = _asyncio("update_eval_run_user_id")
    delete_eval_runs = _asyncio("delete_eval_runs")
    calculate_metrics = _asyncio("calculate_metrics")
    get_metrics = _asyncio("get_metrics")
    upsert_learning = _asyncio("upsert_learning")
    update_learning = _asyncio("update_learning")
    get_learning = _asyncio("get_learning")
    get_learnings = _asyncio("get_learnings")
    delete_learning = _asyncio("delete_learning")
    delete_user_learnings = _asyncio("delete_user_learnings")
    upsert_trace = _asyncio("upsert_trace")
    get_trace = _asyncio("get_trace")
    get_traces = _asyncio("get_traces")
    get_trace_stats = _asyncio("get_trace_stats")
    create_span = _asyncio("create_span")
    create_spans = _asyncio("create_spans")
    get_span = _asyncio("get_span")
    get_spans = _asyncio("get_spans")
    export_dict = _asyncio("export_dict")
    import_dict = _asyncio("import_dict")
