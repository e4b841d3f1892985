"""``ActorRef.statistics()``: a frozen attrs snapshot of the mailbox and the counters."""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

from actors import Actor, ActorStatistics, open_actor
from tests.actors._behaviours import KV


def test_a_fresh_actor_reports_zeros() -> None:
    actor = Actor(KV(), mailbox_size=16)
    try:
        assert actor.ref.statistics() == ActorStatistics(
            mailbox_capacity=16,
            mailbox_depth=0,
            mailbox_peak=0,
            requests=0,
            batches=0,
            max_batch=0,
            errors=0,
            dropped_replies=0,
            timers_fired=0,
            timer_batches=0,
            commits=0,
            commit_failures=0,
            closed=False,
        )
    finally:
        actor.ref.close()
    assert actor.ref.statistics().closed


def test_statistics_are_frozen() -> None:
    actor = Actor(KV())
    stats = actor.ref.statistics()
    actor.ref.close()
    assert attrs.has(ActorStatistics)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stats.requests = 5  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del stats.closed
    assert stats.requests == 0


def test_statistics_take_keywords_only() -> None:
    with pytest.raises(TypeError):
        ActorStatistics(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, False)  # type: ignore[call-arg]


async def test_a_snapshot_does_not_change_afterwards(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_actor(KV()) as ref:
        before = ref.statistics()
        await ref.ask(("echo", 1))
        after = ref.statistics()
    assert before.requests == 0
    assert after.requests == 1
    assert attrs.evolve(before, requests=1, batches=1, max_batch=1, mailbox_peak=1) == after
