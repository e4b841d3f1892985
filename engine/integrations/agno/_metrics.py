"""Agno's daily metrics, computed from the stored sessions, as plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from agno.db.in_memory.utils import (
    calculate_date_metrics,
    fetch_all_sessions_data,
    get_dates_to_calculate_metrics_for,
)
from agno.db.utils import drop_legacy_metrics, metrics_starting_date_from_records

from engine.integrations.agno._plan import Plan
from engine.integrations.agno._registry import RegistryPlans
from engine.integrations.agno._rows import session_from_record

__all__ = ["METRICS_METHODS", "MetricsPlans"]

METRICS_METHODS = ("calculate_metrics", "get_metrics")
"""The Agno methods :class:`MetricsPlans` plans."""


def _midnight(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())


class MetricsPlans(RegistryPlans):
    """Metrics rows, kept as ``agno:metrics:*`` documents of the registry."""

    def calculate_metrics(self) -> Plan[list[dict[str, Any]] | None]:
        """Agno's ``calculate_metrics``: daily per-user metrics since the last recorded day.

        Complexity: O(sessions stored) (one walk of every session).
        """
        metrics = yield from self._all("metrics")
        records = yield lambda e: e.sessions.list()
        sessions = [session_from_record(record) for record in records]
        starting = metrics_starting_date_from_records(metrics)
        if starting is None and sessions:
            first = min(s.get("created_at") or 0 for s in sessions)
            starting = datetime.fromtimestamp(first, tz=UTC).date()
        if starting is None:
            return None
        dates = get_dates_to_calculate_metrics_for(starting)
        if not dates:
            return None
        start, end = _midnight(dates[0]), _midnight(dates[-1] + timedelta(days=1))
        columns = ("user_id", "session_data", "runs", "created_at", "session_type")
        chosen = [
            {key: s.get(key) for key in columns}
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
                yield from self._put("metrics", f"{record['user_id']}|{day}|daily", record)
                results.append(record)
        return results

    def get_metrics(
        self,
        starting_date: date | None = None,
        ending_date: date | None = None,
        user_id: str | None = None,
    ) -> Plan[tuple[list[dict[str, Any]], int | None]]:
        """Agno's ``get_metrics``: the daily rows in range and the latest ``updated_at``."""
        metrics = yield from self._all("metrics")
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
