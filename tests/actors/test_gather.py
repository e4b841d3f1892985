"""Scatter-gather: one request per actor, every reply in request order, first error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
import trio
import trio.testing
from trio.testing import wait_all_tasks_blocked

from actors import ActorClosed, ActorRef, gather, open_actor
from tests.actors._behaviours import KV, Boom


@asynccontextmanager
async def open_actors(behaviours: list[KV]) -> AsyncIterator[list[ActorRef]]:
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_actor(b)) for b in behaviours]


async def test_gather_returns_every_result_in_request_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    shards = [KV(data={"k": f"shard {i}"}) for i in range(3)]
    async with open_actors(shards) as refs:
        requests = ((ref, ("get", "k")) for ref in reversed(refs))  # any iterable
        assert await gather(requests) == ["shard 2", "shard 1", "shard 0"]
        assert [ref.statistics().requests for ref in refs] == [1, 1, 1]


async def test_gather_of_nothing_is_an_empty_list(
    autojump_clock: trio.testing.MockClock,
) -> None:
    assert await gather([]) == []


async def test_gather_queues_every_request_before_awaiting_a_reply(
    autojump_clock: trio.testing.MockClock,
) -> None:
    kv = KV()
    async with open_actor(kv) as ref:
        await wait_all_tasks_blocked()
        results = await gather([(ref, ("incr", "n")), (ref, ("echo", "x")), (ref, ("incr", "n"))])
        stats = ref.statistics()
    assert results == [1, "x", 2]
    # all three were queued before the owner ran: it served them in one batch
    assert (stats.batches, stats.max_batch) == (1, 3)


async def test_gather_raises_the_first_error_in_request_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    shards = [KV(), KV(), KV()]
    async with open_actors(shards) as refs:
        requests = [
            (refs[0], ("set", "a", 1)),
            (refs[1], ("raise", KeyError("first"))),
            (refs[2], ("raise", Boom("second"))),
        ]
        with pytest.raises(KeyError, match="first"):
            await gather(requests)
        # every request was sent, and the actors keep serving
        assert await gather([(ref, ("echo", i)) for i, ref in enumerate(refs)]) == [0, 1, 2]
        assert [ref.statistics().errors for ref in refs] == [0, 1, 1]
    assert shards[0].data == {"a": 1}


async def test_gather_to_a_closed_actor_raises_actor_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_actors([KV(), KV()]) as refs:
        refs[1].close()
        with pytest.raises(ActorClosed):
            await gather([(refs[0], ("echo", 1)), (refs[1], ("echo", 2))])
        assert await refs[0].ask(("echo", 3)) == 3


async def test_gather_is_one_checkpoint_and_parks_at_most_once_per_pending_reply(
    autojump_clock: trio.testing.MockClock,
) -> None:
    shards = [KV(data={"k": i}) for i in range(3)]
    async with open_actors(shards) as refs:
        with trio.testing.assert_checkpoints():
            assert await gather([(ref, ("get", "k")) for ref in refs]) == [0, 1, 2]
        # Cancelled before it starts: nothing is sent (the sends check for cancellation).
        with trio.CancelScope() as scope:
            scope.cancel()
            await gather([(ref, ("set", "k", "x")) for ref in refs])
        assert scope.cancelled_caught
        assert [shard.data["k"] for shard in shards] == [0, 1, 2]
