"""Small real behaviours the actor tests drive: a key-value store with expiry timers."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable

import attrs


class Boom(Exception):
    """An error a handler raises on purpose."""


class LoopBug(Exception):
    """A bug in a behaviour's timer code, i.e. in the owner loop itself."""


@attrs.define(eq=False)
class FireCall:
    """One call of ``fire_timers``: its arguments and how many timers ran."""

    now: float
    limit: int
    ran: int


@attrs.define(eq=False)
class KV:
    """A key-value store whose keys can expire, with timers held in a heap.

    Messages are tuples:

    - ``("get", key)`` -> the value or ``None``
    - ``("set", key, value)`` -> ``value``
    - ``("incr", key)`` -> the new count (a missing key counts as 0)
    - ``("delete", key)`` -> whether the key existed
    - ``("expire_at", key, when)`` -> ``None``; the key is deleted at trio time ``when``
    - ``("echo", x)`` -> ``x``
    - ``("fired",)`` -> how many timers have run so far
    - ``("raise", exc)`` -> raises ``exc``

    Anything else raises ``ValueError`` (before touching the state).
    """

    data: dict[object, object] = attrs.field(factory=dict)
    #: every message served, in the order the owner served them
    log: list[object] = attrs.field(factory=list)
    #: ``(now, key)`` of every timer run, in the order they ran
    fired: list[tuple[float, object]] = attrs.field(factory=list)
    fire_calls: list[FireCall] = attrs.field(factory=list)
    #: called (synchronously, by the owner) after each ``fire_timers`` call that ran timers
    on_fire: Callable[[], None] | None = None
    _timers: list[tuple[float, int, object]] = attrs.field(factory=list)
    _seq: itertools.count[int] = attrs.field(factory=itertools.count)

    def add_timer(self, when: float, key: object) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), key))

    @property
    def pending_timers(self) -> int:
        return len(self._timers)

    def handle(self, message: object) -> object:
        self.log.append(message)
        match message:
            case ("get", key):
                return self.data.get(key)
            case ("set", key, value):
                self.data[key] = value
                return value
            case ("incr", key):
                count = self.data.get(key, 0)
                assert isinstance(count, int)
                self.data[key] = count + 1
                return count + 1
            case ("delete", key):
                return self.data.pop(key, None) is not None
            case ("expire_at", key, float(when)):
                self.add_timer(when, key)
                return None
            case ("echo", value):
                return value
            case ("fired",):
                return len(self.fired)
            case ("raise", BaseException() as exc):
                raise exc
            case _:
                raise ValueError(f"unknown message: {message!r}")

    def next_deadline(self) -> float:
        return self._timers[0][0] if self._timers else math.inf

    def fire_timers(self, now: float, limit: int) -> int:
        ran = 0
        while ran < limit and self._timers and self._timers[0][0] <= now:
            _, _, key = heapq.heappop(self._timers)
            self.data.pop(key, None)
            self.fired.append((now, key))
            ran += 1
        self.fire_calls.append(FireCall(now=now, limit=limit, ran=ran))
        if ran and self.on_fire is not None:
            self.on_fire()
        return ran


@attrs.define(eq=False)
class BrokenTimers(KV):
    """A ``KV`` whose ``fire_timers`` has a bug: it raises ``LoopBug``."""

    def fire_timers(self, now: float, limit: int) -> int:
        raise LoopBug(f"the timer wheel broke at {now}")


@attrs.define(eq=False)
class BrokenDeadline(KV):
    """A ``KV`` whose ``next_deadline`` has a bug once a request was served."""

    def next_deadline(self) -> float:
        if self.log:
            raise LoopBug("next_deadline broke")
        return math.inf
