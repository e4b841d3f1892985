"""Errors of the actor runtime, and how they cross a context manager's nursery."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ActorClosed", "single_leaf", "unwrap_single_error"]


class ActorClosed(RuntimeError):
    """The actor's mailbox is closed, or its owner stopped before serving a request."""


@contextmanager
def unwrap_single_error() -> Iterator[None]:
    """Re-raise a one-exception ``BaseExceptionGroup`` as that exception.

    A context manager that runs its body inside a nursery (``open_actor``,
    ``open_memory_engine``) would otherwise hand the caller an ``ExceptionGroup`` for
    a plain error raised in the ``async with`` body (trio's strict exception groups).
    Nested one-exception groups (nested nurseries) are unwrapped to their leaf.
    Groups of several exceptions (e.g. the body failed *and* an owner task crashed)
    are re-raised unchanged.
    """
    try:
        yield
    except BaseExceptionGroup as group:
        error = single_leaf(group)
        if error is None:
            raise
        raise error from error.__cause__


def single_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception inside (possibly nested) one-exception groups, else ``None``."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        if len(error.exceptions) != 1:
            return None
        error = error.exceptions[0]
    return error
