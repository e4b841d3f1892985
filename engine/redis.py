"""The Redis/Valkey backend: ``from engine.redis import open_redis_memory``.

Importing this module imports coredis (the ``redis`` extra); ``import engine`` alone never
does, and ``engine.open_redis_memory`` stays available as an import-light wrapper.
"""

from engine._core._module_metadata import fixup_module_metadata as _fixup
from engine._redis._engine import RedisMemoryEngine as RedisMemoryEngine
from engine._redis._engine import open_redis_memory as open_redis_memory
from engine._redis._pipeline import RedisPipeline as RedisPipeline
from engine._redis._statistics import RedisStatistics as RedisStatistics

__all__ = ["RedisMemoryEngine", "RedisPipeline", "RedisStatistics", "open_redis_memory"]

_fixup(__name__, globals(), __all__)
del _fixup
