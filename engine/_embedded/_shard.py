"""The shard behaviour: wires a pure :class:`ShardStore` to the actor runtime."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine._api._batch import NO_VALUE, BatchReply, Queued
from engine._api._clock import EngineClock
from engine._core._errors import InvalidArgument
from engine._core._ops import Batch, Call, Compact, Op
from engine._store._dispatch import STORE_METHODS
from engine._store._store import ShardStore

__all__ = ["ShardBehaviour"]


class ShardBehaviour:
    """The :class:`actors.Behaviour` of one shard.

    ``handle`` serves the typed requests of :mod:`engine._core._ops` with the engine
    time; timers are the store's expiry deadlines, converted to trio time.
    """

    __slots__ = ("_clock", "_direct", "store")

    def __init__(self, store: ShardStore, clock: EngineClock) -> None:
        self.store = store
        self._clock = clock
        # Whether _apply is this class's (the store method, nothing around it): then
        # requests call the store method inline, without an _apply frame each.
        self._direct = type(self)._apply is ShardBehaviour._apply

    def handle(self, message: object) -> object:
        """Serve one request.

        - :class:`Call`: the operation's result (or its error, raised).
        - :class:`Batch`: its calls in order at one ``now``, each succeeding or failing
          on its own: a :data:`~engine._api._batch.BatchReply` (every value in one
          list, the errors by position).
        - :class:`Compact`: refused with :class:`InvalidArgument` (no journal here;
          :class:`DurableShard` serves it).
        """
        if type(message) is Call:  # exact types, no pattern matching: every request's path
            op, args, _ = message
            if self._direct:
                return STORE_METHODS[op](self.store, self._clock.now(), *args)
            return self._apply(op, args, self._clock.now())
        if type(message) is Batch:
            return self._serve_batch(message.calls, self._clock.now())
        if type(message) is Compact:
            raise InvalidArgument("compact: this engine has no data_dir")
        raise TypeError(f"a shard serves Call, Batch or Compact, got {type(message).__name__}")

    def _serve_batch(self, calls: Sequence[Queued], now: float) -> BatchReply:
        """Run ``calls`` in order at ``now``; an error fails its call only. O(calls)."""
        store = self.store
        methods = STORE_METHODS
        apply = None if self._direct else self._apply
        values: list[Any] = []
        append = values.append
        errors: dict[int, Exception] | None = None
        for op, args, _ in calls:
            try:
                append(methods[op](store, now, *args) if apply is None else apply(op, args, now))
            except Exception as error:
                if errors is None:
                    errors = {}
                errors[len(values)] = error
                append(NO_VALUE)
        return values, errors

    def _apply(self, op: Op, args: tuple[Any, ...], now: float) -> Any:
        """Serve one operation (a subclass adds what surrounds it, e.g. journaling)."""
        return STORE_METHODS[op](self.store, now, *args)

    def next_deadline(self) -> float:
        """The trio time of the store's earliest deadline, or ``math.inf``."""
        deadline = self.store.next_deadline()
        return math.inf if deadline is None else self._clock.to_trio(deadline)

    def fire_timers(self, now: float, limit: int) -> int:
        """Expire up to ``limit`` records due at trio time ``now``; return how many."""
        epoch = self._clock.from_trio(now)
        deadline = self.store.next_deadline()
        if deadline is not None and self._clock.to_trio(deadline) <= now:
            epoch = max(epoch, deadline)  # float round-trip must not leave it unfired
        return self.store.expire_due(epoch, limit)
