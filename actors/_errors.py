"""Errors of the actor runtime, and how they cross a context manager's nursery."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ActorClosed", "CommitFailed", "single_leaf", "unwrap_single_error"]


class ActorClosed(RuntimeError):
    """The actor's mailbox is closed, or its owner stopped before serving a request."""


class CommitFailed(Exception):
    """Raised by a :class:`CommittingBehaviour`'s ``commit()`` when some requests of
    the batch could not be made durable but the behaviour itself is sound.

    The owner fails exactly those requests with :attr:`error`, resolves the others
    with their results, and keeps serving (any other exception from ``commit()``
    stops it).

    Attributes:
        error: the exception each failed request's client receives.
        failed: the positions, in the batch, of the requests that failed.
    """

    def __init__(self, error: Exception, failed: frozenset[int]) -> None:
        super().__init__(error, failed)
        self.error = error
        self.failed = failed


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
