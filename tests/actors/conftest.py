"""Shared fixtures of the actor runtime tests, and a deadlock guard.

The guard: a test on the autojump mock clock that deadlocks (every task blocked, no
deadline pending) would otherwise hang the run forever. Every async test here runs inside
a ``trio.move_on_at`` at ``DEADLOCK_AFTER`` mock seconds, so a deadlock jumps the clock
there at once and fails the test instead. Tests on the real clock are left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from tests.actors._behaviours import KV

DEADLOCK_AFTER = 3600.0  # mock seconds; the tests themselves use at most a few hundred
HERE = Path(__file__).parent


def _run_with_deadlock_guard(
    async_fn: Callable[[], Awaitable[Any]],
    *,
    clock: trio.abc.Clock | None = None,
    instruments: Sequence[trio.abc.Instrument] = (),
) -> Any:
    if not isinstance(clock, trio.testing.MockClock):
        return trio.run(async_fn, clock=clock, instruments=instruments)

    async def guarded() -> Any:
        with trio.move_on_at(trio.current_time() + DEADLOCK_AFTER):
            return await async_fn()
        pytest.fail(f"deadlock: the test was still blocked after {DEADLOCK_AFTER} mock seconds")

    return trio.run(guarded, clock=clock, instruments=instruments)


@pytest.hookimpl(trylast=True)  # after pytest-trio marked the async tests
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents and item.get_closest_marker("trio") is not None:
            item.add_marker(pytest.mark.trio(run=_run_with_deadlock_guard), append=False)


@pytest.fixture
def kv() -> KV:
    """A fresh key-value behaviour with no data and no timers."""
    return KV()
