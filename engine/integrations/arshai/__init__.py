"""Arshai working memory on shardmem: ``ShardmemMemoryManager`` (the synchronous
``IMemoryManager`` protocol) and ``AsyncShardmemMemoryManager`` (what Arshai's
``WorkingMemoryAgent`` awaits). Needs ``pip install 'shardmem[arshai]'``.
"""

from engine.integrations.arshai._manager import (
    AsyncShardmemMemoryManager as AsyncShardmemMemoryManager,
)
from engine.integrations.arshai._manager import ShardmemMemoryManager as ShardmemMemoryManager

__all__ = ["AsyncShardmemMemoryManager", "ShardmemMemoryManager"]
