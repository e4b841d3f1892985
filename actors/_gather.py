"""Scatter-gather: one request to each of several actors, then every reply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import trio

from actors._actor import ActorRef
from actors._reply import Reply

__all__ = ["gather"]


async def gather(requests: Iterable[tuple[ActorRef, object]], *, reject: bool = False) -> list[Any]:
    """Send every ``(actor, message)`` request, then await all replies, in order.

    With ``reject=True`` nothing is sent unless every mailbox has room for its
    requests now (checked and sent without a checkpoint between, so atomically):
    ``trio.WouldBlock`` is raised instead of waiting.

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
        trio.WouldBlock: with ``reject=True``, if a mailbox lacks room.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    if reject:
        requests = list(requests)
        needed: dict[int, int] = {}
        for ref, _ in requests:
            needed[id(ref)] = needed.get(id(ref), 0) + 1
            if needed[id(ref)] > ref.free_slots():
                raise trio.WouldBlock
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
        else:  # pending: park at once (Reply.wait's pending branch, without its frame)
            reply._waited = True
            reply._task = trio.lowlevel.current_task()
            results.append(await trio.lowlevel.wait_task_rescheduled(reply._abort))
            parked = True
    if not parked:
        await trio.lowlevel.checkpoint()
    return results
