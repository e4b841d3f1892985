"""The command line's argparse converters (one semantics for every command) and shared options.

Integers follow Python's literal rules (``1_000`` is accepted, ``2.5`` is not); seconds
are finite floats > 0. Each converter raises :class:`argparse.ArgumentTypeError` naming
what was expected and what came, which argparse prints as ``argument --x: ...``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Final

from bench._targets._redis import DEFAULT_REDIS_URL

__all__ = [
    "FSYNC_POLICIES",
    "add_redis_url_options",
    "count",
    "integer",
    "int_list",
    "parse_targets",
    "positive_int",
    "positive_number",
    "positive_seconds",
]

#: The journal fsync policies ``--fsync`` accepts.
FSYNC_POLICIES: Final = ("always", "everysec", "no")


def integer(text: str) -> int:
    """Any integer."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _at_least(text, 1)


def count(text: str) -> int:
    """An integer >= 0."""
    return _at_least(text, 0)


def int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers >= 1, e.g. ``1,10,100``."""
    try:
        values = tuple(int(part) for part in text.split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 1,10,100, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected integers >= 1, got {text!r}")
    return values


def positive_seconds(text: str) -> float:
    """A finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds > 0, got {text!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def positive_number(text: str) -> float:
    """A finite number > 0, e.g. a rate per second (``1_000`` and ``2.5`` are accepted)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def parse_targets(text: str, known: Sequence[str]) -> tuple[str, ...]:
    """``"engine,lock,agno"`` -> ``("engine", "lock", "agno")``, each checked against
    ``known``; raises :class:`argparse.ArgumentTypeError` for an unknown or repeated name."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected one or more targets, e.g. engine,lock")
    for name in names:
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown target {name!r} (choose from {', '.join(sorted(known))})"
            )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a target is repeated in {text!r}")
    return names


def add_redis_url_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--redis-url`` and ``--redis-cluster-url`` (default ``None``: the
    environment variable, else :data:`DEFAULT_REDIS_URL`, read when a target opens)."""
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        default=None,
        help="server of the redis and redis-naive targets (default $SHARDMEM_REDIS_URL, "
        f"else {DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--redis-cluster-url",
        metavar="URL",
        default=None,
        help="a node of the redis-cluster target's cluster (default "
        f"$SHARDMEM_REDIS_CLUSTER_URL, else {DEFAULT_REDIS_URL})",
    )
