"""The memory budget of one shard: what a record costs, and which record goes first.

A record's cost (:func:`row_cost`) is its payload — the characters of its text
fields and the bytes of its encoded payloads, runs and summary — plus a fixed
overhead for what holding it takes (the row tuple, its table slot, its index entries
and deadline): :data:`RECORD_OVERHEAD` per record and :data:`ITEM_OVERHEAD` per run
or topic. The constants are the measured ``bytes per record beyond payload`` of
``shardmem bench memory`` (docs/benchmarks.md), rounded up, so the budget tracks
the process' real growth without asking the allocator.

The eviction policies are Redis' ``maxmemory-policy`` (see :class:`Eviction`).
Whole records are the unit: a session goes with all its runs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Final

from engine._store._chunked import ChunkedSortedList
from engine._store._expiry import ExpiryIndex

__all__ = ["ITEM_OVERHEAD", "RECORD_OVERHEAD", "Eviction", "field_cost", "row_cost", "run_cost"]

RECORD_OVERHEAD: Final = 400
"""Bytes accounted per record on top of its payload."""
ITEM_OVERHEAD: Final = 64
"""Bytes accounted per run of a session and per topic of a user memory."""

Ident = tuple[int, Hashable]


def row_cost(row: tuple[Any, ...]) -> int:
    """The bytes a row accounts for: payload plus overhead. O(fields + runs)."""
    cost = RECORD_OVERHEAD
    for value in row[3:]:
        kind = type(value)
        if kind is str or kind is bytes:
            cost += len(value)
        elif kind is tuple:  # runs or topics: str/bytes items, summed in C
            cost += ITEM_OVERHEAD * len(value) + sum(map(len, value))
    return cost


def field_cost(value: Any) -> int:
    """What one field of a row (after the timestamps) adds to :func:`row_cost`."""
    kind = type(value)
    if kind is str or kind is bytes:
        return len(value)
    if kind is tuple:
        return ITEM_OVERHEAD * len(value) + sum(map(len, value))
    return 0


def run_cost(run_id: str, data: bytes) -> int:
    """What one run adds to its session row's :func:`row_cost`: its id and its
    encoded bytes, each an item of one of the row's two run tuples. O(1)."""
    return 2 * ITEM_OVERHEAD + len(run_id) + len(data)


class Eviction:
    """Which record a shard evicts next, for one ``eviction_policy``.

    - ``noeviction``: none (the write fails instead).
    - ``volatile-ttl``: the record with the soonest deadline (the expiry index's
      first entry of one of ``kinds``), O(log n + the deadlines of other kinds
      before it).
    - ``volatile-lru`` / ``allkeys-lru``: the least recently written or read record
      (of those with a TTL / of all), kept in an ``OrderedDict``: O(1) per access.
    - ``allkeys-lfu``: the record with the fewest accesses (writes and point reads),
      the least recent first among equals: a sorted list of ``(count, tick, ident)``,
      O(log n) per access. Unlike Redis' LFU the counts are exact and never decay.

    Args:
        policy: one of ``EVICTION_POLICIES``.
        kinds: the record kinds the budget accounts (``engine._store._base``); only
            their records are ever evicted.

    "Read" means a point read (the reads that can refresh a TTL); listing does not
    count, as for ``refresh_on_read``.
    """

    __slots__ = (
        "_counts",
        "_kinds",
        "_lru",
        "_ranked",
        "_tick",
        "counts_reads",
        "counts_writes",
        "policy",
    )

    def __init__(self, policy: str, kinds: frozenset[int]) -> None:
        self.policy = policy
        #: Whether :meth:`read` does anything (the LRU and LFU policies).
        self.counts_reads = policy in ("allkeys-lru", "volatile-lru", "allkeys-lfu")
        #: Whether :meth:`written` does anything (the same policies).
        self.counts_writes = self.counts_reads
        self._kinds = kinds
        self._lru: OrderedDict[Ident, None] = OrderedDict()
        self._counts: dict[Ident, tuple[int, int]] = {}
        self._ranked = ChunkedSortedList()
        self._tick = 0

    def written(self, ident: Ident, volatile: bool) -> None:
        """A record was stored (``volatile``: it has a deadline)."""
        policy = self.policy
        if policy == "allkeys-lru" or (policy == "volatile-lru" and volatile):
            self._lru[ident] = None
            self._lru.move_to_end(ident)
        elif policy == "volatile-lru":
            self._lru.pop(ident, None)
        elif policy == "allkeys-lfu":
            self._count(ident)

    def read(self, ident: Ident) -> None:
        """A record was read by a point read."""
        policy = self.policy
        if policy == "allkeys-lfu":
            self._count(ident)
        elif ident in self._lru:
            self._lru.move_to_end(ident)

    def _count(self, ident: Ident) -> None:
        self._tick += 1
        old = self._counts.get(ident)
        count = 1
        if old is not None:
            self._ranked.remove((*old, ident))
            count = old[0] + 1
        entry = (count, self._tick)
        self._counts[ident] = entry
        self._ranked.add((*entry, ident))  # ticks are unique: idents never compared

    def removed(self, ident: Ident) -> None:
        """A record left the store (deleted, expired or evicted)."""
        if self._lru:
            self._lru.pop(ident, None)
        old = self._counts.pop(ident, None)
        if old is not None:
            self._ranked.remove((*old, ident))

    def victim(self, expiry: ExpiryIndex, keep: Ident) -> Ident | None:
        """The next record to evict, never ``keep`` (the one being written); ``None``
        when there is none. O(log n)."""
        policy = self.policy
        if policy == "volatile-ttl":
            kinds = self._kinds  # deadlines of other kinds (not accounted) are skipped
            candidates: Any = (ident for ident in expiry.in_order() if ident[0] in kinds)
        elif policy == "allkeys-lfu":
            candidates = (entry[2] for entry in self._ranked.first(2))
        elif policy == "noeviction":
            return None
        else:
            candidates = iter(self._lru)
        for ident in candidates:  # ``keep`` is at most one of them
            if ident != keep:
                return ident  # type: ignore[no-any-return]
        return None

    def clear(self) -> None:
        """Forget every record."""
        self._lru.clear()
        self._counts.clear()
        self._ranked.clear()
