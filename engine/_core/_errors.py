"""The engine's error hierarchy. Each error also subclasses the matching builtin."""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "EngineClosed",
    "EngineError",
    "InvalidArgument",
    "JournalUnavailable",
    "MemoryLimitExceeded",
    "NotFound",
    "Overloaded",
    "OwnershipError",
    "WrongThread",
]


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class NotFound(EngineError, LookupError):
    """The record does not exist, has expired, or belongs to another user."""


class OwnershipError(EngineError, PermissionError):
    """A write would take over a record owned by another user."""


class InvalidArgument(EngineError, ValueError):
    """An argument has the right type but a value outside what is allowed."""


class Overloaded(EngineError, RuntimeError):
    """A shard's mailbox is full and the engine was configured to reject, not wait."""


class MemoryLimitExceeded(Overloaded):
    """The store's memory budget is spent and its policy is not to evict: on Redis a
    write refused by ``maxmemory`` with ``maxmemory-policy noeviction`` (the server's
    ``OOM`` error). Reads and deletes keep working; retry once memory is freed."""


class EngineClosed(EngineError, RuntimeError):
    """The engine was closed (its ``async with`` block has exited)."""


class JournalUnavailable(EngineError, OSError):
    """A durable shard cannot write its journal (disk full, permissions, I/O error).

    Like Redis' ``MISCONF``: the shard refuses writes with this error until its
    journal can be written again, and keeps serving reads; other shards are not
    affected. A write that gets this error was not acknowledged: it may already be
    visible in memory and become durable when the disk recovers (retry it: writes are
    idempotent), or be lost if the process stops first.
    """


class BackendUnavailable(EngineError, ConnectionError):
    """The storage server (Redis/Valkey) could not be reached or did not answer in time."""


class WrongThread(EngineError, RuntimeError):
    """The engine was called from a thread (or trio run) where that cannot work: a
    trio engine from outside its own run, or a blocking call from the engine's own
    thread (it would deadlock). The message says what to use instead."""


def wrong_thread() -> WrongThread:
    """The error for a trio engine called from outside the trio run that owns it."""
    return WrongThread(
        "this engine belongs to a trio run in another thread; trio engines are not "
        "thread-safe. From other threads use engine.open_blocking_engine() / "
        "open_asyncio_engine(), or hand them mem.blocking() from inside the trio run"
    )
