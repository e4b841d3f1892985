"""The shard behaviour: wires a pure :class:`ShardStore` to the actor runtime."""

from __future__ import annotations

import math
from typing import Any

import outcome

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

    __slots__ = ("_clock", "store")

    def __init__(self, store: ShardStore, clock: EngineClock) -> None:
        self.store = store
        self._clock = clock

    def handle(self, message: object) -> object:
        """Serve one request.

        - :class:`Call`: the operation's result (or its error, raised).
        - :class:`Batch`: its calls in order at one ``now``; one
          :class:`outcome.Outcome` per call (an error does not stop the others).
        - :class:`Compact`: refused with :class:`InvalidArgument` (no journal here;
          :class:`DurableShard` serves it).
        """
        match message:
            case Call(op, args):
                return self._apply(op, args, self._clock.now())
            case Batch(calls):
                now = self._clock.now()
                results: list[outcome.Outcome[Any]] = []
                for op, args, _ in calls:
                    try:
                        results.append(outcome.Value(self._apply(op, args, now)))
                    except Exception as error:
                        results.append(outcome.Error(error))
                return results
            case Compact():
                raise InvalidArgument("compact: this engine has no data_dir")
        raise TypeError(f"a shard serves Call, Batch or Compact, got {type(message).__name__}")

    def _apply(self, op: Op, args: tuple[Any, ...], now: float) -> Any:
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
