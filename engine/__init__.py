"""shardmem's memory engine: sharded, actor-owned, in-memory agent memory on trio.

Start with :func:`open_memory_engine`.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from engine._api._checkpoints import Checkpoints as Checkpoints
from engine._api._items import Items as Items
from engine._api._knowledge import Knowledge as Knowledge
from engine._api._memories import Memories as Memories
from engine._api._pipeline import Pipeline as Pipeline
from engine._api._pipeline import PipelineResult as PipelineResult
from engine._api._sessions import Sessions as Sessions
from engine._api._working import Working as Working
from engine._bridge import AsyncioEngine as AsyncioEngine
from engine._bridge import AsyncioPipeline as AsyncioPipeline
from engine._bridge import BlockingEngine as BlockingEngine
from engine._bridge import BlockingPipeline as BlockingPipeline
from engine._bridge import open_asyncio_engine as open_asyncio_engine
from engine._bridge import open_blocking_engine as open_blocking_engine
from engine._bridge import start_blocking_engine as start_blocking_engine
from engine._core._codec import FrozenDict as FrozenDict
from engine._core._codec import thaw as thaw
from engine._core._config import EngineConfig as EngineConfig
from engine._core._config import KindPolicy as KindPolicy
from engine._core._errors import BackendUnavailable as BackendUnavailable
from engine._core._errors import EngineClosed as EngineClosed
from engine._core._errors import EngineError as EngineError
from engine._core._errors import InvalidArgument as InvalidArgument
from engine._core._errors import JournalUnavailable as JournalUnavailable
from engine._core._errors import MemoryLimitExceeded as MemoryLimitExceeded
from engine._core._errors import NotFound as NotFound
from engine._core._errors import Overloaded as Overloaded
from engine._core._errors import OwnershipError as OwnershipError
from engine._core._errors import WrongThread as WrongThread
from engine._core._items import ChannelBlob as ChannelBlob
from engine._core._items import Checkpoint as Checkpoint
from engine._core._items import Item as Item
from engine._core._items import ItemHit as ItemHit
from engine._core._items import PendingWrite as PendingWrite
from engine._core._items import SavedCheckpoint as SavedCheckpoint
from engine._core._module_metadata import fixup_module_metadata as _fixup
from engine._core._records import KnowledgeDoc as KnowledgeDoc
from engine._core._records import Message as Message
from engine._core._records import Run as Run
from engine._core._records import Session as Session
from engine._core._records import SessionSummary as SessionSummary
from engine._core._records import UserMemory as UserMemory
from engine._core._records import WorkingMemory as WorkingMemory
from engine._core._routing import shard_of as shard_of
from engine._core._statistics import EngineStatistics as EngineStatistics
from engine._core._statistics import ShardStatistics as ShardStatistics
from engine._core._statistics import StoreCounts as StoreCounts
from engine._core._validate import DEFAULT as DEFAULT
from engine._durable._format import JournalCorrupt as JournalCorrupt
from engine._durable._inspect import DataDirReport as DataDirReport
from engine._durable._inspect import ShardReport as ShardReport
from engine._durable._inspect import inspect_data_dir as inspect_data_dir
from engine._embedded._engine import MemoryEngine as MemoryEngine
from engine._embedded._engine import open_memory_engine as open_memory_engine
from engine._redis._open import open_redis_memory as open_redis_memory
from engine._store._expiry import ExpiryIndex as ExpiryIndex
from engine._store._store import ShardStore as ShardStore

__all__ = [
    "ChannelBlob",
    "Checkpoint",
    "Checkpoints",
    "Item",
    "ItemHit",
    "Items",
    "PendingWrite",
    "SavedCheckpoint",
    "DEFAULT",
    "AsyncioEngine",
    "AsyncioPipeline",
    "BlockingEngine",
    "BlockingPipeline",
    "WrongThread",
    "open_asyncio_engine",
    "open_blocking_engine",
    "start_blocking_engine",
    "BackendUnavailable",
    "EngineClosed",
    "EngineConfig",
    "EngineError",
    "EngineStatistics",
    "DataDirReport",
    "ExpiryIndex",
    "FrozenDict",
    "InvalidArgument",
    "JournalCorrupt",
    "JournalUnavailable",
    "Knowledge",
    "KindPolicy",
    "KnowledgeDoc",
    "Memories",
    "MemoryLimitExceeded",
    "MemoryEngine",
    "Message",
    "NotFound",
    "Overloaded",
    "Pipeline",
    "PipelineResult",
    "OwnershipError",
    "Run",
    "Session",
    "SessionSummary",
    "ShardReport",
    "ShardStatistics",
    "ShardStore",
    "Sessions",
    "StoreCounts",
    "UserMemory",
    "Working",
    "WorkingMemory",
    "inspect_data_dir",
    "open_memory_engine",
    "open_redis_memory",
    "shard_of",
    "thaw",
]

try:
    __version__: str = _version("shardmem")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree never installed
    __version__ = "0+unknown"

_fixup(__name__, globals(), __all__)
del _fixup
