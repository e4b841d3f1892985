"""The shard behaviour: wires a pure :class:`ShardStore` to the actor runtime."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from engine._clock import EngineClock
from engine._store import ShardStore

__all__ = ["ShardBehaviour", "ShardRequest"]

#: A request to a shard: a ``ShardStore`` method and its arguments after ``now``.
ShardRequest = tuple[Callable[..., Any], tuple[Any, ...]]


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
        """Serve one ``(method, args)`` request."""
        method, args = message  # type: ignore[misc]
        return method(self.store, self._clock.now(), *args)  # type: ignore[has-type]

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
