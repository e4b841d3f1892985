"""Errors of the actor runtime, and how they cross a context manager's nursery."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ActorClosed", "unwrap_single_error"]


class ActorClosed(RuntimeError):
    """The actor's mailbox is closed, or its owner stopped before serving a request."""


@contextmanager
def unwrap_single_error() -> Iterator[None]:
    """Re-raise a one-exception ``BaseExceptionGroup`` as that exception.

    A context manager that runs its body inside a nursery (``open_actor``,
    ``open_memory_engine``) would otherwise hand the caller an ``ExceptionGroup`` for
    a plain error raised in the ``async with`` body (trio's strict exception groups).
    Groups of several exceptions (e.g. the body failed *and* an owner task crashed)
    are re-raised unchanged.
    """
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1 and not isinstance(group.exceptions[0], BaseExceptionGroup):
            error = group.exceptions[0]
            raise error from error.__cause__
        raise
