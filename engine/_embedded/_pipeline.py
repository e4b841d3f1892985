"""The embedded engine's half of a pipeline: one :class:`Batch` request per shard.

:class:`engine.Pipeline` (``engine._api._pipeline``) queues the built :class:`Call`
requests; on exit :meth:`ShardRouter.run_batch` hands them here. Each shard gets its
calls, in queued order, as one request that it serves at one ``now``; the shards work
concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import trio

from actors import ActorClosed, ActorRef, gather
from engine._api._backend import Settle
from engine._core._errors import EngineClosed, Overloaded
from engine._core._ops import Batch, Call
from engine._core._routing import shard_of

__all__ = ["run_batch"]


async def run_batch(
    refs: Sequence[ActorRef],
    calls: Sequence[Call],
    settle: Settle,
    *,
    reject: bool,
    overloaded: Callable[[], Overloaded],
) -> None:
    """Send ``calls`` as one :class:`Batch` per shard of ``refs``; ``settle`` each
    call's outcome. ``reject``: fail with ``overloaded()`` on a full mailbox instead
    of waiting for room.

    Raises:
        EngineClosed: if the engine closes first.
        Overloaded: with ``when_full='reject'``, if a shard's mailbox is full (nothing
            is settled then; other shards' parts may have run).
    """
    shards = len(refs)
    first = shard_of(calls[0].key, shards)  # type: ignore[arg-type]
    groups: dict[int, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(shard_of(call.key, shards), []).append(index)  # type: ignore[arg-type]
    try:
        if len(groups) == 1 and not reject:  # one shard: one ask
            outcomes = await refs[first].ask(Batch(tuple(calls)))
            for index, value in enumerate(outcomes):
                settle(index, value)
            return
        replies = await gather(
            [
                (refs[shard], Batch(tuple([calls[i] for i in indexes])))
                for shard, indexes in groups.items()
            ],
            reject=reject,
        )
    except ActorClosed:
        raise EngineClosed("the engine is closed") from None
    except trio.WouldBlock:
        raise overloaded() from None
    for indexes, outcomes in zip(groups.values(), replies, strict=True):
        for index, value in zip(indexes, outcomes, strict=True):
            settle(index, value)
