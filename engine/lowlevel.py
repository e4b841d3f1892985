"""The pieces under the engine, for tools and baselines: ``from engine.lowlevel import ...``.

- :class:`ShardStore`: one shard's pure state (no trio, no I/O), the data structures
  every shard owns; :class:`ExpiryIndex`: its deadline index.
- :func:`shard_of`: which shard owns a key.
- :class:`Op` and :data:`OPS`: the operation vocabulary, each store operation as a
  frozen value with its stable wire name (what a journal entry carries).

Applications use :func:`engine.open_memory_engine` instead. ``ShardStore``,
``ExpiryIndex`` and ``shard_of`` are also importable from ``engine``, as before.
"""

from engine._core._module_metadata import fixup_module_metadata as _fixup
from engine._core._ops import OPS as OPS
from engine._core._ops import Op as Op
from engine._core._routing import shard_of as shard_of
from engine._store._expiry import ExpiryIndex as ExpiryIndex
from engine._store._store import ShardStore as ShardStore

__all__ = ["OPS", "ExpiryIndex", "Op", "ShardStore", "shard_of"]

_fixup(__name__, globals(), __all__)
del _fixup
