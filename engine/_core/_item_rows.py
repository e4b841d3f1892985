"""Stored rows of namespaced items (LangGraph's ``BaseStore`` records).

An item row is ``(expires_at, created_at, updated_at, namespace, key, value,
vectors)``: the three timestamps first like every row (``engine._core._rows``), the
namespace a tuple of ``str``, ``value`` the orjson encoding of the JSON object
(``None`` when empty), ``vectors`` a tuple of one ``bytes`` per vector (native
float64s, 8 bytes a dimension; ``()`` when none). Tuples of atomic values: the cyclic
GC untracks them. :func:`item_of` builds the :class:`Item` without re-validation;
decoding the value gives every reader a private copy.
"""

from __future__ import annotations

import struct
from typing import Any, Final

from engine._core._encoded import builder, decode_payload, encode_payload
from engine._core._items import Item

__all__ = ["I_KEY", "I_NAMESPACE", "I_VALUE", "I_VECTORS", "item_of", "item_row", "item_value"]

I_NAMESPACE: Final = 3
I_KEY: Final = 4
I_VALUE: Final = 5
I_VECTORS: Final = 6

_item = builder(
    Item, ("namespace", "key", "value", "vectors", "created_at", "updated_at", "expires_at")
)


def _vector_bytes(vector: tuple[float, ...]) -> bytes:
    return struct.pack(f"{len(vector)}d", *vector)


def _vector_of(data: bytes) -> tuple[float, ...]:
    return struct.unpack(f"{len(data) // 8}d", data)


def item_row(item: Item) -> tuple[Any, ...]:
    """The row of a validated item (timestamps set). O(size)."""
    return (
        item.expires_at,
        item.created_at,
        item.updated_at,
        item.namespace,
        item.key,
        encode_payload(item.value),
        tuple([_vector_bytes(vector) for vector in item.vectors]),
    )


def item_value(row: tuple[Any, ...]) -> Any:
    """The item's value (a ``FrozenDict``), decoded from its row. O(size)."""
    return decode_payload(row[I_VALUE])


def item_of(row: tuple[Any, ...], value: Any = None) -> Item:
    """The :class:`Item` of a row, without re-validation; ``value`` when the caller
    decoded it already (:func:`item_value`). O(size)."""
    built: Item = _item(
        row[I_NAMESPACE],
        row[I_KEY],
        decode_payload(row[I_VALUE]) if value is None else value,
        tuple([_vector_of(data) for data in row[I_VECTORS]]),
        row[1],
        row[2],
        row[0],
    )
    return built
