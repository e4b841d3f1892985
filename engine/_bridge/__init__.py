"""The thread bridge: the engine usable from any thread and any asyncio loop.

A dedicated daemon thread runs ``trio.run`` and owns the engine; blocking and asyncio
callers reach it through a cross-thread :class:`~engine._bridge._mailbox.Mailbox`.
The blocking and asyncio facades are generated from the trio ones.
"""

from engine._bridge._handles import AsyncioEngine as AsyncioEngine
from engine._bridge._handles import BlockingEngine as BlockingEngine
from engine._bridge._open import attach_blocking as attach_blocking
from engine._bridge._open import open_asyncio_engine as open_asyncio_engine
from engine._bridge._open import open_blocking_engine as open_blocking_engine
from engine._bridge._open import start_blocking_engine as start_blocking_engine
from engine._bridge._pipelines import AsyncioPipeline as AsyncioPipeline
from engine._bridge._pipelines import BlockingPipeline as BlockingPipeline

__all__ = [
    "AsyncioEngine",
    "AsyncioPipeline",
    "BlockingEngine",
    "BlockingPipeline",
    "attach_blocking",
    "open_asyncio_engine",
    "open_blocking_engine",
    "start_blocking_engine",
]
