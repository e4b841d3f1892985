"""The one-shot reply: value or error, resolved once, awaited by one task, abandonable."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from trio.testing import wait_all_tasks_blocked

from actors import Reply
from tests.actors._behaviours import Boom


def resolve(reply: Reply[object], how: str) -> bool:
    if how == "value":
        return reply.set_value(1)
    return reply.set_error(Boom("boom"))


async def test_a_value_set_before_wait_is_returned(autojump_clock: trio.testing.MockClock) -> None:
    reply: Reply[int] = Reply()
    assert not reply.resolved
    assert reply.set_value(7) is True
    assert reply.resolved
    assert not reply.abandoned
    assert await reply.wait() == 7


async def test_a_parked_waiter_is_woken_by_the_resolution(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reply: Reply[str] = Reply()
    got: list[str] = []

    async def waiter() -> None:
        got.append(await reply.wait())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert got == []
        assert reply.set_value("hello") is True
    assert got == ["hello"]


@pytest.mark.parametrize("parked", [False, True])
async def test_an_error_is_raised_in_the_waiting_task(
    parked: bool, autojump_clock: trio.testing.MockClock
) -> None:
    reply: Reply[int] = Reply()
    error = Boom("from the owner")
    raised: list[BaseException] = []

    async def waiter() -> None:
        with pytest.raises(Boom, match="from the owner") as excinfo:
            await reply.wait()
        raised.append(excinfo.value)

    async with trio.open_nursery() as nursery:
        if not parked:
            assert reply.set_error(error) is True
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        if parked:
            assert reply.set_error(error) is True
    assert raised == [error]


@pytest.mark.parametrize("first", ["value", "error"])
@pytest.mark.parametrize("second", ["value", "error"])
def test_resolving_twice_raises(first: str, second: str) -> None:
    reply: Reply[object] = Reply()
    assert resolve(reply, first) is True
    with pytest.raises(RuntimeError, match="resolved only once"):
        resolve(reply, second)


async def test_a_cancelled_waiter_abandons_the_reply_and_resolution_is_dropped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reply: Reply[int] = Reply()
    scope = trio.CancelScope()

    async def waiter() -> None:
        with scope:
            await reply.wait()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        assert not reply.abandoned
        scope.cancel()
    assert scope.cancelled_caught
    assert reply.abandoned
    assert not reply.resolved
    assert reply.set_value(1) is False  # nobody will see it
    assert reply.resolved
    with pytest.raises(RuntimeError, match="resolved only once"):
        reply.set_error(Boom("late"))
    with pytest.raises(RuntimeError, match="only one task"):
        await reply.wait()


async def test_an_abandoned_reply_drops_an_error_too(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reply: Reply[int] = Reply()
    with trio.CancelScope() as scope:
        scope.cancel()
        await reply.wait()
    assert reply.abandoned
    assert reply.set_error(Boom("dropped")) is False


async def test_only_one_task_may_wait(autojump_clock: trio.testing.MockClock) -> None:
    reply: Reply[int] = Reply()
    got: list[int] = []

    async def waiter() -> None:
        got.append(await reply.wait())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await wait_all_tasks_blocked()
        with pytest.raises(RuntimeError, match="only one task"):
            await reply.wait()
        reply.set_value(3)
    assert got == [3]


async def test_wait_is_a_checkpoint_even_when_already_resolved(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reply: Reply[int] = Reply()
    reply.set_value(1)
    with trio.CancelScope() as scope:
        scope.cancel()
        await reply.wait()
        pytest.fail("wait() did not checkpoint")  # pragma: no cover
    assert scope.cancelled_caught


async def test_waiting_again_on_a_consumed_reply_raises(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reply: Reply[int] = Reply()
    reply.set_value(1)
    assert await reply.wait() == 1
    with trio.fail_after(10), pytest.raises(RuntimeError):
        await reply.wait()


def test_take_returns_a_stored_value_or_raises_a_stored_error_without_yielding() -> None:
    value: Reply[int] = Reply()
    assert not value.ready
    with pytest.raises(RuntimeError, match="resolved reply"):
        value.take()  # not resolved yet
    value.set_value(5)
    assert value.ready
    assert value.take() == 5
    assert not value.ready
    with pytest.raises(RuntimeError, match="nobody waited"):
        value.take()  # one take (or wait) per reply
    error: Reply[int] = Reply()
    error.set_error(Boom("stored"))
    with pytest.raises(Boom, match="stored"):
        error.take()


async def test_a_taken_reply_cannot_be_awaited(autojump_clock: trio.testing.MockClock) -> None:
    reply: Reply[int] = Reply()
    reply.set_value(1)
    assert reply.take() == 1
    with pytest.raises(RuntimeError, match="only once"):
        await reply.wait()
