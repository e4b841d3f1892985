"""Errors of the actor runtime."""

from __future__ import annotations

__all__ = ["ActorClosed"]


class ActorClosed(RuntimeError):
    """The actor's mailbox is closed, or its owner stopped before serving a request."""
