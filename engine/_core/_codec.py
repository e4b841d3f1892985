"""The payload codec: JSON-checked, copied once at write, immutable afterwards.

Mutable payloads (session state, metadata) are validated as JSON values and copied
into immutable containers once, when the record is built: objects become
:class:`FrozenDict` (a ``dict`` that refuses mutation) and arrays become tuples. A
caller can then never mutate stored state, and reads hand out the stored object
without copying. :func:`thaw` turns a payload back into plain ``dict``/``list``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn

from engine._core._errors import InvalidArgument
from engine._core._validate import text_error

__all__ = ["EMPTY", "FrozenDict", "freeze", "thaw"]

MAX_DEPTH = 64
INT_MIN = -(2**63)
"""The smallest payload integer: a signed 64-bit integer, what every backend (the
journal's JSON, Redis) carries exactly."""
INT_MAX = 2**64 - 1
"""The largest payload integer: an unsigned 64-bit integer."""


class FrozenDict(dict[str, Any]):
    """A ``dict`` of JSON values that refuses every mutation (``TypeError``).

    It is still a ``dict``: ``isinstance(x, dict)``, ``json.dumps`` and ``dict(x)``
    (a mutable shallow copy) all work. ``FrozenDict(mapping)`` validates and freezes
    like :func:`freeze` (so a NaN or a set never gets in this way either).

    Raises:
        TypeError, InvalidArgument: as :func:`freeze`, for a value that is not JSON.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        items = dict(*args, **kwargs)
        try:
            frozen = {key: _freeze_item(key, item, 0) for key, item in items.items()}
        except _PayloadError as error:
            raise error.kind(
                f"FrozenDict{''.join(reversed(error.path))}: {error.message}"
            ) from None
        dict.__init__(self, frozen)

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            "stored payloads are immutable: copy with dict(x) or engine.thaw(x), "
            "change the copy, and write the record again"
        )

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda item: item[0])))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: object) -> FrozenDict:
        return self

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (_rebuild, (dict(self),))


def _rebuild(items: dict[str, Any]) -> FrozenDict:
    return freeze_mapping(items, "payload")


def _trusted(items: dict[str, Any]) -> FrozenDict:
    """A :class:`FrozenDict` of already-frozen items, without validating them again."""
    frozen: FrozenDict = dict.__new__(FrozenDict)
    dict.__init__(frozen, items)
    return frozen


EMPTY: FrozenDict = _trusted({})


def freeze(value: object, name: str) -> Any:
    """Validate ``value`` as a JSON value and return an immutable deep copy.

    Accepted: ``None``, ``bool``, ``int``, finite ``float``, ``str``, mappings with
    ``str`` keys, lists and tuples. Already-frozen values are returned as they are.

    Args:
        value: the payload.
        name: the argument's name, used in error messages.

    Returns:
        ``FrozenDict`` for a mapping, ``tuple`` for a list or tuple, else the value.

    Raises:
        TypeError: for a value JSON cannot represent (a set, bytes, an object, a
            non-``str`` key), naming where in the payload it is.
        InvalidArgument: for a NaN or infinite float, or nesting deeper than 64.

    Complexity: O(size of the payload).
    """
    try:
        return _freeze(value, 0)
    except _PayloadError as error:
        where = name + "".join(reversed(error.path))
        raise error.kind(f"{where}: {error.message}") from None


class _PayloadError(Exception):
    def __init__(self, kind: type[Exception], message: str) -> None:
        self.kind = kind
        self.message = message
        self.path: list[str] = []


def _freeze(value: object, depth: int) -> Any:
    kind = type(value)
    if kind is bool or value is None or kind is FrozenDict:
        return value
    if kind is str:
        problem = text_error(value)  # type: ignore[arg-type]
        if problem is not None:
            raise _PayloadError(InvalidArgument, f"expected valid Unicode text, got {problem}")
        return value
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:  # type: ignore[operator]
            raise _PayloadError(
                InvalidArgument,
                f"expected an integer in [-2**63, 2**64 - 1] (64 bits), got {value!r:.60}",
            )
        return value
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise _PayloadError(InvalidArgument, f"expected a JSON value, got the float {value!r}")
        return value
    if depth >= MAX_DEPTH:
        raise _PayloadError(InvalidArgument, f"expected JSON nested at most {MAX_DEPTH} deep")
    if isinstance(value, Mapping):
        return _trusted({key: _freeze_item(key, item, depth) for key, item in value.items()})
    if kind is list or kind is tuple:
        items: list[Any] = []
        sequence: list[Any] | tuple[Any, ...] = value  # type: ignore[assignment]
        for index, element in enumerate(sequence):
            try:
                items.append(_freeze(element, depth + 1))
            except _PayloadError as error:
                error.path.append(f"[{index}]")
                raise
        return tuple(items)
    if isinstance(value, bool | int | float | str):  # subclasses, e.g. IntEnum
        base: type = next(t for t in (bool, int, float, str) if isinstance(value, t))
        return _freeze(base(value), depth)
    raise _PayloadError(
        TypeError,
        "expected a JSON-serializable value (dict, list, str, int, float, bool, None), "
        f"got {kind.__name__} {value!r:.60}",
    )


def _freeze_item(key: object, item: object, depth: int) -> Any:
    """Freeze one member of a JSON object (``depth`` is the object's own)."""
    if type(key) is not str:
        raise _PayloadError(
            TypeError,
            f"expected JSON object keys of type str, got {type(key).__name__} {key!r:.60}",
        )
    problem = text_error(key)
    if problem is not None:
        raise _PayloadError(InvalidArgument, f"expected valid Unicode keys, got {problem} in a key")
    try:
        return _freeze(item, depth + 1)
    except _PayloadError as error:
        error.path.append(f"[{key!r}]")
        raise


def freeze_mapping(value: object, name: str) -> FrozenDict:
    """Like :func:`freeze` but the payload must be a mapping (``None`` -> empty)."""
    if value is None:
        return EMPTY
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a dict, got {type(value).__name__} {value!r:.60}")
    frozen: FrozenDict = freeze(value, name)
    return frozen


def thaw(value: Any) -> Any:
    """Return a plain, mutable deep copy of a frozen payload (dicts and lists)."""
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(element) for element in value]
    return value
