"""The contract between the actor runtime and the state an actor owns."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Behaviour", "CommittingBehaviour"]


@runtime_checkable
class Behaviour(Protocol):
    """What an actor's owner task drives. All methods are synchronous and never block.

    The runtime calls them only from the owner task, so the behaviour's state needs
    no lock. Times are trio clock seconds (:func:`trio.current_time`).
    """

    def handle(self, message: object) -> object:
        """Serve one request and return its result.

        An exception raised here is delivered to the requesting client (re-raised in
        its task) and the actor keeps serving; it must therefore leave the state
        consistent (validate before mutating).
        """
        ...

    def next_deadline(self) -> float:
        """The trio time of the earliest pending timer, or ``math.inf`` if none."""
        ...

    def fire_timers(self, now: float, limit: int) -> int:
        """Run at most ``limit`` timers due at or before ``now``; return how many ran."""
        ...


@runtime_checkable
class CommittingBehaviour(Behaviour, Protocol):
    """A behaviour that must make each batch durable before its replies go out."""

    async def commit(self) -> None:
        """Called after every served batch, before any of its replies is resolved.

        One call covers the whole batch (group commit). Raising
        :class:`~actors.CommitFailed` fails the requests it names and the owner keeps
        serving; raising anything else fails every request of the batch with that
        error and stops the owner.
        """
        ...
