"""Cancellation: before the request is queued it is never applied; after, it may be,
the reply is dropped, and the shard keeps serving."""

from __future__ import annotations

import trio
import trio.testing

from engine import MemoryEngine, Session


async def test_cancelled_before_queued_is_never_applied(mem: MemoryEngine) -> None:
    with trio.CancelScope() as scope:
        scope.cancel()
        await mem.sessions.upsert(Session(session_id="never"))
    assert scope.cancelled_caught
    assert await mem.sessions.get("never") is None
    assert mem.statistics().requests == 1  # only the get above reached a shard


class _CancelWhenOwnerWakes(trio.abc.Instrument):
    """Cancels ``scope`` at the moment the writer's send wakes a shard owner: the
    request is queued, the writer has not started waiting for the reply yet, and
    the owner has not run. Deterministic, unlike racing two tasks."""

    def __init__(self, scope: trio.CancelScope, owners: set[trio.lowlevel.Task]) -> None:
        self.scope = scope
        self.owners = owners

    def task_scheduled(self, task: trio.lowlevel.Task) -> None:
        if task in self.owners and trio.lowlevel.current_task().name.endswith("writer"):
            self.scope.cancel()


async def test_cancelled_after_queued_may_apply_and_reply_is_dropped(mem: MemoryEngine) -> None:
    await trio.testing.wait_all_tasks_blocked()
    me = trio.lowlevel.current_task()
    owners = {t for t in _all_tasks(me) if "serve" in t.name}
    assert len(owners) == mem.shards
    scope = trio.CancelScope()

    async def writer() -> None:
        with scope:
            await mem.sessions.upsert(Session(session_id="maybe"))

    instrument = _CancelWhenOwnerWakes(scope, owners)
    trio.lowlevel.add_instrument(instrument)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
    finally:
        trio.lowlevel.remove_instrument(instrument)
    # The request was already in the mailbox: it was applied, the reply was dropped.
    assert scope.cancelled_caught
    assert await mem.sessions.get("maybe") is not None
    assert sum(s.dropped_replies for s in mem.statistics().shards) == 1
    # Retrying is safe (idempotent upsert by id).
    await mem.sessions.upsert(Session(session_id="maybe"))
    assert len(await mem.sessions.list()) == 1


def _all_tasks(task: trio.lowlevel.Task) -> list[trio.lowlevel.Task]:
    root = task
    while root.parent_nursery is not None and root.parent_nursery.parent_task is not None:
        root = root.parent_nursery.parent_task
    found: list[trio.lowlevel.Task] = []
    stack = [root]
    while stack:
        current = stack.pop()
        found.append(current)
        for nursery in current.child_nurseries:
            stack.extend(nursery.child_tasks)
    return found


async def test_many_cancelled_clients_do_not_break_the_shard(mem: MemoryEngine) -> None:
    async with trio.open_nursery() as nursery:
        for i in range(200):
            nursery.start_soon(mem.sessions.upsert, Session(session_id=f"s{i}"))
        nursery.cancel_scope.cancel()
    for i in range(20):
        await mem.sessions.upsert(Session(session_id=f"after{i}"))
    assert len(await mem.sessions.list(name_contains=None)) >= 20
    for store in mem._stores:  # type: ignore[attr-defined]
        store._check()
