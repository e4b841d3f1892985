"""Cheap process health measurements: event-loop lag, garbage-collector pauses, peak RSS."""

from __future__ import annotations

import gc
import resource
import sys
from time import perf_counter, thread_time
from typing import Any

import attrs
import trio

__all__ = ["GcPauses", "LoopLagMonitor", "peak_rss_bytes"]


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far, in bytes.

    ``getrusage`` reports ``ru_maxrss`` in kibibytes on Linux and in bytes on macOS.
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


@attrs.define(eq=False)
class LoopLagMonitor:
    """Measures how late the trio event loop wakes a sleeping task.

    A task sleeps ``interval`` seconds in a loop and records how much later than asked it
    woke up (wall time). The largest lag bounds the longest time the loop was busy
    without reaching its timers: one long task step, a garbage collection, or one round
    of a very large run queue. Costs one wake-up per ``interval`` (default 5 ms).
    """

    interval: float = 0.005
    max_lag: float = attrs.field(default=0.0, init=False)
    samples: int = attrs.field(default=0, init=False)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Sample until cancelled; start it with ``nursery.start``."""
        task_status.started()
        interval = self.interval
        while True:
            start = perf_counter()
            await trio.sleep(interval)
            lag = perf_counter() - start - interval
            self.samples += 1
            if lag > self.max_lag:
                self.max_lag = lag


@attrs.define(eq=False)
class GcPauses:
    """Times every garbage collection while installed (a ``gc.callbacks`` hook).

    Use as a context manager. Attributes are seconds; ``collections`` counts all
    generations, ``full_collections`` generation 2. ``max_pause`` is wall time;
    ``max_cpu_pause`` the collecting thread's CPU time (``time.thread_time``), which a
    machine shared with other processes does not inflate.
    """

    collections: int = attrs.field(default=0, init=False)
    full_collections: int = attrs.field(default=0, init=False)
    max_pause: float = attrs.field(default=0.0, init=False)
    total_pause: float = attrs.field(default=0.0, init=False)
    max_cpu_pause: float = attrs.field(default=0.0, init=False)
    _started: float = attrs.field(default=0.0, init=False)
    _started_cpu: float = attrs.field(default=0.0, init=False)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started_cpu = thread_time()
            self._started = perf_counter()
            return
        pause = perf_counter() - self._started
        self.max_cpu_pause = max(self.max_cpu_pause, thread_time() - self._started_cpu)
        self.collections += 1
        if info.get("generation") == 2:
            self.full_collections += 1
        self.total_pause += pause
        if pause > self.max_pause:
            self.max_pause = pause

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._callback)
