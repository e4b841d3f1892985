"""The ChitChat replay: one conversation replayed by an agent, and the pool of agents.

Each conversation is one session owned by its first sender. For every turn the agent
does what a memory-backed chat agent does around a model call:

1. ``read_history``: the messages of the session's last runs (default 5);
2. ``search_memories``: the owner's memories ranked by the turn's text (default 5);
3. ``append_run``: the turn as a run, one message per utterance (role ``"user"`` when the
   sender owns the session, else ``"assistant"``), ``run_id = f"{session_id}:{index}"``;
4. ``store_working``: the turn's text as the session's working memory, with a TTL;
5. every ``memory_every`` turns (turn index 0, k, 2k, ...) and only if the text is not
   blank, ``upsert_memory``: the text as a memory of its *sender* (it is a fact the sender
   told), ``memory_id = f"{session_id}:{index}"``, topics = its longest words.

Before the first turn it creates the session (``create_session``); after the last it sets
a summary (``set_summary``): the dataset's prompt and the first words of the conversation.

All ids are derived from the corpus, so the records a run leaves behind are
deterministic; only the interleaving of agents (and so ranking results) varies.
Latency is wall time (:func:`time.perf_counter`) around each awaited call.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable, Iterator
from time import perf_counter
from typing import Final, TypeVar

import attrs
import trio

from bench._measure._latency import LatencyRecorder
from bench._replay._dataset import Conversation
from bench._targets._protocol import (
    PIPELINE_BATCHES,
    MemoryWrite,
    PipelinedTarget,
    Target,
)

__all__ = [
    "TURN_OPERATIONS",
    "TurnPlan",
    "WorkloadConfig",
    "WorkloadTally",
    "create_session",
    "keywords",
    "plan_turns",
    "play_operation",
    "play_turn",
    "replay_conversation",
    "run_agents",
    "summary_text",
]

_T = TypeVar("_T")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_SUMMARY_WORDS = 12


@attrs.frozen(kw_only=True)
class WorkloadConfig:
    """How agents replay conversations.

    Attributes:
        agents: Concurrent agents (trio tasks), >= 1.
        agent_id: The agent id written on sessions and memories.
        history_runs: Runs of history read before each turn, >= 1.
        search_limit: Memories fetched per search, >= 1.
        memory_every: Upsert a memory at turn indexes 0, k, 2k, ... (k >= 1).
        working_ttl: TTL of the working memory, seconds (finite, > 0).
        topics_per_memory: Keywords kept as a memory's topics, >= 0.
        pipeline: Send each turn's reads, and its writes, as one batch each when the
            target is a :class:`bench.PipelinedTarget`; else one call per operation.
    """

    agents: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    agent_id: str = "chitchat-agent"
    history_runs: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    search_limit: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    memory_every: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    working_ttl: float = attrs.field(default=5.0, validator=attrs.validators.gt(0.0))
    topics_per_memory: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    pipeline: bool = True


@attrs.define(eq=False)
class WorkloadTally:
    """Running totals, updated by the agents as they go (read them for progress).

    Attributes:
        conversations: Conversations fully replayed.
        turns: Turns replayed.
        history_messages: Messages returned by all ``read_history`` calls.
        memory_hits: Memories returned by all ``search_memories`` calls.
    """

    conversations: int = 0
    turns: int = 0
    history_messages: int = 0
    memory_hits: int = 0


def keywords(text: str, n: int) -> tuple[str, ...]:
    """The ``n`` longest distinct words of ``text``, lower-cased (ties: first seen first).

    Words are runs of letters (apostrophes inside a word are kept); O(w log w) for w words.
    """
    if n <= 0:
        return ()
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        seen.setdefault(match.group().lower(), None)
    return tuple(sorted(seen, key=len, reverse=True)[:n])


def summary_text(conversation: Conversation) -> str:
    """A session summary: the prompt (if any) and the first words of the conversation."""
    first = " ".join(conversation.turns[0].text.split()[:_SUMMARY_WORDS])
    if conversation.prompt:
        return f"{conversation.prompt} | {first}" if first else conversation.prompt
    return first or conversation.conversation_id


async def _timed(recorder: LatencyRecorder, ops: str | tuple[str, ...], call: Awaitable[_T]) -> _T:
    """Await ``call``; record its wall time under ``ops`` (each operation of a batch gets
    the batch's latency: its result is available when the batch's is)."""
    start = perf_counter()
    result = await call
    elapsed = perf_counter() - start
    for op in (ops,) if isinstance(ops, str) else ops:
        recorder.record(op, elapsed)
    return result


async def create_session(
    target: Target, conversation: Conversation, config: WorkloadConfig
) -> None:
    """Create the conversation's session on ``target``, owned by its first sender."""
    metadata = {"dataset": "chitchat"}
    if conversation.start is not None:
        metadata["start"] = conversation.start
    await target.create_session(
        session_id=conversation.conversation_id,
        user_id=conversation.owner,
        agent_id=config.agent_id,
        name=conversation.prompt,
        metadata=metadata,
    )


