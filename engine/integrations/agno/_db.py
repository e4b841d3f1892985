"""``ShardmemDb``: Agno's ``BaseDb`` on a shardmem engine."""

from __future__ import annotations

import functools
import os
from typing import Any

from agno.db.base import BaseDb

from engine import BlockingEngine, start_blocking_engine
from engine.integrations.agno._cache import RunObjects
from engine.integrations.agno._learnings import LEARNING_METHODS, UNSUPPORTED, LearningPlans
from engine.integrations.agno._memories import MEMORY_METHODS, MemoryPlans
from engine.integrations.agno._metrics import METRICS_METHODS, MetricsPlans
from engine.integrations.agno._plan import blocking_method, run_blocking
from engine.integrations.agno._portable import (
    PORTABLE_METHODS,
    PortablePlans,
    read_json,
    write_json,
)
from engine.integrations.agno._registry import REGISTRY_METHODS
from engine.integrations.agno._runs import RUN_METHODS, RunPlans
from engine.integrations.agno._sessions import SESSION_METHODS

__all__ = ["PLANNED", "AgnoPlans", "ShardmemDb"]

PLANNED = (
    SESSION_METHODS
    + RUN_METHODS
    + MEMORY_METHODS
    + REGISTRY_METHODS
    + METRICS_METHODS
    + LEARNING_METHODS
    + UNSUPPORTED
    + PORTABLE_METHODS
)
"""Every method :class:`ShardmemDb` and :class:`AsyncShardmemDb` run from a plan."""


class AgnoPlans(RunPlans, MemoryPlans, MetricsPlans, LearningPlans, PortablePlans):
    """The adapter's logic, written once for both drivers (see ``_plan``): every Agno
    method as a plan over the engine handle, and the run-object cache they share.

    Args:
        run_objects: the cache of Agno run objects.
    """

    def __init__(self, run_objects: RunObjects) -> None:
        self.run_objects = run_objects


_blocking = functools.partial(blocking_method, AgnoPlans)


class ShardmemDb(BaseDb):
    """Agno's ``db=`` on shardmem: a one-line swap for ``InMemoryDb``.

    Thread-safe (every call is a request to the engine's shards), indexed listings,
    durable with ``data_dir``, shared by processes with ``redis_url``.

    Args:
        engine: a :class:`engine.BlockingEngine` to share between several dbs (it stays
            open when the db closes); by default the db starts its own.
        data_dir, fsync, redis_url, **options: for the db's own engine (see
            :func:`engine.start_blocking_engine`; e.g. ``shards``, ``config`` with a
            :class:`engine.KindPolicy` TTL per record kind).
        id: Agno's db id.
    """

    def __init__(
        self,
        *,
        engine: BlockingEngine | None = None,
        data_dir: str | None = None,
        fsync: str | None = None,
        redis_url: str | None = None,
        id: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(id=id)
        self._owned = engine is None
        if engine is None:
            engine = start_blocking_engine(
                data_dir=data_dir, fsync=fsync, redis_url=redis_url, **options
            )
        self.engine = engine
        self._plans = AgnoPlans(RunObjects())

    def close(self) -> None:
        """Close the db's own engine (a shared engine stays open)."""
        if self._owned:
            self.engine.close()

    def export_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`export_dict` to ``path`` as JSON (UTF-8), replacing the file
        atomically (a temporary file renamed over it)."""
        write_json(run_blocking(self.engine, self._plans.export_dict()), path)

    def import_json(self, path: str | os.PathLike[str]) -> int:
        """Restore a file written by :meth:`export_json`; returns the records written.

        Raises:
            OSError: if the file cannot be read; what :meth:`import_dict` raises.
        """
        return run_blocking(self.engine, self._plans.import_dict(read_json(path)))

    # every Agno method this db implements, each run from its plan in AgnoPlans
    get_session = _blocking("get_session")
    get_sessions = _blocking("get_sessions")
    rename_session = _blocking("rename_session")
    upsert_session = _blocking("upsert_session")
    upsert_sessions = _blocking("upsert_sessions")
    delete_session = _blocking("delete_session")
    delete_sessions = _blocking("delete_sessions")
    upsert_run = _blocking("upsert_run")
    get_run = _blocking("get_run")
    get_runs = _blocking("get_runs")
    delete_run = _blocking("delete_run")
    delete_runs = _blocking("delete_runs")
    get_user_memory = _blocking("get_user_memory")
    get_user_memories = _blocking("get_user_memories")
    get_all_memory_topics = _blocking("get_all_memory_topics")
    get_user_memory_stats = _blocking("get_user_memory_stats")
    upsert_user_memory = _blocking("upsert_user_memory")
    upsert_memories = _blocking("upsert_memories")
    delete_user_memory = _blocking("delete_user_memory")
    delete_user_memories = _blocking("delete_user_memories")
    clear_memories = _blocking("clear_memories")
    table_exists = _blocking("table_exists")
    get_latest_schema_version = _blocking("get_latest_schema_version")
    upsert_schema_version = _blocking("upsert_schema_version")
    upsert_knowledge_content = _blocking("upsert_knowledge_content")
    get_knowledge_content = _blocking("get_knowledge_content")
    get_knowledge_contents = _blocking("get_knowledge_contents")
    delete_knowledge_content = _blocking("delete_knowledge_content")
    create_eval_run = _blocking("create_eval_run")
    get_eval_run = _blocking("get_eval_run")
    get_eval_runs = _blocking("get_eval_runs")
    rename_eval_run = _blocking("rename_eval_run")
    update_eval_run_user_id = _blocking("update_eval_run_user_id")
    delete_eval_runs = _blocking("delete_eval_runs")
    calculate_metrics = _blocking("calculate_metrics")
    get_metrics = _blocking("get_metrics")
    upsert_learning = _blocking("upsert_learning")
    update_learning = _blocking("update_learning")
    get_learning = _blocking("get_learning")
    get_learnings = _blocking("get_learnings")
    delete_learning = _blocking("delete_learning")
    delete_user_learnings = _blocking("delete_user_learnings")
    upsert_trace = _blocking("upsert_trace")
    get_trace = _blocking("get_trace")
    get_traces = _blocking("get_traces")
    get_trace_stats = _blocking("get_trace_stats")
    create_span = _blocking("create_span")
    create_spans = _blocking("create_spans")
    get_span = _blocking("get_span")
    get_spans = _blocking("get_spans")
    export_dict = _blocking("export_dict")
    import_dict = _blocking("import_dict")
