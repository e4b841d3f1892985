"""Listing helper of the shard store: the first ``k`` live entries of an ordered scan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from engine._core._rows import EXPIRES

__all__ = ["Ranked", "take"]

R = TypeVar("R")
Ranked = list[tuple[tuple[float, Any], R]]


def take(
    entries: Iterator[tuple[float, Any, R]], k: int | None, now: float
) -> tuple[Ranked[R], list[Any]]:
    """Up to ``k`` live entries of ``entries`` as ``((timestamp, key), row)``, and
    the keys of the expired rows met on the way."""
    taken: Ranked[R] = []
    expired: list[Any] = []
    if k == 0:
        return taken, expired
    for timestamp, key, row in entries:
        expires = row[EXPIRES]  # type: ignore[index]
        if expires is not None and expires <= now:
            expired.append(key)
            continue
        taken.append(((timestamp, key), row))
        if k is not None and len(taken) >= k:
            break
    return taken, expired