async def replay_conversation(
    target: Target,
    conversation: Conversation,
    config: WorkloadConfig,
    recorder: LatencyRecorder,
    tally: WorkloadTally,
) -> None:
    """Replay one conversation against ``target`` as one agent (sequential calls).

    Args:
        target: The store under test.
        conversation: The conversation; its id is the session id, its first sender the
            owner.
        config: The workload's settings.
        recorder: Receives one latency per call.
        tally: Updated after every turn.

    Raises:
        Exception: whatever the target raises; the replay stops there.
    """
    await _timed(recorder, "create_session", create_session(target, conversation, config))
    # Once per conversation: a runtime protocol check costs microseconds.
    pipelined = target if config.pipeline and isinstance(target, PipelinedTarget) else None
    for plan in plan_turns(conversation, config):
        await play_turn(target, config, recorder, tally, plan, pipelined=pipelined)
    summary = summary_text(conversation)
    await _timed(
        recorder,
        "set_summary",
        target.set_summary(
            session_id=conversation.conversation_id,
            user_id=conversation.owner,
            summary=summary,
            topics=keywords(conversation.prompt or summary, config.topics_per_memory),
        ),
    )
    tally.conversations += 1


@attrs.frozen
class TurnPlan:
    """What one turn reads and writes, derived from the corpus (see the module docstring).

    Attributes:
        session_id: The conversation's session.
        owner: The session's owner (scopes reads and writes).
        text: The turn's text (the search query and the working memory).
        run_id: The run's id, ``f"{session_id}:{index}"``.
        messages: ``(role, content, name)`` per utterance.
        memory: The memory this turn upserts, or ``None``.
    """

    session_id: str
    owner: str
    text: str
    run_id: str
    messages: tuple[tuple[str, str, str], ...]
    memory: MemoryWrite | None

    def operations(self) -> tuple[str, ...]:
        """The operations of this turn, in the order an agent performs them."""
        return TURN_OPERATIONS if self.memory is None else (*TURN_OPERATIONS, "upsert_memory")


#: The operations of every turn; a turn with a memory adds ``upsert_memory``.
TURN_OPERATIONS: Final = ("read_history", "search_memories", "append_run", "store_working")


def plan_turns(conversation: Conversation, config: WorkloadConfig) -> Iterator[TurnPlan]:
    """The plans of ``conversation``'s turns, in order (pure: O(words) per turn)."""
    session_id = conversation.conversation_id
    owner = conversation.owner
    for index, turn in enumerate(conversation.turns):
        text = turn.text
        role = "user" if turn.sender == owner else "assistant"
        run_id = f"{session_id}:{index}"
        memory = None
        if index % config.memory_every == 0 and text.strip():
            memory = MemoryWrite(
                memory_id=run_id,
                user_id=turn.sender,
                memory=text,
                topics=keywords(text, config.topics_per_memory),
                agent_id=config.agent_id,
            )
        messages = tuple((role, content, turn.sender) for content in turn.texts)
        yield TurnPlan(session_id, owner, text, run_id, messages, memory)


