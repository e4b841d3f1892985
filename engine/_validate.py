"""Argument checks shared by the records and the facades.

Every check names the argument, what was expected and what came, and raises
:class:`TypeError` for a wrong type or :class:`InvalidArgument` for a wrong value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from engine._errors import InvalidArgument

__all__ = [
    "DEFAULT",
    "Default",
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
]

MAX_ID_LENGTH: Final = 1024


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


def check_str(name: str, value: object) -> str:
    """Return ``value`` if it is a ``str``; else raise ``TypeError``."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected str, got {_type_name(value)} {value!r:.80}")
    return value


def check_optional_str(name: str, value: object) -> str | None:
    """Return ``value`` if it is ``None`` or a ``str``; else raise ``TypeError``."""
    if value is None:
        return None
    return check_str(name, value)


def check_id(name: str, value: object) -> str:
    """Check an identifier: a non-empty ``str`` of at most 1024 characters.

    Raises:
        TypeError: if ``value`` is not a ``str``.
        InvalidArgument: if it is empty, only whitespace, or too long.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a non-empty str, got {_type_name(value)} {value!r:.80}")
    if not value or value.isspace():
        raise InvalidArgument(f"{name}: expected a non-empty str, got {value!r}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgument(
                f"{name}: expected valid Unicode text, got a lone surrogate in {value!r:.80}"
            ) from None
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
    """Check a limit: ``None`` (no limit) or an int >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{name}: expected an int >= 0 or None, got {_type_name(value)} {value!r:.80}"
        )
    if value < 0:
        raise InvalidArgument(f"{name}: expected an int >= 0 or None, got {value!r}")
    return value


def check_offset(name: str, value: object) -> int:
    """Check an offset: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int >= 0, got {_type_name(value)} {value!r:.80}")
    if value < 0:
        raise InvalidArgument(f"{name}: expected an int >= 0, got {value!r}")
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
