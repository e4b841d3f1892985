"""LangGraph on shardmem: :class:`ShardmemStore` (``BaseStore``) and
:class:`ShardmemSaver` (``BaseCheckpointSaver``). Needs ``pip install 'shardmem[langgraph]'``."""

from engine.integrations.langgraph._saver import ShardmemSaver as ShardmemSaver
from engine.integrations.langgraph._store import ShardmemStore as ShardmemStore

__all__ = ["ShardmemSaver", "ShardmemStore"]
