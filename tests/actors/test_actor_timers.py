"""The owner loop's timers: ``next_deadline`` wakes the owner, ``fire_timers`` runs in
bounded batches with a checkpoint between them. Time is the autojump mock clock only.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from trio.testing import wait_all_tasks_blocked

from actors import Actor, open_actor
from tests.actors._behaviours import KV


async def test_the_owner_wakes_at_the_deadline_without_any_request(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    kv.data["session"] = "alive"
    kv.add_timer(t0 + 5.0, "session")
    async with open_actor(kv) as ref:
        await trio.sleep_until(t0 + 4.5)
        assert kv.fired == []
        assert ref.statistics().timers_fired == 0
        await trio.sleep_until(t0 + 10.0)
        stats = ref.statistics()
        assert [key for _, key in kv.fired] == ["session"]
        assert kv.fired[0][0] == pytest.approx(t0 + 5.0)  # woken exactly at the deadline
        assert kv.data == {}
        assert (stats.timers_fired, stats.timer_batches) == (1, 1)
        assert stats.requests == 0  # nothing but the deadline woke the owner
        assert await ref.ask(("get", "session")) is None


async def test_timers_fire_in_deadline_order_each_at_its_time(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    async with open_actor(kv) as ref:
        for key, delay in [("c", 3.0), ("a", 1.0), ("b", 2.0)]:
            await ref.ask(("set", key, 0))
            await ref.ask(("expire_at", key, t0 + delay))
        await trio.sleep(10)
        stats = ref.statistics()
    assert [key for _, key in kv.fired] == ["a", "b", "c"]
    assert [now - t0 for now, _ in kv.fired] == pytest.approx([1.0, 2.0, 3.0])
    assert (stats.timers_fired, stats.timer_batches) == (3, 3)
    assert kv.data == {}


async def test_an_earlier_timer_added_while_waiting_moves_the_wakeup(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    async with open_actor(kv) as ref:
        await ref.ask(("expire_at", "late", t0 + 100.0))
        await wait_all_tasks_blocked()  # the owner now waits until t0 + 100
        await ref.ask(("expire_at", "soon", t0 + 2.0))
        await trio.sleep_until(t0 + 50.0)
        assert [key for _, key in kv.fired] == ["soon"]
        assert kv.fired[0][0] == pytest.approx(t0 + 2.0)
        await trio.sleep_until(t0 + 200.0)
        assert [key for _, key in kv.fired] == ["soon", "late"]


async def test_a_due_timer_fires_while_clients_keep_the_owner_busy(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    seen: list[object] = []
    async with open_actor(kv) as ref:
        await ref.ask(("expire_at", "k", t0 + 5.0))
        for i in range(20):
            if i == 5:
                # the clock moves while a client is always runnable, so it never idles
                autojump_clock.jump(10.0)
            seen.append(await ref.ask(("fired",)))
    assert seen[:6] == [0] * 6
    assert seen[-1] == 1
    assert seen.index(1) <= 7  # fired right after the next batch, not when idle
    assert [key for _, key in kv.fired] == ["k"]
    assert kv.fired[0][0] == pytest.approx(t0 + 10.0)


async def test_a_mass_expiry_fires_in_bounded_batches(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    for i in range(1000):
        kv.add_timer(t0 + 1.0 + (i % 7) * 1e-3, i)
    async with open_actor(kv, timer_batch=10) as ref:
        await trio.sleep(5)
        stats = ref.statistics()
    assert kv.pending_timers == 0
    assert sorted(key for _, key in kv.fired) == list(range(1000))  # type: ignore[type-var]
    assert stats.timers_fired == 1000
    assert all(call.limit == 10 and call.ran <= 10 for call in kv.fire_calls)
    assert sum(call.ran for call in kv.fire_calls) == 1000
    assert stats.timer_batches == len(kv.fire_calls)
    assert stats.timer_batches >= 100


async def test_a_request_is_served_between_timer_batches(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    for i in range(1000):
        kv.add_timer(t0 + 1.0, i)
    started_firing = trio.Event()
    kv.on_fire = started_firing.set
    probe: list[object] = []

    async def client() -> None:
        await started_firing.wait()  # woken inside the first timer batch
        probe.append(await ref.ask(("fired",)))

    async with open_actor(kv, timer_batch=10) as ref, trio.open_nursery() as nursery:
        nursery.start_soon(client)
        await trio.sleep(5)
    assert len(kv.fired) == 1000
    # served after the first (or, by scheduling order, the second) batch of ten,
    # long before the mass expiry was over
    assert probe in ([10], [20])
    stats = ref.statistics()
    assert (stats.timers_fired, stats.timer_batches) == (1000, 100)
    assert stats.requests == 1


async def test_due_timers_are_checked_after_every_batch_of_requests(
    kv: KV, autojump_clock: trio.testing.MockClock
) -> None:
    t0 = trio.current_time()
    actor = Actor(kv, timer_batch=4)
    ref = actor.ref
    for i in range(6):
        kv.add_timer(t0, i)  # already due when the owner starts
    replies = [ref.send_nowait(("fired",)) for _ in range(3)]
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.serve)
        # the queued batch comes first, then the due timers, four at a time
        assert [await r.wait() for r in replies] == [0, 0, 0]
        await wait_all_tasks_blocked()
        assert [call.ran for call in kv.fire_calls] == [4, 2]
        ref.close()
    assert ref.statistics().timer_batches == 2
