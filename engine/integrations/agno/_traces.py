"""Agno's traces, spans and learnings (placeholder: not held, as with ``InMemoryDb``)."""

from __future__ import annotations

from typing import Any

__all__ = ["TRACE_METHODS", "TracePlans"]

TRACE_METHODS = (
    "upsert_trace",
    "get_trace",
    "get_traces",
    "get_trace_stats",
    "create_span",
    "create_spans",
    "get_span",
    "get_spans",
    "get_learning",
    "upsert_learning",
    "delete_learning",
    "get_learnings",
)


def _unsupported(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"ShardmemDb.{name} is not supported (as InMemoryDb)")

    method.__name__ = name
    return method


class TracePlans:
    """Traces, spans, learnings."""

    locals().update({name: _unsupported(name) for name in TRACE_METHODS})
