"""The records' field validators (``attrs`` validators of ``engine._core._records``).

They run for every field of every record a caller builds, so each accepts the common
valid value with a few checks in C and builds the field's name (``Message.content``)
for the error message only on the way to the full check of ``engine._core._validate``,
which then raises: what they accept and the errors they raise are exactly the
checks'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from engine._core._validate import (
    MAX_ID_LENGTH,
    check_choice,
    check_id,
    check_str,
    check_timestamp,
)

__all__ = [
    "field_choice",
    "field_id",
    "field_optional_id",
    "field_optional_str",
    "field_str",
    "field_timestamp",
]

_INF: Final = float("inf")

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _name(instance: Any, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def field_choice(choices: tuple[str, ...]) -> Validator:
    """A validator: one of ``choices`` (``check_choice``)."""

    def validator(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not str or value not in choices:
            check_choice(_name(instance, attribute), value, choices)

    return validator


def field_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An identifier (``check_id``)."""
    if not (
        type(value) is str
        and value.isascii()
        and value.isprintable()
        and 0 < len(value) <= MAX_ID_LENGTH
        and not value.isspace()
    ):
        check_id(_name(instance, attribute), value)


def field_optional_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or an identifier (``check_optional_id``)."""
    if value is not None:
        field_id(instance, attribute, value)


def field_str(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Valid Unicode text (``check_str``)."""
    if type(value) is not str or not value.isascii():
        check_str(_name(instance, attribute), value)


def field_optional_str(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or valid Unicode text (``check_optional_str``)."""
    if value is not None and (type(value) is not str or not value.isascii()):
        check_str(_name(instance, attribute), value)


def field_timestamp(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or finite epoch seconds (``check_timestamp``)."""
    # ``-inf < value < inf`` is false for NaN and the infinities: finite floats pass.
    if value is not None and not (type(value) is float and -_INF < value < _INF):
        check_timestamp(_name(instance, attribute), value)
