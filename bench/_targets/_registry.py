"""The one registry of target names: what ``--target`` accepts, and how each opens."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from bench._targets._engine import open_engine_target
from bench._targets._lock import open_lock_target
from bench._targets._peer_targets import register_peer_targets
from bench._targets._protocol import Target
from bench._targets._redis import register_redis_targets

__all__ = ["TARGETS", "TargetFactory"]

#: Opens the store under test for one run, from the run's ``BenchOptions``.
TargetFactory = Callable[[Any], AbstractAsyncContextManager[Target]]

#: Targets by name: each opens the store under test for one run.
TARGETS: dict[str, TargetFactory] = {
    "engine": lambda options: open_engine_target(
        shards=options.shards, data_dir=options.data_dir, fsync=options.fsync
    ),
    "lock": lambda options: open_lock_target(),
    **register_peer_targets(),  # agno, arshai, upsonic, langgraph (imported lazily)
    **register_redis_targets(),  # redis, redis-cluster, redis-naive (skipped without a server)
}
