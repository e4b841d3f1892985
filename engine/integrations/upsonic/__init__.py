"""Upsonic storage on shardmem: ``ShardmemStorage`` (Upsonic's synchronous
``Storage``) and ``AsyncShardmemStorage`` (its ``AsyncStorage``). Needs
``pip install 'shardmem[upsonic]'``.
"""

from engine.integrations.upsonic._async import AsyncShardmemStorage as AsyncShardmemStorage
from engine.integrations.upsonic._storage import ShardmemStorage as ShardmemStorage

__all__ = ["AsyncShardmemStorage", "ShardmemStorage"]
