"""The actor's lifecycle: graceful close, client cancellation, the owner stopping, and
bugs in the owner loop itself (which must propagate, never be swallowed).
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from trio.testing import wait_all_tasks_blocked

from actors import Actor, ActorClosed, ActorRef, open_actor, start_actor
from tests.actors._behaviours import KV, Boom, BrokenDeadline, BrokenTimers, LoopBug


async def serve_tracked(
    actor: Actor,
    ended: trio.Event,
    *,
    task_status: trio.TaskStatus[ActorRef] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``actor``'s owner loop; set ``ended`` when it returns or raises."""
    try:
        await actor.serve(task_status=task_status)
    finally:
        ended.set()


# --- graceful close ----------------------------------------------------------------------


async def test_close_serves_what_was_queued_then_ends_the_owner(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv)
    ref = actor.ref
    ended = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_tracked, actor, ended)
        await wait_all_tasks_blocked()
        replies = [ref.send_nowait(("incr", "n")) for _ in range(5)]
        ref.close()
        assert ref.closed
        assert ref.statistics().closed
        with pytest.raises(ActorClosed):
            await ref.ask(("incr", "n"))
        with pytest.raises(ActorClosed):
            ref.send_nowait(("incr", "n"))
        assert [await r.wait() for r in replies] == [1, 2, 3, 4, 5]
        with trio.fail_after(60):
            await ended.wait()
    assert kv.data == {"n": 5}
    assert ref.statistics().requests == 5


async def test_close_is_idempotent(kv: KV, autojump_clock: trio.testing.MockClock) -> None:
    async with open_actor(kv) as ref:
        ref.close()
        ref.close()
        assert ref.closed
        with pytest.raises(ActorClosed, match="mailbox is closed"):
            await ref.send(("echo", 1))
    assert ref.closed


async def test_close_wakes_senders_waiting_for_space_with_actor_closed(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv, mailbox_size=1)
    ref = actor.ref
    queued = ref.send_nowait(("incr", "n"))
    raised: list[BaseException] = []

    async def blocked_sender() -> None:
        try:
            await ref.ask(("incr", "n"))
        except ActorClosed as exc:
            raised.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(blocked_sender)
        await wait_all_tasks_blocked()
        ref.close()
        await wait_all_tasks_blocked()
        assert len(raised) == 1
        # what was queued before the close is still served, even by a late owner
        await nursery.start(actor.serve)
        assert await queued.wait() == 1
    assert kv.data == {"n": 1}


async def test_open_actor_exit_waits_for_queued_work(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv, mailbox_size=64) as ref:
        await wait_all_tasks_blocked()
        replies = [ref.send_nowait(("incr", "n")) for _ in range(20)]
        assert not any(r.resolved for r in replies)
    assert ref.closed
    assert all(r.resolved for r in replies)
    assert [await r.wait() for r in replies] == list(range(1, 21))
    assert kv.data == {"n": 20}


