"""The size of a write, for ``EngineConfig.max_record_size``.

A write's size is the length in bytes of its record's UTF-8 JSON encoding
(``record.to_dict()`` as the journal and Redis store it). Computing that for every
write would serialize every record twice, so the check first takes a cheap upper
bound (6 bytes per character of text: the longest JSON escape, ``\\u0000``; payloads
by their encoded length) and serializes the whole record only when the bound is over
the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs
import orjson

from engine._core._codec import FrozenDict
from engine._core._errors import InvalidArgument

__all__ = ["MAX_RECORD_SIZE", "check_record_size", "record_size"]

MAX_RECORD_SIZE: Final = 16 << 20
"""The default ``EngineConfig.max_record_size``: 16 MiB, far below the journal's
1 GiB frame bound, so every acknowledged write can be read back."""

_SCALAR: Final = 32  # bytes: a number, a bool or null, with its key, at most
_RECORD_BOUNDS: dict[type, Callable[[Any], int]] = {}


def _bound(value: Any) -> int:
    kind = type(value)
    if kind is str:
        return 6 * len(value) + 2
    if kind is bytes:  # base64 in the journal
        return 4 * len(value) // 3 + 6
    if value is None or kind is int or kind is float or kind is bool:
        return _SCALAR
    record_bound = _RECORD_BOUNDS.get(kind)
    if record_bound is not None:
        return record_bound(value)
    if not value:  # an empty payload, tuple of topics or of runs: no serializing
        return 2
    if kind is tuple:
        first = type(value[0])
        if first in _RECORD_BOUNDS or attrs.has(first):  # records, e.g. a run's messages
            item_bound = _RECORD_BOUNDS.get(first) or _compile_bound(first)
            total = 2
            for item in value:
                total += (item_bound(item) if type(item) is first else _bound(item)) + 1
            return total
        return len(orjson.dumps(value))  # a payload list, or topics
    if isinstance(value, dict):
        return len(orjson.dumps(value))
    return _compile_bound(kind)(value)


def _compile_bound(kind: type) -> Callable[[Any], int]:
    """The bound of a record of attrs class ``kind``: its fields' bounds plus 4 bytes
    of quotes and colon per key and 2 of braces, as straight-line code (strings and
    ``None`` and empty payloads inline, no call), generated once per class as attrs does its
    ``__init__``: the bound runs on every write."""
    names = tuple(field.name for field in attrs.fields(kind))
    lines = [
        f"def bound_{kind.__name__}(value):",
        f"    total = {2 + sum(len(n) + 4 for n in names)}",
    ]
    for name in names:
        lines += [
            f"    v = value.{name}",
            "    if type(v) is str:",
            "        total += 6 * len(v) + 2",
            "    elif v is None:",
            f"        total += {_SCALAR}",
            "    elif not v and (type(v) is FrozenDict or type(v) is tuple):",
            "        total += 2",
            "    else:",
            "        total += _bound(v)",
        ]
    lines.append("    return total")
    namespace: dict[str, Any] = {"_bound": _bound, "FrozenDict": FrozenDict}
    exec("\n".join(lines), namespace)
    record_bound: Callable[[Any], int] = namespace[f"bound_{kind.__name__}"]
    _RECORD_BOUNDS[kind] = record_bound
    return record_bound


def record_size(record: Any) -> int:
    """The exact size of ``record`` (a record, or a plain JSON value such as a new
    session name) in bytes: its UTF-8 JSON encoding. O(size)."""
    return len(orjson.dumps(record.to_dict() if attrs.has(type(record)) else record))


def check_record_size(name: str, record: Any, limit: int) -> None:
    """Check that one write of ``record`` is at most ``limit`` bytes (see the module
    docstring). O(fields) below the limit, O(size) near it.

    Raises:
        InvalidArgument: naming ``name``, the limit and the record's size.
    """
    if _bound(record) <= limit:
        return
    size = record_size(record)
    if size > limit:
        raise InvalidArgument(
            f"{name}: expected a record of at most {limit} bytes as UTF-8 JSON "
            f"(EngineConfig.max_record_size), got {size} bytes"
        )
