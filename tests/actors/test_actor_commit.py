"""Group commit: a committing behaviour's replies wait for ``commit()``; ``max_batch``."""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

from actors import Actor, ActorClosed, CommitFailed, CommittingBehaviour, open_actor

from ._behaviours import KV


@attrs.define(eq=False)
class Journaled(KV):
    """KV whose writes are "durable" only after ``commit`` (which takes 1 s)."""

    pending: list[object] = attrs.Factory(list)
    durable: list[object] = attrs.Factory(list)
    commits: list[int] = attrs.Factory(list)
    fail_next: bool = False

    def handle(self, message: object) -> object:
        result = super().handle(message)
        self.pending.append(message)
        return result

    async def commit(self) -> None:
        await trio.sleep(1)  # an fsync off the event loop
        if self.fail_next:
            self.fail_next = False
            self.pending.clear()
            raise OSError("disk on fire")
        self.commits.append(len(self.pending))
        self.durable.extend(self.pending)
        self.pending.clear()


async def test_replies_wait_for_the_commit_and_batches_share_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = Journaled()
    assert isinstance(behaviour, CommittingBehaviour)
    seen: list[tuple[int, bool]] = []

    async def client(i: int) -> None:
        await ref.ask(("set", f"k{i}", i))
        # By the time a client hears back, its write is durable.
        seen.append((i, ("set", f"k{i}", i) in behaviour.durable))

    async with open_actor(behaviour) as ref:
        async with trio.open_nursery() as nursery:
            for i in range(100):
                nursery.start_soon(client, i)
        stats = ref.statistics()
    assert sorted(seen) == [(i, True) for i in range(100)]
    # 100 writers, each commit takes 1 s: writes that queued meanwhile share a commit.
    assert sum(behaviour.commits) == 100
    assert len(behaviour.commits) < 10
    assert stats.commits == len(behaviour.commits)


async def test_max_batch_one_commits_every_request(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = Journaled()
    async with open_actor(behaviour, max_batch=1) as ref, trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(ref.ask, ("set", f"k{i}", i))
    assert behaviour.commits == [1] * 20


async def test_a_failed_commit_fails_the_whole_batch_and_stops_the_owner(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = Journaled(fail_next=True)
    errors: list[BaseException] = []

    async def client(i: int) -> None:
        try:
            await ref.ask(("set", f"k{i}", i))
        except (OSError, ActorClosed) as error:
            errors.append(error)

    with pytest.raises(ExceptionGroup) as caught:
        async with trio.open_nursery() as nursery:
            ref = await nursery.start(Actor(behaviour).serve)
            for i in range(5):
                nursery.start_soon(client, i)
    assert caught.value.subgroup(OSError) is not None
    # Nobody was told "done": the batch got the commit error, the rest ActorClosed.
    assert len(errors) == 5 and behaviour.durable == []
    assert any(isinstance(error, OSError) for error in errors)
    assert ref.closed


def test_max_batch_is_validated() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Actor(KV(), max_batch=0)


@attrs.define(eq=False)
class PartlyDurable(KV):
    """Fails the commit of ``set`` requests (once) with ``CommitFailed``; reads pass."""

    positions: list[int] = attrs.Factory(list)
    fail_writes: bool = True

    def handle(self, message: object) -> object:
        result = super().handle(message)
        self.positions.append(message[0] == "set")  # type: ignore[index]
        return result

    async def commit(self) -> None:
        await trio.sleep(0)
        writes = frozenset(i for i, is_write in enumerate(self.positions) if is_write)
        self.positions.clear()
        if self.fail_writes and writes:
            self.fail_writes = False
            raise CommitFailed(OSError(28, "No space left on device"), writes)


async def test_the_first_failed_commit_reaches_exactly_its_writers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    behaviour = PartlyDurable()
    async with open_actor(behaviour) as ref:
        async with trio.open_nursery() as nursery:
            results: dict[str, object] = {}

            async def call(name: str, message: tuple[object, ...]) -> None:
                try:
                    results[name] = await ref.ask(message)
                except OSError as error:
                    results[name] = error

            nursery.start_soon(call, "read", ("get", "missing"))
            nursery.start_soon(call, "write", ("set", "k", 1))
        assert isinstance(results["write"], OSError)
        assert results["read"] is None  # same batch, not a write: its result stands
        assert behaviour.data["k"] == 1  # applied, not durable: the behaviour's business
        assert await ref.ask(("set", "k", 3)) == 3  # the owner still serves
        assert await ref.ask(("get", "k")) == 3
        assert ref.statistics().commit_failures == 1
