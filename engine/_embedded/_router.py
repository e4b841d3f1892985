"""The embedded engine's :class:`~engine._api._backend.Backend`: requests to the shard
actors, by the key's shard."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from actors import ActorRef, gather
from engine._api._batch import BatchPart
from engine._core._config import EngineConfig
from engine._core._errors import EngineClosed, Overloaded, wrong_thread
from engine._core._ops import LIST_DOCS, LIST_SESSIONS, Call, Compact, Op
from engine._core._rows import doc_of, session_of
from engine._embedded._pipeline import run_batch

__all__ = ["ShardRouter"]

_crc32 = zlib.crc32

#: The list queries whose shards answer with stored rows (``engine._core._rows``), and
#: how a row the merge keeps becomes its record.
_ROWS_LISTED: dict[Op, Callable[[Any], Any]] = {LIST_SESSIONS: session_of, LIST_DOCS: doc_of}


class ShardRouter:
    """Sends each request to the shard actor owning its key.

    Attributes:
        config: the engine's configuration.
        refs: the shards' actor references, in shard order; their actors raise
            :class:`EngineClosed` (``Actor(closed_error=...)``) when closed.
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

    def call(self, call: Call) -> Awaitable[Any]:
        """Send ``call`` to the shard owning ``call.key``; await its result.

        A plain method returning the awaitable (``ref.ask``, whose closed error is
        already :class:`EngineClosed`): no coroutine frame of its own per request.
        """
        refs = self.refs
        # shard_of(call.key, len(refs)), inline: once per request
        ref = refs[_crc32(call.key.encode("utf-8", "surrogatepass")) % len(refs)]  # type: ignore[union-attr]
        if self.closed or self.reject or threading.get_ident() != self._thread:
            return self._call_checked(ref, call)
        return ref.ask(call)

    async def in_thread(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        """``fn(arg)`` in a trio worker thread."""
        return await trio.to_thread.run_sync(fn, arg)

    async def _call_checked(self, ref: ActorRef, call: Call) -> Any:
        """:meth:`call` when the engine is closed, rejects when full, or is misused."""
        self.check()
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            reply = ref.send_nowait(call)
        except trio.WouldBlock:
            raise self.overloaded() from None
        return await reply.wait()

    async def scatter(self, call: Call | Compact) -> list[Any]:
        """Send ``call`` to every shard; return the results in shard order."""
        self.check()
        try:
            return await gather(((ref, call) for ref in self.refs), reject=self.reject)
        except trio.WouldBlock:
            raise self.overloaded() from None

    def decoder(self, op: Op) -> Callable[[Any], Any] | None:
        """Sessions and documents are listed as rows; see :meth:`Backend.decoder`."""
        return _ROWS_LISTED.get(op)

    def run_batch(self, parts: Sequence[BatchPart]) -> Awaitable[None]:
        """Run a pipeline's parts: one :class:`Batch` per shard (see
        :func:`engine._embedded._pipeline.run_batch`; no frame of its own)."""
        if self.closed or threading.get_ident() != self._thread:
            self.check()
        return run_batch(self.refs, parts, reject=self.reject, overloaded=self.overloaded)

    def close(self) -> None:
        """Refuse new requests and close every shard's mailbox."""
        self.closed = True
        for ref in self.refs:
            ref.close()
