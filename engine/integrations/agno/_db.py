"""``ShardmemDb``: Agno's ``BaseDb`` on a shardmem engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from agno.db.base import BaseDb
from agno.db.in_memory.utils import (
    calculate_date_metrics,
    fetch_all_sessions_data,
    get_dates_to_calculate_metrics_for,
)
from agno.db.utils import drop_legacy_metrics, metrics_starting_date_from_records

from engine import BlockingEngine, start_blocking_engine
from engine.integrations.agno._cache import RunObjects
from engine.integrations.agno._memories import MemoryMethods
from engine.integrations.agno._portable import PortableMethods
from engine.integrations.agno._registry import RegistryMethods
from engine.integrations.agno._rows import session_from_record
from engine.integrations.agno._sessions import SessionMethods

__all__ = ["ShardmemDb"]


def _unsupported(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"ShardmemDb.{name} is not supported (as InMemoryDb)")

    method.__name__ = name
    return method


class ShardmemDb(SessionMethods, MemoryMethods, RegistryMethods, PortableMethods, BaseDb):
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
        self._run_objects = RunObjects()

    def close(self) -> None:
        """Close the db's own engine (a shared engine stays open)."""
        if self._owned:
            self.engine.close()

    # -- metrics --------------------------------------------------------------

    def _metric_rows(self) -> list[dict[str, Any]]:
        return self._all("metrics")

    def calculate_metrics(self) -> list[dict[str, Any]] | None:
        """Agno's ``calculate_metrics``: daily per-user metrics since the last recorded day."""
        metrics = self._metric_rows()
        sessions = [session_from_record(record) for record in self.engine.sessions.list()]
        starting = metrics_starting_date_from_records(metrics)
        if starting is None and sessions:
            first = min(s.get("created_at") or 0 for s in sessions)
            starting = datetime.fromtimestamp(first, tz=UTC).date()
        if starting is None:
            return None
        dates = get_dates_to_calculate_metrics_for(starting)
        if not dates:
            return None
        start = int(datetime.combine(dates[0], datetime.min.time(), tzinfo=UTC).timestamp())
        end = int(
            datetime.combine(
                dates[-1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC
            ).timestamp()
        )
        chosen = [
            {
                key: s.get(key)
                for key in ("user_id", "session_data", "runs", "created_at", "session_type")
            }
            for s in sessions
            if start <= (s.get("created_at") or 0) < end
        ]
        per_date = fetch_all_sessions_data(
            sessions=chosen, dates_to_process=dates, start_timestamp=start
        )
        if not per_date:
            return None
        results = []
        for day in dates:
            for_day = per_date.get(day.isoformat(), {})
            if not any(len(items) > 0 for items in for_day.values()):
                continue
            for record in calculate_date_metrics(day, for_day):
                self._put("metrics", f"{record['user_id']}|{day}|daily", record)
                results.append(record)
        return results

    def get_metrics(
        self,
        starting_date: date | None = None,
        ending_date: date | None = None,
        user_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Agno's ``get_metrics``: the daily rows in range and the latest ``updated_at``."""
        metrics = self._metric_rows()
        metrics = drop_legacy_metrics(metrics) if user_id is None else metrics
        rows, latest = [], None
        for metric in metrics:
            day = datetime.strptime(metric.get("date", ""), "%Y-%m-%d").date()
            if (starting_date and day < starting_date) or (ending_date and day > ending_date):
                continue
            if user_id is not None and metric.get("user_id") != user_id:
                continue
            row = dict(metric)
            if row.get("user_id") == "":
                row["user_id"] = None
            rows.append(row)
            updated = metric.get("updated_at")
            if updated and (latest is None or updated > latest):
                latest = updated
        return rows, latest

    # -- not held (as InMemoryDb) -------------------------------------------------

    upsert_trace = _unsupported("upsert_trace")
    get_trace = _unsupported("get_trace")
    get_traces = _unsupported("get_traces")
    get_trace_stats = _unsupported("get_trace_stats")
    create_span = _unsupported("create_span")
    create_spans = _unsupported("create_spans")
    get_span = _unsupported("get_span")
    get_spans = _unsupported("get_spans")
    get_learning = _unsupported("get_learning")
    upsert_learning = _unsupported("upsert_learning")
    delete_learning = _unsupported("delete_learning")
    get_learnings = _unsupported("get_learnings")
