"""What an arrival does: the next turn (or operation) of the ChitChat replay.

The turns of all conversations are dealt round-robin (turn 0 of every conversation, then
turn 1, ...), so consecutive arrivals touch different sessions, as many users would.
When a run needs more arrivals than there are turns it starts over with new run and
memory ids (``<id>@<lap>``), so every write still adds a record. Sessions are created
before the clock starts (:func:`create_sessions`); summaries are not written.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from bench._load._open_loop import Request
from bench._measure._latency import LatencyRecorder
from bench._replay._dataset import Conversation
from bench._replay._workload import (
    TurnPlan,
    WorkloadConfig,
    WorkloadTally,
    create_session,
    plan_turns,
    play_operation,
    play_turn,
)
from bench._targets._protocol import PipelinedTarget, Target

__all__ = ["LoadDeck", "create_sessions"]


async def create_sessions(
    target: Target, conversations: Sequence[Conversation], config: WorkloadConfig
) -> None:
    """Create every conversation's session (one call each, untimed)."""
    for conversation in conversations:
        await create_session(target, conversation, config)


@attrs.define(eq=False)
class LoadDeck:
    """The arrivals of a load run, by index, over the turns of ``conversations``.

    Attributes:
        turns: The turns, dealt round-robin over the conversations.
        operations: With ``unit="op"``: ``(turn index, operation)`` per arrival, each
            turn's operations in order.
        tally: Messages and memories the reads returned, over every run of the deck
            (the replay's accounting; an open-loop report does not show it).
    """

    turns: tuple[TurnPlan, ...]
    operations: tuple[tuple[int, str], ...]
    tally: WorkloadTally = attrs.field(factory=WorkloadTally)

    @classmethod
    def deal(
        cls, conversations: Sequence[Conversation], config: WorkloadConfig, *, unit: str
    ) -> LoadDeck:
        """Plan every turn of ``conversations``; ``unit`` is ``"turn"`` or ``"op"``.

        Raises:
            ValueError: if there is no turn, or ``unit`` is unknown.
        """
        if unit not in ("turn", "op"):
            raise ValueError(f"expected unit 'turn' or 'op', got {unit!r}")
        columns = [list(plan_turns(c, config)) for c in conversations]
        turns = tuple(
            plan for row in itertools.zip_longest(*columns) for plan in row if plan is not None
        )
        if not turns:
            raise ValueError("expected conversations with at least one turn, got none")
        operations: tuple[tuple[int, str], ...] = ()
        if unit == "op":
            operations = tuple((i, op) for i, plan in enumerate(turns) for op in plan.operations())
        return cls(turns=turns, operations=operations)

    def request(self, target: Target, config: WorkloadConfig, service: LatencyRecorder) -> Request:
        """The open loop's request: arrival ``index`` plays its turn (label ``None``) or
        its operation (labelled with the operation's name) on ``target``.

        With ``unit="turn"``, ``service`` receives the time of each call of the turn per
        operation (a pipelined batch's time for each operation in it).
        """
        pipelined = target if config.pipeline and isinstance(target, PipelinedTarget) else None
        turns = self.turns
        operations = self.operations
        tally = self.tally

        if operations:

            async def operation(index: int) -> str | None:
                lap, position = divmod(index, len(operations))
                turn, op = operations[position]
                await play_operation(target, config, tally, _lap(turns[turn], lap), op)
                return op

            return operation

        async def turn(index: int) -> str | None:
            lap, position = divmod(index, len(turns))
            plan = _lap(turns[position], lap)
            await play_turn(target, config, service, tally, plan, pipelined=pipelined)
            return None

        return turn


def _lap(plan: TurnPlan, lap: int) -> TurnPlan:
    """``plan`` with ids of lap ``lap`` (lap 0: unchanged)."""
    if lap == 0:
        return plan
    memory = plan.memory
    return attrs.evolve(
        plan,
        run_id=f"{plan.run_id}@{lap}",
        memory=None
        if memory is None
        else attrs.evolve(memory, memory_id=f"{memory.memory_id}@{lap}"),
    )
