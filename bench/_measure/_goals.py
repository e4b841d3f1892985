"""A benchmark's goal: a threshold on one measured number, and whether a run met it."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Goal"]


@attrs.frozen(kw_only=True)
class Goal:
    """One goal of an issue and this run's value for it.

    Attributes:
        name: What is measured, e.g. ``"group commit / one fsync per write"``.
        target: The threshold (a ratio, writes per second, milliseconds...).
        measured: This run's value; ``None`` if the run did not measure it.
        unit: ``"x"``, ``"writes/s"``, or ``""`` where the name says it.
        at_least: ``True`` if the goal is ``measured >= target``, ``False`` for
            ``measured <= target``.
        applies: Whether the run used the goal's settings; the verdict of a run with
            other settings says nothing.
    """

    name: str
    target: float
    measured: float | None
    unit: str = ""
    at_least: bool = True
    applies: bool = True

    @property
    def met(self) -> bool | None:
        """Whether the measured value is on the goal's side of the target (``None`` if
        unmeasured)."""
        if self.measured is None:
            return None
        return self.measured >= self.target if self.at_least else self.measured <= self.target

    @property
    def fraction(self) -> float | None:
        """``measured / target`` (1.0 = exactly met; ``None`` if unmeasured)."""
        return None if self.measured is None else self.measured / self.target

    @property
    def threshold(self) -> str:
        """The goal as text, e.g. ``">= 2.5"`` or ``"<= 50"``."""
        target = int(self.target) if self.target == int(self.target) else self.target
        return f"{'>=' if self.at_least else '<='} {target}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form: every attribute, plus ``met``."""
        return {**attrs.asdict(self), "met": self.met}
