"""Stable routing of keys to shards."""

from __future__ import annotations

import zlib

__all__ = ["shard_of"]


def shard_of(key: str, shards: int) -> int:
    """The shard (0 .. ``shards`` - 1) that owns ``key``.

    Uses CRC-32 (``zlib.crc32``) of the UTF-8 key, so the mapping is the same in every
    process and run (unlike ``hash()``, which is salted per process). O(len(key)).
    """
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards
