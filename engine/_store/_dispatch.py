"""Each :class:`~engine._core._ops.Op` as the :class:`ShardStore` method that serves it.

Resolved once at import (a test checks that every op has its method), so a shard and
journal replay dispatch with one dict lookup by identity, never by a method's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from engine._core._ops import OPS, Op
from engine._store._store import ShardStore

__all__ = ["STORE_METHODS"]

#: ``STORE_METHODS[op](store, now, *args)`` serves ``op``.
STORE_METHODS: Final[dict[Op, Callable[..., Any]]] = {
    op: getattr(ShardStore, op.name) for op in OPS.values()
}
