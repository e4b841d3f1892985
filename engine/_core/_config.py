"""Validated engine configuration."""

from __future__ import annotations

from typing import Any, Final

import attrs

from engine._core._errors import InvalidArgument
from engine._core._size import MAX_RECORD_SIZE, check_record_size
from engine._core._validate import DEFAULT, check_choice, check_ttl

__all__ = ["EVICTION_POLICIES", "KIND_NAMES", "EngineConfig", "KindPolicy"]

EVICTION_POLICIES: Final = (
    "noeviction",
    "volatile-ttl",
    "volatile-lru",
    "allkeys-lru",
    "allkeys-lfu",
)
"""The ``EngineConfig.eviction_policy`` values: Redis' ``maxmemory-policy`` names."""

KIND_NAMES: Final = ("sessions", "memories", "working", "knowledge")
WORKING_MEMORY_TTL: Final = 12 * 3600.0  # seconds; Arshai's working-memory default


def _ttl(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_ttl(f"{type(instance).__name__}.{attribute.name}", value)


def _bool(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not bool:
        raise TypeError(f"{type(instance).__name__}.{attribute.name}: expected bool, got {value!r}")


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    name = f"{type(instance).__name__}.{attribute.name}"
    if type(value) is not int:
        raise TypeError(f"{name}: expected a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise InvalidArgument(f"{name}: expected a positive int, got {value!r}")


def _compact_factor(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"EngineConfig.compact_factor: expected a number > 1, got {value!r}")
    if not value > 1 or value != value or value == float("inf"):
        raise InvalidArgument(f"EngineConfig.compact_factor: expected a number > 1, got {value!r}")


_MAX_RECORD_SIZE_CAP: Final = 256 << 20  # bytes; JSON of such a record fits a journal frame


def _record_size(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    _positive_int(instance, attribute, value)
    if not 1024 <= value <= _MAX_RECORD_SIZE_CAP:
        raise InvalidArgument(
            f"EngineConfig.max_record_size: expected bytes in [1024, {_MAX_RECORD_SIZE_CAP}], "
            f"got {value!r}"
        )


def _optional_positive_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _embedder(instance: object, attribute: object, value: object) -> None:
    if value is not None and not callable(value):
        raise TypeError(
            f"EngineConfig.embedder: expected a function of a list of texts or None, "
            f"got {type(value).__name__}"
        )


@attrs.frozen(kw_only=True)
class KindPolicy:
    """The TTL policy of one record kind.

    Attributes:
        default_ttl: seconds a write lives when it passes no ``ttl=``; ``None`` = never.
        refresh_on_read: a successful point read (``get``, ``retrieve``, ``runs``,
            ``messages``, ``get_summary``, and the memories a ``search`` returns)
            restarts the record's TTL (sliding expiry). Lists never refresh.
        refresh_on_update: a partial update (append a run, rename, set a summary,
            ``working.update``) restarts the record's TTL. A full write (upsert,
            ``working.store``) always sets a new TTL.

    A restarted TTL runs for the TTL the record was last written with.
    """

    default_ttl: float | None = attrs.field(default=None, validator=_ttl)
    refresh_on_read: bool = attrs.field(default=False, validator=_bool)
    refresh_on_update: bool = attrs.field(default=True, validator=_bool)


@attrs.frozen(kw_only=True)
class EngineConfig:
    """Engine settings. Every field is validated at construction.

    Attributes:
        shards: number of shards (owner tasks), >= 1.
        mailbox_size: each shard's mailbox bound, in requests (default 4096). Beyond
            it, a caller waits in trio's channel for space (``when_full="wait"``),
            which costs one more task switch per request: size it above the number
            of concurrent callers per shard. Measured with ``bench/`` at 10,000
            clients on 4 shards: 4096 serves ~30% more requests per second than 1024.
        timer_batch: most expiries a shard runs between two checkpoints.
        max_batch: most requests a shard serves per wake-up (``None``: all queued).
            With a ``data_dir``, ``1`` disables group commit (one fsync per write) —
            a benchmark baseline, not a setting for production.
        when_full: ``"wait"`` (backpressure: a request waits for mailbox space) or
            ``"reject"`` (raise ``Overloaded`` at once).
        fsync: with a ``data_dir``, when the journal is fsynced: ``"always"`` (before
            a write is acknowledged), ``"everysec"`` (once a second) or ``"no"`` (by
            the OS) — Redis' ``appendfsync``. Ignored without a ``data_dir``.
        compact_factor: compact a shard's journal into a snapshot when it grows past
            this many times the snapshot's size (> 1)...
        compact_min_bytes: ...and past this many bytes.
        max_record_size: the largest write accepted, in bytes of its UTF-8 JSON
            encoding: one session upsert with its runs, one appended run, one summary,
            one user memory, one working memory or one knowledge doc (default 16 MiB,
            at most 256 MiB). A bigger write raises ``InvalidArgument`` before it
            reaches a shard, so a huge record never stalls a shard and every
            acknowledged write fits a journal frame. A session made of many runs may
            grow past it in total: each run is its own write.
        sessions, memories, working, knowledge: the :class:`KindPolicy` of each kind.
            Working memory defaults to a 12 h TTL (as Arshai), the others to never.
        max_memory: the memory budget in bytes (Redis' ``maxmemory``), or ``None``
            (default) for none. Split evenly across the shards (each holds at most
            ``max_memory // shards``), accounted per record as its payload plus a
            fixed overhead (see ``docs/memory.md``). At least 4096 per shard.
        eviction_policy: what a write does when its shard's budget is spent, one of
            :data:`EVICTION_POLICIES` (Redis' ``maxmemory-policy``):
            ``"noeviction"`` (default; the write raises ``MemoryLimitExceeded``,
            reads and deletes keep working), ``"volatile-ttl"`` (evict the records
            with a TTL, soonest deadline first), ``"volatile-lru"`` (those with a
            TTL, least recently used first), ``"allkeys-lru"`` (any record, least
            recently used first) or ``"allkeys-lfu"`` (any record, least frequently
            used first). A whole session (with its runs) is the unit of eviction.
            Items and checkpoints (``mem.items``, ``mem.checkpoints``) are
            outside the budget: neither accounted nor evicted.
        embedder: ``None``, or a function from a list of texts to one vector (list of
            floats) per text; with it, ``mem.memories`` embeds each memory it stores
            and searches with ``method="semantic"`` or ``"hybrid"``. It runs in a
            worker thread, never on a shard.
    """

    shards: int = attrs.field(default=4, validator=_positive_int)
    mailbox_size: int = attrs.field(default=4096, validator=_positive_int)
    timer_batch: int = attrs.field(default=256, validator=_positive_int)
    max_batch: int | None = attrs.field(default=None, validator=_optional_positive_int)
    when_full: str = attrs.field(
        default="wait",
        validator=lambda i, a, v: check_choice("EngineConfig.when_full", v, ("wait", "reject")),
    )
    fsync: str = attrs.field(
        default="everysec",
        validator=lambda i, a, v: check_choice(
            "EngineConfig.fsync", v, ("always", "everysec", "no")
        ),
    )
    compact_factor: float = attrs.field(default=2.0, validator=_compact_factor)
    compact_min_bytes: int = attrs.field(default=1 << 20, validator=_positive_int)
    max_record_size: int = attrs.field(default=MAX_RECORD_SIZE, validator=_record_size)
    sessions: KindPolicy = attrs.field(factory=KindPolicy)
    memories: KindPolicy = attrs.field(factory=KindPolicy)
    working: KindPolicy = attrs.field(factory=lambda: KindPolicy(default_ttl=WORKING_MEMORY_TTL))
    knowledge: KindPolicy = attrs.field(factory=KindPolicy)
    max_memory: int | None = attrs.field(default=None, validator=_optional_positive_int)
    eviction_policy: str = attrs.field(
        default="noeviction",
        validator=lambda i, a, v: check_choice(
            "EngineConfig.eviction_policy", v, EVICTION_POLICIES
        ),
    )
    embedder: Any = attrs.field(default=None, validator=_embedder)

    def __attrs_post_init__(self) -> None:
        if self.max_memory is not None and self.max_memory < 4096 * self.shards:
            raise InvalidArgument(
                f"EngineConfig.max_memory: expected at least 4096 bytes per shard "
                f"({4096 * self.shards} for {self.shards} shards), got {self.max_memory!r}"
            )

    @property
    def shard_memory(self) -> int | None:
        """Each shard's share of :attr:`max_memory` (bytes), or ``None``."""
        return None if self.max_memory is None else self.max_memory // self.shards

    def policy(self, kind: str) -> KindPolicy:
        """The :class:`KindPolicy` of ``kind`` (one of ``KIND_NAMES``)."""
        policy: KindPolicy = getattr(self, check_choice("kind", kind, KIND_NAMES))
        return policy

    def check_size(self, name: str, record: Any) -> None:
        """Check one write of ``record`` against :attr:`max_record_size`.

        Raises:
            InvalidArgument: naming ``name``, the limit and the record's size.
        """
        check_record_size(name, record, self.max_record_size)

    def resolve_ttl(self, kind: str, ttl: object) -> float | None:
        """The TTL of a write of ``kind`` given ``ttl=``: ``DEFAULT`` -> the kind's
        default TTL; else ``ttl`` validated (seconds > 0, or ``None`` for no expiry).

        Raises:
            TypeError, InvalidArgument: for a bad ``ttl``.
        """
        if ttl is DEFAULT:
            return self.policy(kind).default_ttl
        return check_ttl("ttl", ttl)
