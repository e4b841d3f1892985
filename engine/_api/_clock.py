"""The engine's one clock: epoch seconds that advance with trio's clock."""

from __future__ import annotations

import time

import attrs
import trio

from engine._core._errors import InvalidArgument
from engine._core._validate import check_timestamp

__all__ = ["EngineClock"]

_MAX_EPOCH = 1e12  # about year 33658: far enough, and TTL arithmetic stays exact to 1 ms


@attrs.frozen
class EngineClock:
    """Epoch seconds anchored once at start, then advanced by :func:`trio.current_time`.

    So ``trio.testing.MockClock`` (``autojump_clock``) drives every TTL in tests, and
    a wall-clock step (NTP) never moves deadlines. Must be created inside ``trio.run``.

    Attributes:
        epoch: epoch seconds at the anchor.
        trio_time: trio's clock at the anchor.
        clock: the trio run's clock (:func:`trio.lowlevel.current_clock`), read
            directly: what :func:`trio.current_time` reads, without its two frames.
    """

    epoch: float
    trio_time: float
    clock: trio.abc.Clock

    @classmethod
    def start(cls, epoch: float | None = None) -> EngineClock:
        """Anchor now; ``epoch`` overrides the wall clock's ``time.time()``.

        Raises:
            TypeError: if ``epoch`` is not ``None``, an int or a float.
            InvalidArgument: if it is NaN or infinite (``start_time`` of either
                ``open_*`` function; a NaN clock would never reach a deadline).
        """
        anchor = check_timestamp("start_time", epoch)
        if anchor is None:
            anchor = time.time()
        elif abs(anchor) > _MAX_EPOCH:
            raise InvalidArgument(
                f"start_time: expected epoch seconds within ±{_MAX_EPOCH:.0e}, got {epoch!r}"
            )
        return cls(anchor, trio.current_time(), trio.lowlevel.current_clock())

    def now(self) -> float:
        """Current engine time, epoch seconds."""
        return self.epoch + (self.clock.current_time() - self.trio_time)

    def to_trio(self, epoch: float) -> float:
        """The trio time at which the engine clock reads ``epoch``."""
        return epoch - self.epoch + self.trio_time

    def from_trio(self, trio_time: float) -> float:
        """The engine time (epoch seconds) when trio's clock reads ``trio_time``."""
        return self.epoch + (trio_time - self.trio_time)
