"""The embedded engine's half of a pipeline: one :class:`Batch` request per shard.

:class:`engine.Pipeline` (``engine._api._pipeline``) routes each operation as it is
queued, into one :class:`BatchPart` per shard; on exit :meth:`ShardRouter.run_batch`
hands the parts here. Each shard gets its part's calls, in queued order, as one request
that it serves at one ``now`` and answers with one list of values (a
:data:`~engine._api._batch.BatchReply`); the shards work concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import trio

from actors import ActorRef, gather
from engine._api._batch import BatchPart
from engine._core._errors import Overloaded
from engine._core._ops import Batch

__all__ = ["run_batch"]


async def run_batch(
    refs: Sequence[ActorRef],
    parts: Sequence[BatchPart],
    *,
    reject: bool,
    overloaded: Callable[[], Overloaded],
) -> None:
    """Send each part's calls to its shard of ``refs`` as one :class:`Batch`; settle
    the parts with the replies. ``reject``: fail with ``overloaded()`` on a full
    mailbox instead of waiting for room.

    Raises:
        EngineClosed: if the engine closes first (the shards' actors raise it).
        Overloaded: with ``when_full='reject'``, if a shard's mailbox is full (nothing
            is settled then; other shards' parts may have run).
    """
    if len(parts) == 1 and not reject:  # one shard: one ask
        part = parts[0]
        part.settle(await refs[part.shard].ask(Batch(part.calls)))
        return
    try:
        replies = await gather(
            [(refs[part.shard], Batch(part.calls)) for part in parts], reject=reject
        )
    except trio.WouldBlock:
        raise overloaded() from None
    for part, reply in zip(parts, replies, strict=True):
        part.settle(reply)
