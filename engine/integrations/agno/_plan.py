"""The adapter's methods written once, as plans, and run by a blocking or an asyncio
driver: :class:`ShardmemDb` on a :class:`engine.BlockingEngine`,
:class:`AsyncShardmemDb` on an :class:`engine.AsyncioEngine`.

A plan is a generator: it yields each engine step it needs and receives the step's
result (or has the step's exception raised at the ``yield``); its return value is the
method's. A step is ``lambda e: e.sessions.get(...)`` (called with the engine handle:
a value from the blocking handle, a coroutine from the asyncio one) or a
:class:`Pipelined` batch. Methods that need no engine step return their value directly.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "Pipelined",
    "Plan",
    "asyncio_method",
    "blocking_method",
    "run_asyncio",
    "run_blocking",
]

T = TypeVar("T")

Step = Callable[[Any], Any]
Plan = Generator[Any, Any, T]
"""A generator yielding steps (a :data:`Step` or :class:`Pipelined`), returning ``T``."""


@dataclass(frozen=True)
class Pipelined:
    """Several steps queued on one engine pipeline (one request per shard); the plan
    receives their :class:`engine.PipelineResult` objects, in order."""

    steps: tuple[Step, ...]
    raise_on_error: bool = True


def run_blocking(engine: Any, plan: Plan[T]) -> T:
    """Run ``plan`` on a :class:`engine.BlockingEngine`; return its value."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            if isinstance(step, Pipelined):
                with engine.pipeline(raise_on_error=step.raise_on_error) as batch:
                    value = [queue(batch) for queue in step.steps]
            else:
                value = step(engine)
        except Exception as raised:
            error = raised


async def run_asyncio(engine: Any, plan: Plan[T]) -> T:
    """Run ``plan`` on an :class:`engine.AsyncioEngine`; return its value. Every
    engine step is awaited, so the event loop never waits for the engine."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        value, error = None, None
        try:
            if isinstance(step, Pipelined):
                async with engine.pipeline(raise_on_error=step.raise_on_error) as batch:
                    value = [queue(batch) for queue in step.steps]
            else:
                value = await step(engine)
        except Exception as raised:
            error = raised


def blocking_method(source: type, name: str) -> Any:
    """A method running ``source``'s plan ``name`` (on the instance's ``_plans``) with
    :func:`run_blocking` on the instance's ``engine``; typed ``Any`` so that it stands
    for the Agno method of that name."""
    planned = getattr(source, name)

    @functools.wraps(planned)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = planned(self._plans, *args, **kwargs)
        return run_blocking(self.engine, result) if inspect.isgenerator(result) else result

    return method


def asyncio_method(source: type, name: str) -> Any:
    """A coroutine method running ``source``'s plan ``name`` with :func:`run_asyncio`
    on the instance's ``engine`` (see :func:`blocking_method`)."""
    planned = getattr(source, name)

    @functools.wraps(planned)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = planned(self._plans, *args, **kwargs)
        if inspect.isgenerator(result):
            return await run_asyncio(self.engine, result)
        return result

    return method