async def play_turn(
    target: Target,
    config: WorkloadConfig,
    recorder: LatencyRecorder,
    tally: WorkloadTally,
    plan: TurnPlan,
    *,
    pipelined: PipelinedTarget | None,
) -> None:
    """One turn: two batches on ``pipelined`` (the same target, when it pipelines), else
    one awaited call per operation; each call's latency goes to ``recorder``."""
    if pipelined is not None:
        await _pipelined_turn(pipelined, config, recorder, tally, plan)
    else:
        for op in plan.operations():
            await _timed(recorder, op, play_operation(target, config, tally, plan, op))
    tally.turns += 1


async def play_operation(
    target: Target, config: WorkloadConfig, tally: WorkloadTally, plan: TurnPlan, op: str
) -> None:
    """Perform one operation ``op`` of the turn ``plan`` (a name of
    :meth:`TurnPlan.operations`) on ``target`` and add what it read to ``tally``.

    Raises:
        ValueError: if ``op`` is not an operation of the turn.
        Exception: whatever the target raises.
    """
    # Await first, then add: ``tally.x += await ...`` would read ``tally.x`` before
    # the await and lose the other agents' updates made meanwhile.
    if op == "read_history":
        read = await target.read_history(
            session_id=plan.session_id, user_id=plan.owner, last_n_runs=config.history_runs
        )
        tally.history_messages += read
    elif op == "search_memories":
        found = await target.search_memories(
            user_id=plan.owner, query=plan.text, limit=config.search_limit
        )
        tally.memory_hits += found
    elif op == "append_run":
        await target.append_run(
            session_id=plan.session_id,
            user_id=plan.owner,
            run_id=plan.run_id,
            messages=plan.messages,
        )
    elif op == "store_working":
        await target.store_working(
            session_id=plan.session_id, data=plan.text, ttl=config.working_ttl
        )
    elif op == "upsert_memory" and plan.memory is not None:
        memory = plan.memory
        await target.upsert_memory(
            memory_id=memory.memory_id,
            user_id=memory.user_id,
            memory=memory.memory,
            topics=memory.topics,
            agent_id=memory.agent_id,
        )
    else:
        raise ValueError(f"expected one of {plan.operations()}, got operation {op!r}")


async def _pipelined_turn(
    target: PipelinedTarget,
    config: WorkloadConfig,
    recorder: LatencyRecorder,
    tally: WorkloadTally,
    turn: TurnPlan,
) -> None:
    """One turn as two batches: the reads, then the writes."""
    read, found = await _timed(
        recorder,
        PIPELINE_BATCHES["read_turn"],
        target.read_turn(
            session_id=turn.session_id,
            user_id=turn.owner,
            last_n_runs=config.history_runs,
            query=turn.text,
            limit=config.search_limit,
        ),
    )
    tally.history_messages += read
    tally.memory_hits += found
    await _timed(
        recorder,
        turn.operations()[2:],
        target.write_turn(
            session_id=turn.session_id,
            user_id=turn.owner,
            run_id=turn.run_id,
            messages=turn.messages,
            working=turn.text,
            working_ttl=config.working_ttl,
            memory=turn.memory,
        ),
    )


async def run_agents(
    target: Target,
    conversations: Iterable[Conversation],
    config: WorkloadConfig,
    recorder: LatencyRecorder,
    tally: WorkloadTally,
) -> None:
    """Replay ``conversations`` with ``config.agents`` concurrent agents.

    Agents are tasks in one nursery; each takes the next conversation from a shared
    iterator (safe: trio runs one task at a time and taking one never awaits) and replays
    it, until none is left. Returns when all are replayed.

    Raises:
        Exception: the first error of any agent (the other agents are cancelled); in a
            trio ``ExceptionGroup`` if several failed together.
    """
    queue: Iterator[Conversation] = iter(conversations)

    async def agent() -> None:
        for conversation in queue:
            await replay_conversation(target, conversation, config, recorder, tally)

    async with trio.open_nursery() as nursery:
        for _ in range(config.agents):
            nursery.start_soon(agent)
