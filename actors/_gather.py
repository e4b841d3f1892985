"""Scatter-gather: one request to each of several actors, then every reply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import trio

from actors._actor import ActorRef
from actors._reply import Reply

__all__ = ["gather"]


async def gather(requests: Iterable[tuple[ActorRef, object]]) -> list[Any]:
    """Send every ``(actor, message)`` request, then await all replies, in order.

    No extra tasks are spawned: all requests are queued first (so the actors work on
    them concurrently) and the replies, which are futures, are collected in order:
    the caller parks only for replies not yet resolved, and checkpoints once in all
    (not once per reply).

    Returns:
        The results, in the order of ``requests``.

    Raises:
        Exception: the first error among the replies (in request order); the replies
            after it are not awaited (the actors still serve those requests).
        ActorClosed: if an actor's mailbox is closed.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    replies: list[Reply[Any]] = []
    for ref, message in requests:
        try:
            replies.append(ref.send_nowait(message))
        except trio.WouldBlock:  # a full mailbox: wait for room (backpressure)
            replies.append(await ref.send(message))
    results: list[Any] = []
    parked = False
    for reply in replies:
        if reply.ready:
            try:
                results.append(reply.take())
            except Exception:
                if not parked:  # a checkpoint even on the error path
                    await trio.lowlevel.checkpoint()
                raise
        else:
            results.append(await reply.wait())
            parked = True
    if not parked:
        await trio.lowlevel.checkpoint()
    return results
