"""shardmem's benchmarks and its ``shardmem`` command line.

Run it as ``shardmem`` (or ``python -m bench``); see ``shardmem --help``. The programs
(``shardmem bench``, ``bench micro``, ``bench durable``, ``bench bridge``) and the ops
commands (``shardmem inspect``, ``shardmem compact``) are private subpackages; the public
names are :func:`main` and the :class:`Target` protocol types, for measuring a custom store
with the replay. ``inspect`` and ``compact`` need only the base dependencies; the
benchmarks need the ``bench`` extra.
"""

from bench._cli._main import main as main
from bench._targets._protocol import MemoryWrite as MemoryWrite
from bench._targets._protocol import PipelinedTarget as PipelinedTarget
from bench._targets._protocol import Target as Target
from bench._targets._protocol import TargetCounts as TargetCounts

__all__ = ["MemoryWrite", "PipelinedTarget", "Target", "TargetCounts", "main"]
