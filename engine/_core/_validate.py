"""Argument checks shared by the records and the facades.

Every check names the argument, what was expected and what came, and raises
:class:`TypeError` for a wrong type or :class:`InvalidArgument` for a wrong value.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from typing import Final

from engine._core._errors import InvalidArgument

__all__ = [
    "DEFAULT",
    "Default",
    "check_bool",
    "check_id",
    "check_limit",
    "check_offset",
    "check_optional_id",
    "check_optional_str",
    "check_str",
    "check_choice",
    "check_timestamp",
    "check_ttl",
    "check_str_tuple",
    "check_text",
    "text_error",
    "MAX_ID_LENGTH",
    "MAX_INDEX",
]

MAX_ID_LENGTH: Final = 1024
"""The longest identifier accepted, in characters (Unicode code points)."""

MAX_INDEX: Final = sys.maxsize
"""The largest ``limit`` or ``offset`` accepted (``sys.maxsize``, 2**63 - 1 on 64-bit
CPython): beyond it slicing raises ``OverflowError``."""

# A lone surrogate is a code point, not a Unicode scalar value: it cannot be encoded
# as UTF-8, so a journal, a Redis command or a JSON export could not carry it.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Identifiers become journal keys and Redis key parts (joined with NUL): no control
# characters (C0, DEL, C1) and no surrogates.
_BAD_ID_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class Default:
    """The type of :data:`DEFAULT`: "use the record kind's configured default"."""

    _instance: Default | None = None

    def __new__(cls) -> Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = Default()


def _type_name(value: object) -> str:
    return type(value).__name__


def check_text(name: str, value: str) -> str:
    """Check that a ``str`` holds only Unicode scalar values (no lone surrogates).

    The one text policy of every backend: what is stored must encode as UTF-8, the
    encoding of the journal, of Redis and of JSON exports. Complexity: O(len), in C
    (``str.isascii`` first, a regular expression only for non-ASCII text).

    Raises:
        InvalidArgument: naming the argument and the position of the first lone
            surrogate (for example from ``json.loads('"\\ud83d"')``).
    """
    error = text_error(value)
    if error is not None:
        raise InvalidArgument(f"{name}: expected valid Unicode text, got {error}")
    return value


def text_error(value: str) -> str | None:
    """``None`` if ``value`` holds only Unicode scalar values, else what is wrong
    ("a lone surrogate U+D83D at index 3"). O(len), in C."""
    if value.isascii():
        return None
    bad = _SURROGATE.search(value)
    if bad is None:
        return None
    return f"a lone surrogate U+{ord(bad.group()):04X} at index {bad.start()}"


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a ``bool`` (not merely truthy: ``1`` is refused).

    Raises:
        TypeError: if ``value`` is not a ``bool``.
    """
    if type(value) is not bool:
        raise TypeError(f"{name}: expected bool, got {_type_name(value)} {value!r:.60}")
    return value


def check_str(name: str, value: object) -> str:
    """Return ``value`` if it is a ``str`` of valid Unicode text.

    Raises:
        TypeError: if ``value`` is not a ``str``.
        InvalidArgument: if it holds a lone surrogate (see :func:`check_text`).
    """
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected str, got {_type_name(value)} {value!r:.80}")
    return check_text(name, value)


def check_optional_str(name: str, value: object) -> str | None:
    """Return ``value`` if it is ``None`` or a ``str``; else raise ``TypeError``."""
    if value is None:
        return None
    return check_str(name, value)


def check_id(name: str, value: object) -> str:
    """Check an identifier: a non-empty ``str`` of at most 1024 characters, with no
    control character (U+0000-U+001F, U+007F-U+009F) and no lone surrogate.

    Ids are parts of journal entries and of Redis keys, where NUL separates the parts
    of a key: banning control characters here is what makes two distinct
    ``(user_id, memory_id)`` pairs map to two distinct keys on every backend.
    Complexity: O(len), in C.

    Raises:
        TypeError: if ``value`` is not a ``str``.
        InvalidArgument: if it is empty, only whitespace, too long, or holds a
            control character or a lone surrogate (the message names its position).
    """
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a non-empty str, got {_type_name(value)} {value!r:.80}")
    if not value or value.isspace():
        raise InvalidArgument(f"{name}: expected a non-empty str, got {value!r}")
    bad = _BAD_ID_CHAR.search(value)
    if bad is not None:
        what = "a lone surrogate" if "\ud800" <= bad.group() <= "\udfff" else "a control character"
        raise InvalidArgument(
            f"{name}: expected an id without control characters or lone surrogates, got "
            f"{what} U+{ord(bad.group()):04X} at index {bad.start()} of {value!r:.80}"
        )
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument(
            f"{name}: expected at most {MAX_ID_LENGTH} characters, got {len(value)}"
        )
    return value


def check_optional_id(name: str, value: object) -> str | None:
    """Like :func:`check_id` but ``None`` is allowed."""
    if value is None:
        return None
    return check_id(name, value)


def _check_number(name: str, value: object, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name}: expected {expected}, got {_type_name(value)} {value!r:.80}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidArgument(f"{name}: expected {expected}, got {value!r}")
    return number


def check_ttl(name: str, value: object) -> float | None:
    """Check a TTL: ``None`` (never expires) or a finite number of seconds > 0.

    Raises:
        TypeError: if ``value`` is not ``None``, an int or a float.
        InvalidArgument: if it is NaN, infinite, zero or negative.
    """
    if value is None:
        return None
    ttl = _check_number(name, value, "a finite number of seconds > 0 or None")
    if ttl <= 0:
        raise InvalidArgument(
            f"{name}: expected a finite number of seconds > 0 or None, got {value!r}"
        )
    return ttl


def check_timestamp(name: str, value: object) -> float | None:
    """Check an optional timestamp: ``None`` or finite epoch seconds."""
    if value is None:
        return None
    return _check_number(name, value, "finite epoch seconds or None")


def check_limit(name: str, value: object) -> int | None:
    """Check a limit: ``None`` (no limit) or an int in ``0 .. MAX_INDEX``.

    Raises:
        TypeError: if ``value`` is not ``None`` or an int.
        InvalidArgument: if it is negative or above :data:`MAX_INDEX`.
    """
    if value is None:
        return None
    return _check_index(name, value, "an int >= 0 or None")


def check_offset(name: str, value: object) -> int:
    """Check an offset: an int in ``0 .. MAX_INDEX``.

    Raises:
        TypeError: if ``value`` is not an int.
        InvalidArgument: if it is negative or above :data:`MAX_INDEX`.
    """
    return _check_index(name, value, "an int >= 0")


def _check_index(name: str, value: object, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected {expected}, got {_type_name(value)} {value!r:.80}")
    if value < 0:
        raise InvalidArgument(f"{name}: expected {expected}, got {value!r}")
    if value > MAX_INDEX:
        raise InvalidArgument(f"{name}: expected at most {MAX_INDEX} (sys.maxsize), got {value!r}")
    return value


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices`` (strings)."""
    options = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {options}, got {_type_name(value)} {value!r:.80}")
    if value not in options:
        raise InvalidArgument(f"{name}: expected one of {options}, got {value!r}")
    return value


def check_str_tuple(name: str, value: object) -> tuple[str, ...]:
    """Check a sequence of non-empty strings (not a bare ``str``); return it as a tuple."""
    if isinstance(value, str) or not isinstance(value, list | tuple | frozenset | set):
        raise TypeError(
            f"{name}: expected a list or tuple of str, got {_type_name(value)} {value!r:.80}"
        )
    items = tuple(value)
    for item in items:
        check_id(f"{name} item", item)
    return items
