"""The actor's owner loop and client handle: serving, ordering, batching, handler errors,
the bounded mailbox, argument checks and handle hygiene.

Lifecycle (close, cancellation, loop bugs) is in ``test_actor_lifecycle.py``, timers in
``test_actor_timers.py``, a property test against a dict model in ``test_actor_model.py``.
"""

from __future__ import annotations

import gc
import warnings

import pytest
import trio
import trio.testing
from trio.testing import wait_all_tasks_blocked

from actors import Actor, ActorRef, open_actor, start_actor
from tests.actors._behaviours import KV, Boom

# --- serving -----------------------------------------------------------------------------


async def test_ask_returns_the_handlers_result(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv) as ref:
        assert await ref.ask(("get", "a")) is None
        assert await ref.ask(("set", "a", 41)) == 41
        assert await ref.ask(("get", "a")) == 41
        assert await ref.ask(("incr", "n")) == 1
        assert await ref.ask(("incr", "n")) == 2
        assert await ref.ask(("delete", "a")) is True
        assert await ref.ask(("delete", "a")) is False
        assert ref.statistics().requests == 7
    assert kv.data == {"n": 2}


async def test_start_actor_runs_the_owner_in_the_given_nursery(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio.open_nursery() as nursery:
        ref = await start_actor(nursery, kv, mailbox_size=8, timer_batch=3)
        assert isinstance(ref, ActorRef)
        assert ref.statistics().mailbox_capacity == 8
        assert await ref.ask(("echo", "hi")) == "hi"
        ref.close()
    # the nursery exited: the owner task ended after the close
    assert kv.log == [("echo", "hi")]


async def test_one_tasks_requests_are_served_in_the_order_it_sent_them(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async def client(ref: ActorRef, name: str) -> None:
        # pipeline: queue every request first, then collect the replies
        replies = [await ref.send(("echo", (name, i))) for i in range(20)]
        assert [await r.wait() for r in replies] == [(name, i) for i in range(20)]

    async with open_actor(kv, mailbox_size=4) as ref, trio.open_nursery() as nursery:
        for name in "abcdefgh":
            nursery.start_soon(client, ref, name)
    served = [message[1] for message in kv.log if isinstance(message, tuple)]
    for name in "abcdefgh":
        assert [i for who, i in served if who == name] == list(range(20))
    assert len(kv.log) == 8 * 20


async def test_a_thousand_concurrent_clients_each_get_their_own_answer(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    echoed: dict[int, object] = {}
    counts: list[int] = []

    async def client(ref: ActorRef, i: int) -> None:
        echoed[i] = await ref.ask(("echo", i))
        counts.append(await ref.ask(("incr", "n")))

    async with open_actor(kv) as ref:
        async with trio.open_nursery() as nursery:
            for i in range(1000):
                nursery.start_soon(client, ref, i)
        assert await ref.ask(("get", "n")) == 1000
        stats = ref.statistics()
    assert echoed == {i: i for i in range(1000)}
    assert sorted(counts) == list(range(1, 1001))  # every increment seen exactly once
    assert stats.requests == 2001
    assert stats.errors == 0
    # concurrent clients were served in batches, not one wake-up per request
    assert stats.max_batch > 1
    assert stats.batches < stats.requests


# --- batching ----------------------------------------------------------------------------


async def test_requests_queued_while_the_owner_waits_are_drained_in_one_batch(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv) as ref:
        await wait_all_tasks_blocked()  # the owner is parked on its mailbox
        # send_nowait never yields: the owner cannot run until we wait below
        replies = [ref.send_nowait(("echo", i)) for i in range(10)]
        before = ref.statistics()
        assert before.requests == 0
        assert before.mailbox_depth >= 9
        assert [await r.wait() for r in replies] == list(range(10))
        after = ref.statistics()
        assert (after.requests, after.batches, after.max_batch) == (10, 1, 10)
        assert after.mailbox_peak == 10
        assert after.mailbox_depth == 0

        await wait_all_tasks_blocked()
        replies = [ref.send_nowait(("echo", i)) for i in range(3)]
        assert [await r.wait() for r in replies] == [0, 1, 2]
        later = ref.statistics()
        assert (later.requests, later.batches, later.max_batch) == (13, 2, 10)
        assert later.mailbox_peak == 10


async def test_requests_queued_before_the_owner_starts_make_one_batch(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv, mailbox_size=8)
    ref = actor.ref
    replies = [ref.send_nowait(("incr", "n")) for _ in range(5)]
    assert ref.statistics().mailbox_depth == 5
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.serve)
        assert [await r.wait() for r in replies] == [1, 2, 3, 4, 5]
        ref.close()
    stats = ref.statistics()
    assert (stats.requests, stats.batches, stats.max_batch, stats.mailbox_peak) == (5, 1, 5, 5)


# --- handler errors ----------------------------------------------------------------------


async def test_a_handler_error_is_raised_in_the_callers_task_and_the_actor_keeps_serving(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv) as ref:
        error = Boom("the handler failed on purpose")
        with pytest.raises(Boom, match="the handler failed on purpose") as excinfo:
            await ref.ask(("raise", error))
        assert excinfo.value is error
        with pytest.raises(ValueError, match="unknown message: 'nonsense'"):
            await ref.ask("nonsense")
        assert await ref.ask(("set", "a", 1)) == 1
        assert await ref.ask(("get", "a")) == 1
        stats = ref.statistics()
    assert stats.errors == 2
    assert stats.requests == 4


async def test_an_error_goes_only_to_its_caller_within_a_batch(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv) as ref:
        await wait_all_tasks_blocked()
        first = ref.send_nowait(("incr", "n"))
        failing = ref.send_nowait(("raise", KeyError("only mine")))
        last = ref.send_nowait(("incr", "n"))
        assert await first.wait() == 1
        with pytest.raises(KeyError, match="only mine"):
            await failing.wait()
        assert await last.wait() == 2
        stats = ref.statistics()
    assert (stats.batches, stats.max_batch, stats.errors) == (1, 3, 1)


async def test_errors_are_delivered_to_concurrent_callers_tasks(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    outcomes: dict[int, object] = {}

    async def client(ref: ActorRef, i: int) -> None:
        try:
            outcomes[i] = await ref.ask(
                ("raise", Boom(f"client {i}")) if i % 3 == 0 else ("echo", i)
            )
        except Boom as exc:
            outcomes[i] = exc

    async with open_actor(kv) as ref:
        async with trio.open_nursery() as nursery:
            for i in range(30):
                nursery.start_soon(client, ref, i)
        stats = ref.statistics()
    for i in range(30):
        if i % 3 == 0:
            assert isinstance(outcomes[i], Boom)
            assert str(outcomes[i]) == f"client {i}"
        else:
            assert outcomes[i] == i
    assert stats.errors == 10


# --- bounded mailbox ---------------------------------------------------------------------


async def test_send_nowait_raises_would_block_when_the_mailbox_is_full(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv, mailbox_size=2)
    ref = actor.ref
    first = ref.send_nowait(("echo", 1))
    second = ref.send_nowait(("echo", 2))
    with pytest.raises(trio.WouldBlock):
        ref.send_nowait(("echo", 3))
    assert ref.statistics().mailbox_depth == 2
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.serve)
        assert [await first.wait(), await second.wait()] == [1, 2]
        assert await ref.ask(("echo", 4)) == 4
        ref.close()
    assert kv.log == [("echo", 1), ("echo", 2), ("echo", 4)]  # the refused one never ran


async def test_senders_wait_for_mailbox_space(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv, mailbox_size=2)
    ref = actor.ref
    queued = [ref.send_nowait(("echo", i)) for i in range(2)]
    results: dict[int, object] = {}

    async def late(i: int) -> None:
        results[i] = await ref.ask(("echo", i))

    async with trio.open_nursery() as nursery:
        for i in (2, 3, 4):
            nursery.start_soon(late, i)
        await wait_all_tasks_blocked()
        stats = ref.statistics()
        assert results == {}  # backpressure: every late sender is still waiting
        assert stats.mailbox_depth == 2
        assert stats.requests == 0
        await nursery.start(actor.serve)
        assert [await r.wait() for r in queued] == [0, 1]
        await wait_all_tasks_blocked()
        ref.close()
    assert results == {2: 2, 3: 3, 4: 4}
    # the waiting senders were handed to the owner in the same wake-up
    assert ref.statistics().requests == 5
    assert ref.statistics().max_batch == 5


async def test_many_clients_through_a_tiny_mailbox_all_get_answers(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv, mailbox_size=2) as ref:
        async with trio.open_nursery() as nursery:
            for _ in range(200):
                nursery.start_soon(ref.ask, ("incr", "n"))
        assert await ref.ask(("get", "n")) == 200
        assert ref.statistics().mailbox_capacity == 2


@pytest.mark.parametrize("field", ["mailbox_size", "timer_batch"])
@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "8", None])
def test_sizes_must_be_positive_ints(kv: KV, field: str, bad: object) -> None:
    with pytest.raises(ValueError, match=f"{field}: expected a positive int, got "):
        Actor(kv, **{field: bad})  # type: ignore[arg-type]


# --- handle hygiene ----------------------------------------------------------------------


def test_an_unclosed_ref_warns_when_collected(kv: KV) -> None:
    actor = Actor(kv)
    with pytest.warns(ResourceWarning, match="unclosed ActorRef"):
        del actor
        gc.collect()


def test_a_closed_ref_does_not_warn(kv: KV) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        actor = Actor(kv)
        actor.ref.close()
        del actor
        gc.collect()
    assert not [w for w in caught if "ActorRef" in str(w.message)]


async def test_a_ref_from_open_actor_is_closed_and_does_not_warn(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with open_actor(KV()) as ref:
            await ref.ask(("echo", 1))
        assert ref.closed
        del ref
        gc.collect()
    assert not [w for w in caught if "ActorRef" in str(w.message)]
