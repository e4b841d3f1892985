"""Scatter-gather: one request to each of several actors, then every reply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from actors._actor import ActorRef
from actors._reply import Reply

__all__ = ["gather"]


async def gather(requests: Iterable[tuple[ActorRef, object]]) -> list[Any]:
    """Send every ``(actor, message)`` request, then await all replies, in order.

    No extra tasks are spawned: all requests are queued first (so the actors work on
    them concurrently) and the replies, which are futures, are awaited one by one.

    Returns:
        The results, in the order of ``requests``.

    Raises:
        Exception: the first error among the replies (in request order); the replies
            after it are not awaited (the actors still serve those requests).
        ActorClosed: if an actor's mailbox is closed.
    """
    replies: list[Reply[Any]] = [await ref.send(message) for ref, message in requests]
    return [await reply.wait() for reply in replies]
