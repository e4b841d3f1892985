"""The shard behaviour: wires a pure :class:`ShardStore` to the actor runtime."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import outcome

from engine._api._clock import EngineClock
from engine._store._store import ShardStore

__all__ = ["ShardBehaviour", "ShardRequest", "run_pipeline"]

#: A request to a shard: a ``ShardStore`` method and its arguments after ``now``.
ShardRequest = tuple[Callable[..., Any], tuple[Any, ...]]


def run_pipeline(store: ShardStore, now: float, *operations: Any) -> Any:
    """Marks a pipeline request; :class:`ShardBehaviour` runs its operations itself."""
    raise RuntimeError("run_pipeline is a marker, served by ShardBehaviour.handle")


class ShardBehaviour:
    """The :class:`actors.Behaviour` of one shard.

    ``handle`` calls ``method(store, now, *args)`` with the engine time; timers are
    the store's expiry deadlines, converted to trio time.
    """

    __slots__ = ("_clock", "store")

    def __init__(self, store: ShardStore, clock: EngineClock) -> None:
        self.store = store
        self._clock = clock

    def handle(self, message: object) -> object:
        """Serve one ``(method, args)`` request, or a pipeline of them.

        A pipeline (``method`` is :func:`run_pipeline`, ``args`` the operations) runs
        its operations in order at one ``now`` and returns one :class:`outcome.Outcome`
        per operation: an operation's error does not stop the others.
        """
        method, args = message  # type: ignore[misc]
        now = self._clock.now()
        if method is run_pipeline:  # type: ignore[has-type]
            results: list[outcome.Outcome[Any]] = []
            for op, op_args in args:  # type: ignore[has-type]
                try:
                    results.append(outcome.Value(self._apply(op, op_args, now)))
                except Exception as error:
                    results.append(outcome.Error(error))
            return results
        return self._apply(method, args, now)  # type: ignore[has-type]

    def _apply(self, method: Callable[..., Any], args: tuple[Any, ...], now: float) -> Any:
        return method(self.store, now, *args)

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
