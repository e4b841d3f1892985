"""``ShardmemDb``: Agno's ``BaseDb`` on a shardmem engine."""

from __future__ import annotations

import os
from typing import Any

from agno.db.base import BaseDb

from engine import BlockingEngine, start_blocking_engine
from engine.integrations.agno._cache import RunObjects
from engine.integrations.agno._learnings import LEARNING_METHODS, UNSUPPORTED, LearningPlans
from engine.integrations.agno._memories import MEMORY_METHODS, MemoryPlans
from engine.integrations.agno._metrics import METRICS_METHODS, MetricsPlans
from engine.integrations.agno._plan import blocking_methods, run_blocking
from engine.integrations.agno._portable import (
    PORTABLE_METHODS,
    PortablePlans,
    read_json,
    write_json,
)
from engine.integrations.agno._registry import REGISTRY_METHODS
from engine.integrations.agno._sessions import SESSION_METHODS, SessionPlans

__all__ = ["PLANNED", "AgnoPlans", "ShardmemDb"]

PLANNED = (
    SESSION_METHODS
    + MEMORY_METHODS
    + REGISTRY_METHODS
    + METRICS_METHODS
    + LEARNING_METHODS
    + UNSUPPORTED
    + PORTABLE_METHODS
)
"""Every method :class:`ShardmemDb` and :class:`AsyncShardmemDb` run from a plan."""


class AgnoPlans(SessionPlans, MemoryPlans, MetricsPlans, LearningPlans, PortablePlans):
    """The adapter's logic, written once for both drivers (see ``_plan``): every Agno
    method as a plan over the engine handle, and the run-object cache they share.

    Args:
        run_objects: the cache of Agno run objects.
    """

    def __init__(self, run_objects: RunObjects) -> None:
        self.run_objects = run_objects


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

    locals().update(blocking_methods(AgnoPlans, PLANNED))