async def test_an_error_in_the_open_actor_body_propagates_unwrapped(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    with pytest.raises(KeyError, match="from the body"):
        async with open_actor(kv) as ref:
            await ref.ask(("echo", 1))
            raise KeyError("from the body")
    assert ref.closed


async def test_ask_after_the_owner_stopped_raises_actor_closed(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv)
    ref = actor.ref
    with trio.CancelScope() as owner_scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(actor.serve)
            assert await ref.ask(("echo", 1)) == 1
            owner_scope.cancel()
    assert ref.closed and ref.statistics().closed  # the owner is gone: the mailbox too
    with pytest.raises(ActorClosed):
        await ref.ask(("echo", 2))
    with pytest.raises(ActorClosed):
        ref.send_nowait(("echo", 3))
    assert kv.log == [("echo", 1)]


# --- cancellation ------------------------------------------------------------------------


async def test_a_client_cancelled_before_queueing_is_never_applied(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    async with open_actor(kv) as ref:
        with trio.CancelScope() as scope:
            scope.cancel()
            await ref.ask(("incr", "n"))
        assert scope.cancelled_caught
        assert await ref.ask(("get", "n")) is None
        assert ref.statistics().requests == 1
    assert kv.log == [("get", "n")]


async def test_a_client_cancelled_while_waiting_for_space_is_never_applied(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv, mailbox_size=1)
    ref = actor.ref
    queued = ref.send_nowait(("incr", "n"))
    scope = trio.CancelScope()

    async def impatient() -> None:
        with scope:
            await ref.ask(("incr", "n"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(impatient)
        await wait_all_tasks_blocked()
        scope.cancel()
        await wait_all_tasks_blocked()
        assert scope.cancelled_caught
        await nursery.start(actor.serve)
        assert await queued.wait() == 1
        assert await ref.ask(("get", "n")) == 1
        ref.close()
    assert ref.statistics().dropped_replies == 0


async def test_a_client_cancelled_after_queueing_may_be_applied_and_its_reply_is_dropped(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv)
    ref = actor.ref
    scope = trio.CancelScope()

    async def impatient() -> None:
        with scope:
            await ref.ask(("incr", "n"))

    other = ref.send_nowait(("echo", "before"))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(impatient)
        await wait_all_tasks_blocked()
        assert ref.statistics().mailbox_depth == 2  # queued, and waiting on its reply
        scope.cancel()
        await wait_all_tasks_blocked()
        assert scope.cancelled_caught
        after = ref.send_nowait(("echo", "after"))
        await nursery.start(actor.serve)
        # the others in the same batch are served as usual
        assert await other.wait() == "before"
        assert await after.wait() == "after"
        assert await ref.ask(("get", "n")) == 1  # it was applied anyway
        stats = ref.statistics()
        ref.close()
    assert stats.dropped_replies == 1
    assert stats.errors == 0
    assert stats.requests == 4


async def test_dropped_replies_count_errors_for_departed_clients_too(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv)
    ref = actor.ref
    scope = trio.CancelScope()

    async def impatient() -> None:
        with scope:
            await ref.ask(("raise", Boom("nobody listens")))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(impatient)
        await wait_all_tasks_blocked()
        scope.cancel()
        await nursery.start(actor.serve)
        assert await ref.ask(("echo", 1)) == 1
        stats = ref.statistics()
        ref.close()
    assert (stats.errors, stats.dropped_replies) == (1, 1)


# --- bugs in the loop itself -------------------------------------------------------------


async def test_a_bug_in_fire_timers_propagates_out_of_the_nursery(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = BrokenTimers()
    behaviour.add_timer(trio.current_time() + 1.0, "k")
    ref: ActorRef | None = None
    with pytest.RaisesGroup(pytest.RaisesExc(LoopBug, match="the timer wheel broke")):
        async with trio.open_nursery() as nursery:
            ref = await start_actor(nursery, behaviour)
            await trio.sleep_forever()  # cancelled by the owner's crash
    assert ref is not None
    ref.close()
    assert trio.current_time() == pytest.approx(1.0)


async def test_a_bug_in_next_deadline_propagates_out_of_open_actor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = BrokenDeadline()
    # open_actor may hand a lone crash over unwrapped; either way it is not swallowed
    crash = pytest.RaisesExc(LoopBug, match="next_deadline broke")
    with pytest.RaisesGroup(crash, allow_unwrapped=True):
        async with open_actor(behaviour) as ref:
            await ref.ask(("echo", 1))
            await trio.sleep_forever()
    assert behaviour.log == [("echo", 1)]


# --- regressions of bugs found by these tests --------------------------------------------


async def test_requests_queued_when_the_owner_is_cancelled_get_actor_closed(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv)
    ref = actor.ref
    owner_scope = trio.CancelScope()

    async def run_owner(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with owner_scope:
            task_status.started()
            await actor.serve()

    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(run_owner)
            await wait_all_tasks_blocked()  # the owner is parked on its mailbox
            owner_scope.cancel()  # the owner stops ...
            queued = ref.send_nowait(("incr", "n"))  # ... with this request queued
        assert kv.log == []
        with trio.fail_after(10), pytest.raises(ActorClosed):
            await queued.wait()
    finally:
        ref.close()


async def test_the_rest_of_a_batch_gets_actor_closed_when_a_handler_kills_the_owner(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    class Fatal(BaseException):
        pass

    actor = Actor(kv)
    ref = actor.ref
    fatal = ref.send_nowait(("raise", Fatal("the handler killed the owner")))
    behind = ref.send_nowait(("echo", "behind"))
    try:
        with pytest.RaisesGroup(Fatal):
            async with trio.open_nursery() as nursery:
                await nursery.start(actor.serve)
        assert ("echo", "behind") not in kv.log  # never served ...
        with trio.fail_after(10), pytest.raises(ActorClosed):
            await behind.wait()  # ... so its client must be told, not left waiting
        with trio.fail_after(10), pytest.raises(ActorClosed):
            await fatal.wait()
    finally:
        ref.close()


async def test_an_actor_cannot_be_served_twice(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(actor.serve)
            with pytest.raises(RuntimeError, match="already"):
                await nursery.start(actor.serve)
            actor.ref.close()
    finally:
        actor.ref.close()


class _Shut(RuntimeError):
    """A layer's own name for "closed" (as an engine's ``EngineClosed``)."""


async def test_closed_error_replaces_actor_closed_on_every_closed_path(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    actor = Actor(kv, mailbox_size=1, closed_error=_Shut)
    ref = actor.ref
    owner_scope = trio.CancelScope()
    raised: list[BaseException] = []

    async def blocked_sender() -> None:
        try:
            await ref.ask(("incr", "n"))
        except _Shut as exc:
            raised.append(exc)

    async def run_owner(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        with owner_scope:
            task_status.started()
            await actor.serve()

    async with trio.open_nursery() as nursery:
        await nursery.start(run_owner)
        await wait_all_tasks_blocked()
        owner_scope.cancel()  # the owner stops with a request queued ...
        queued = ref.send_nowait(("incr", "n"))
        nursery.start_soon(blocked_sender)  # ... and a sender waiting for space
    with pytest.raises(_Shut, match="stopped before serving"):
        await queued.wait()
    assert len(raised) == 1  # the waiting sender too (queued then failed, or refused)
    for send in (ref.ask, ref.send):
        with pytest.raises(_Shut, match="mailbox is closed"):
            await send(("echo", 1))
    with pytest.raises(_Shut, match="mailbox is closed"):
        ref.send_nowait(("echo", 1))
    assert kv.log == []
