"""The deck's requests against the real engine: a turn (pipelined or not) or an operation
per arrival, and a second lap over the corpus writes new runs and memories."""

from __future__ import annotations

import pytest

from bench._load._requests import LoadDeck, create_sessions
from bench._measure._latency import LatencyRecorder
from bench._replay._dataset import Conversation, Turn
from bench._replay._workload import WorkloadConfig
from bench._targets._engine import open_engine_target


def _conversation(name: str, turns: int) -> Conversation:
    return Conversation(
        conversation_id=name,
        prompt=None,
        start=None,
        turns=tuple(
            Turn(sender="alice" if t % 2 == 0 else "bob", texts=(f"{name} likes tea {t}",))
            for t in range(turns)
        ),
    )


@pytest.mark.parametrize("pipeline", [True, False])
async def test_two_laps_of_turns_write_every_run_twice_under_new_ids(pipeline: bool) -> None:
    conversations = [_conversation("a", 3), _conversation("b", 2)]
    config = WorkloadConfig(memory_every=2, pipeline=pipeline)
    deck = LoadDeck.deal(conversations, config, unit="turn")
    async with open_engine_target(shards=2) as target:
        await create_sessions(target, conversations, config)
        service = LatencyRecorder()
        request = deck.request(target, config, service)
        for index in range(2 * len(deck.turns)):
            assert await request(index) is None
        counts = target.counts()
    assert counts.sessions == 2
    assert counts.runs == 10  # 5 turns, twice
    assert counts.memories == 6  # turns a:0, a:2, b:0, twice
    assert deck.tally.turns == 10
    assert deck.tally.history_messages > 0
    assert service.count("read_history") == 10
    assert service.count("upsert_memory") == 6


async def test_operation_arrivals_are_labelled_with_their_operation() -> None:
    conversations = [_conversation("a", 2)]
    config = WorkloadConfig(memory_every=2)
    deck = LoadDeck.deal(conversations, config, unit="op")
    async with open_engine_target(shards=1) as target:
        await create_sessions(target, conversations, config)
        service = LatencyRecorder()
        request = deck.request(target, config, service)
        labels = [await request(index) for index in range(len(deck.operations) + 3)]
        counts = target.counts()
    assert labels == [op for _, op in deck.operations] + [op for _, op in deck.operations[:3]]
    assert counts.runs == 3  # two turns' runs, then a:0@1 from the second lap
    assert counts.memories == 1
    assert service.count("read_history") == 0  # an operation's time is the open loop's
