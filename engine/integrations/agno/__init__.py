"""Agno integration: ``ShardmemDb``, a drop-in ``db=`` for Agno agents, teams and
workflows (``from engine.integrations.agno import ShardmemDb``). Needs ``agno``
(``pip install 'shardmem[agno]'``)."""

from engine.integrations.agno._async import AsyncShardmemDb as AsyncShardmemDb
from engine.integrations.agno._db import ShardmemDb as ShardmemDb

__all__ = ["AsyncShardmemDb", "ShardmemDb"]
