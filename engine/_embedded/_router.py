"""The embedded engine's :class:`~engine._api._backend.Backend`: requests to the shard
actors, by the key's shard."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import trio

from actors import ActorClosed, ActorRef, gather
from engine._api._backend import Settle
from engine._core._config import EngineConfig
from engine._core._errors import EngineClosed, Overloaded, wrong_thread
from engine._core._ops import Call, Compact
from engine._core._routing import shard_of
from engine._embedded._pipeline import run_batch

__all__ = ["ShardRouter"]


class ShardRouter:
    """Sends each request to the shard actor owning its key.

    Attributes:
        config: the engine's configuration.
        refs: the shards' actor references, in shard order.
        reject: ``when_full == "reject"``: a full mailbox raises :class:`Overloaded`
            instead of waiting for room.
        closed: set when the engine closes; requests then raise :class:`EngineClosed`.
    """

    __slots__ = ("_thread", "closed", "config", "refs", "reject")

    def __init__(self, config: EngineConfig, refs: list[ActorRef]) -> None:
        self.config = config
        self.refs = refs
        self.reject = config.when_full == "reject"
        self.closed = False
        self._thread = threading.get_ident()

    def check(self) -> None:
        """Raise :class:`WrongThread` off the engine's thread, :class:`EngineClosed`
        once closed."""
        if threading.get_ident() != self._thread:
            raise wrong_thread()
        if self.closed:
            raise EngineClosed("the engine is closed")

    def overloaded(self) -> Overloaded:
        """The error of a full mailbox with ``when_full='reject'``."""
        capacity = self.config.mailbox_size
        return Overloaded(f"shard mailbox full ({capacity} requests; when_full='reject')")

    async def call(self, call: Call) -> Any:
        """Send ``call`` to the shard owning ``call.key``; await its result."""
        ref = self.refs[shard_of(call.key, len(self.refs))]  # type: ignore[arg-type]
        if self.closed or self.reject or threading.get_ident() != self._thread:
            return await self._call_checked(ref, call)
        try:
            return await ref.ask(call)
        except ActorClosed:
            raise EngineClosed("the engine is closed") from None

    async def _call_checked(self, ref: ActorRef, call: Call) -> Any:
        """:meth:`call` when the engine is closed, rejects when full, or is misused."""
        self.check()
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            reply = ref.send_nowait(call)
        except trio.WouldBlock:
            raise self.overloaded() from None
        except ActorClosed:
            raise EngineClosed("the engine is closed") from None
        try:
            return await reply.wait()
        except ActorClosed:
            raise EngineClosed("the engine is closed") from None

    async def scatter(self, call: Call | Compact) -> list[Any]:
        """Send ``call`` to every shard; return the results in shard order."""
        self.check()
        try:
            return await gather(((ref, call) for ref in self.refs), reject=self.reject)
        except ActorClosed:
            raise EngineClosed("the engine is closed") from None
        except trio.WouldBlock:
            raise self.overloaded() from None

    async def run_batch(self, calls: Sequence[Call], settle: Settle) -> None:
        """Run a pipeline's calls: one :class:`Batch` per shard (see
        :func:`engine._embedded._pipeline.run_batch`)."""
        self.check()
        await run_batch(self.refs, calls, settle, reject=self.reject, overloaded=self.overloaded)

    def close(self) -> None:
        """Refuse new requests and close every shard's mailbox."""
        self.closed = True
        for ref in self.refs:
            ref.close()
