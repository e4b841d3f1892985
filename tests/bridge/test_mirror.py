"""The blocking and asyncio facades mirror the trio ones method for method."""

from __future__ import annotations

import inspect

import pytest

from engine import (
    AsyncioEngine,
    BlockingEngine,
    Knowledge,
    Memories,
    MemoryEngine,
    Sessions,
    Working,
    open_blocking_engine,
)
from engine._bridge._generate import asyncio_class, blocking_class, public_methods
from engine._bridge._handles import HANDWRITTEN
from engine._redis._engine import RedisMemoryEngine

FACADES = {"sessions": Sessions, "memories": Memories, "working": Working, "knowledge": Knowledge}


def _check_mirror(source: type, twin: type, names: dict[str, object], is_asyncio: bool) -> None:
    generated = public_methods(twin)
    for name, original in names.items():
        method = generated.get(name)
        assert method is not None, f"{twin.__name__} lacks {name}"
        assert inspect.signature(method) == inspect.signature(original), name  # type: ignore[arg-type]
        assert method.__doc__ == original.__doc__ and method.__doc__, name
        assert inspect.iscoroutinefunction(method) is is_asyncio, name


@pytest.mark.parametrize("kind", sorted(FACADES))
def test_facades_mirror_the_trio_facades(kind: str) -> None:
    source = FACADES[kind]
    names = public_methods(source)
    assert names, f"{source.__name__} has no public methods?"
    with open_blocking_engine(shards=1) as mem:
        blocking_facade = getattr(mem, kind)
        asyncio_facade = getattr(mem.asyncio(), kind)
    for facade, is_asyncio in ((blocking_facade, False), (asyncio_facade, True)):
        twin = type(facade)
        assert set(public_methods(twin)) == set(names)
        _check_mirror(source, twin, names, is_asyncio)


@pytest.mark.parametrize("engine_class", [MemoryEngine, RedisMemoryEngine])
def test_engine_methods_mirror_the_trio_engine(engine_class: type) -> None:
    names = public_methods(engine_class, HANDWRITTEN)
    assert {"drop", "snapshot", "statistics", "now"} <= set(names)
    blocking = blocking_class(engine_class, BlockingEngine, HANDWRITTEN)
    asyncio_twin = asyncio_class(engine_class, AsyncioEngine, HANDWRITTEN)
    _check_mirror(engine_class, blocking, names, False)
    _check_mirror(engine_class, asyncio_twin, names, True)
    assert issubclass(blocking, BlockingEngine) and issubclass(asyncio_twin, AsyncioEngine)
    # the hand-written members exist on both, with the trio pipeline's options
    trio_pipeline = inspect.signature(engine_class.pipeline).parameters
    for handle in (blocking, asyncio_twin):
        assert inspect.signature(handle.pipeline).parameters.keys() == trio_pipeline.keys()
    assert callable(blocking.asyncio) and callable(asyncio_twin.blocking)


def test_a_handle_of_the_running_engine_has_the_generated_class() -> None:
    with open_blocking_engine(shards=1) as mem:
        assert type(mem) is blocking_class(MemoryEngine, BlockingEngine, HANDWRITTEN)
        assert type(mem.asyncio()) is asyncio_class(MemoryEngine, AsyncioEngine, HANDWRITTEN)
        assert mem.shards == 1 and mem.config.shards == 1
        assert "open" in repr(mem)
    assert "closed" in repr(mem)
