"""Blocking and asyncio facade classes, generated from the trio classes.

Each public method of a trio class (``engine.Sessions``, ``engine.MemoryEngine``, ...)
gets a twin with the same name, signature and docstring: a plain method that blocks
(:func:`blocking_class`) or a coroutine method (:func:`asyncio_class`), both running
the trio method in the engine thread. Nothing is copied by hand, so the three APIs
cannot drift apart (``tests/bridge`` checks they mirror each other).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from engine._bridge._portal import Portal

__all__ = ["Facade", "asyncio_class", "blocking_class", "public_methods"]


def public_methods(source: type, exclude: Iterable[str] = ()) -> dict[str, Callable[..., Any]]:
    """``source``'s public methods (plain or ``async def``) by name, inherited ones
    included, properties and ``exclude`` left out."""
    methods: dict[str, Callable[..., Any]] = {}
    skip = set(exclude)
    for klass in reversed(source.__mro__[:-1]):  # object last
        for name, value in vars(klass).items():
            if name.startswith("_") or name in skip:
                continue
            if inspect.isfunction(value):
                methods[name] = value
            else:
                methods.pop(name, None)
    return methods


class Facade:
    """A generated facade: runs ``target``'s methods in the engine thread.

    ``owner`` (the handle) is kept alive as long as the facade is.
    """

    __slots__ = ("_owner", "_portal", "_target")

    def __init__(self, portal: Portal, target: Any, owner: object) -> None:
        self._portal = portal
        self._target = target
        self._owner = owner

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._target!r}>"


def _mirror(method: Callable[..., Any], source: Callable[..., Any]) -> Callable[..., Any]:
    method.__name__ = source.__name__
    method.__doc__ = source.__doc__
    method.__signature__ = inspect.signature(source)  # type: ignore[attr-defined]
    method.__annotations__ = dict(source.__annotations__)
    return method


def _blocking(name: str, source: Callable[..., Any]) -> Callable[..., Any]:
    is_async = inspect.iscoroutinefunction(source)

    def method(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        return self._portal.call(getattr(self._target, name), args, kwargs, is_async)

    return _mirror(method, source)


def _asyncio(name: str, source: Callable[..., Any]) -> Callable[..., Any]:
    is_async = inspect.iscoroutinefunction(source)

    async def method(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        return await self._portal.acall(getattr(self._target, name), args, kwargs, is_async)

    return _mirror(method, source)


def _build(
    kind: str,
    make: Callable[[str, Callable[..., Any]], Callable[..., Any]],
    source: type,
    base: type,
    exclude: Iterable[str],
) -> type:
    namespace: dict[str, Any] = {"__slots__": (), "__doc__": source.__doc__}
    for name, method in public_methods(source, exclude).items():
        namespace[name] = make(name, method)
        namespace[name].__qualname__ = f"{kind}{source.__name__}.{name}"
    namespace["__module__"] = base.__module__
    return type(f"{kind}{source.__name__}", (base,), namespace)


_cache: dict[tuple[str, type, type], type] = {}


def blocking_class(source: type, base: type = Facade, exclude: Iterable[str] = ()) -> type:
    """A subclass of ``base`` with a blocking twin of each public method of ``source``."""
    key = ("Blocking", source, base)
    if key not in _cache:
        _cache[key] = _build("Blocking", _blocking, source, base, exclude)
    return _cache[key]


def asyncio_class(source: type, base: type = Facade, exclude: Iterable[str] = ()) -> type:
    """A subclass of ``base`` with an asyncio coroutine twin of each public method."""
    key = ("Asyncio", source, base)
    if key not in _cache:
        _cache[key] = _build("Asyncio", _asyncio, source, base, exclude)
    return _cache[key]
