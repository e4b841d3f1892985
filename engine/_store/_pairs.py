"""Sorted ``(timestamp, id)`` pairs packed as flat tuples: one pointer per value, no
tuple per entry.

A *flat* run of n pairs is one tuple ``(t0, ..., t(n-1), id0, ..., id(n-1))``: the
timestamps first, then the ids, both in ``(timestamp, id)`` order. It holds the very
float and ``str`` objects the rows hold, so an entry costs two pointers (16 bytes)
instead of a 2-tuple (64 bytes with its allocator overhead) plus a pointer; and it is
a tuple of atomic values, so the cyclic GC untracks it. Lookups bisect the timestamp
half with ``bisect``'s ``lo``/``hi`` bounds, then the ids of equal timestamps.

:class:`PairChunks` keeps a big sorted run as a list of flat chunks (as
:class:`~engine._store._chunked.ChunkedSortedList` keeps tuple chunks): the collector
visits one pointer per chunk, and an insert or a removal rebuilds one chunk of at most
:data:`PAIR_CHUNK` pairs. Entries past the end (timestamps mostly grow) open a new
chunk once the last is full instead of splitting it, so an append-only run keeps its
chunks full (a split leaves two half-full chunks, and appends never refill the
first): half as many chunks to bisect and to visit. (The bytes per entry do not
depend on the fill: a tuple is allocated to its exact size.)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Final

__all__ = [
    "PAIR_CHUNK",
    "PairChunks",
    "flat_between",
    "flat_find",
    "flat_insert",
    "flat_of",
    "flat_pairs",
    "flat_without",
]

#: The most pairs a chunk holds; a chunk that grows past it is split in two.
PAIR_CHUNK: Final = 128

Flat = tuple[Any, ...]


def flat_of(pairs: list[tuple[Any, Any]]) -> Flat:
    """The flat tuple of sorted ``pairs``. O(n)."""
    return (*[t for t, _ in pairs], *[i for _, i in pairs])


def _position(flat: Flat, timestamp: Any, ident: Any) -> tuple[int, bool]:
    """Where ``(timestamp, ident)`` is, or would go, in ``flat``; and whether it is
    there. O(log n)."""
    n = len(flat) >> 1
    low = bisect_left(flat, timestamp, 0, n)
    high = bisect_right(flat, timestamp, low, n)
    if low == high:
        return low, False
    position = bisect_left(flat, ident, n + low, n + high) - n
    return position, position < high and flat[n + position] == ident


def flat_find(flat: Flat, timestamp: Any, ident: Any) -> bool:
    """Whether ``flat`` holds ``(timestamp, ident)``. O(log n)."""
    return _position(flat, timestamp, ident)[1]


def flat_insert(flat: Flat, timestamp: Any, ident: Any) -> Flat:
    """``flat`` with ``(timestamp, ident)`` inserted in order. O(n) (one copy)."""
    n = len(flat) >> 1
    at, _ = _position(flat, timestamp, ident)
    return (*flat[:at], timestamp, *flat[at : n + at], ident, *flat[n + at :])


def flat_without(flat: Flat, timestamp: Any, ident: Any) -> Flat | None:
    """``flat`` without ``(timestamp, ident)``, or ``None`` if it lacks it. O(n)."""
    n = len(flat) >> 1
    at, found = _position(flat, timestamp, ident)
    if not found:
        return None
    return flat[:at] + flat[at + 1 : n + at] + flat[n + at + 1 :]


def flat_pairs(flat: Flat, low: int, high: int, descending: bool) -> Iterator[tuple[Any, Any]]:
    """The pairs ``low <= i < high`` of ``flat`` as ``(timestamp, id)`` tuples."""
    n = len(flat) >> 1
    if descending:
        return zip(reversed(flat[low:high]), reversed(flat[n + low : n + high]), strict=True)
    return zip(islice(flat, low, high), islice(flat, n + low, n + high), strict=True)


def flat_between(flat: Flat, since: Any, until: Any) -> tuple[int, int]:
    """The index range of the pairs with ``since <= t < until`` (``None``: unbounded)."""
    n = len(flat) >> 1
    low = 0 if since is None else bisect_left(flat, since, 0, n)
    high = n if until is None else bisect_left(flat, until, low, n)
    return low, high


class PairChunks:
    """A sorted run of unique ``(timestamp, id)`` pairs in flat chunks.

    Complexity (n pairs): ``add``/``take`` O(log n + PAIR_CHUNK); ``scan`` O(log n + k)
    for k pairs taken; ``len`` O(1).
    """

    __slots__ = ("_chunks", "_len", "_maxes")

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = ()) -> None:
        ordered = sorted(pairs)
        self._chunks: list[Flat] = [
            flat_of(ordered[i : i + PAIR_CHUNK]) for i in range(0, len(ordered), PAIR_CHUNK)
        ]
        #: each chunk's last pair, for bisection (one tuple per chunk)
        self._maxes: list[tuple[Any, Any]] = [
            (chunk[(len(chunk) >> 1) - 1], chunk[-1]) for chunk in self._chunks
        ]
        self._len = len(ordered)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self.scan(False, None, None)

    def _store(self, index: int, chunk: Flat) -> None:
        self._chunks[index] = chunk
        self._maxes[index] = (chunk[(len(chunk) >> 1) - 1], chunk[-1])

    def add(self, timestamp: Any, ident: Any) -> None:
        """Insert ``(timestamp, ident)`` (not already present) in order."""
        chunks = self._chunks
        if not chunks:
            chunks.append((timestamp, ident))
            self._maxes.append((timestamp, ident))
            self._len = 1
            return
        index = bisect_right(self._maxes, (timestamp, ident))
        if index == len(chunks):  # past the end (the usual case: timestamps grow)
            index -= 1
            if len(chunks[index]) >> 1 == PAIR_CHUNK:  # full: open a chunk, keep it full
                chunks.append((timestamp, ident))
                self._maxes.append((timestamp, ident))
                self._len += 1
                return
        grown = flat_insert(chunks[index], timestamp, ident)
        pairs = len(grown) >> 1
        if pairs > PAIR_CHUNK:  # split: two half-full chunks
            half = pairs >> 1
            first = grown[:half] + grown[pairs : pairs + half]
            second = grown[half:pairs] + grown[pairs + half :]
            chunks[index : index + 1] = [first, second]
            self._maxes[index : index + 1] = [
                (first[half - 1], first[-1]),
                (second[pairs - half - 1], second[-1]),
            ]
        else:
            self._store(index, grown)
        self._len += 1

    def has(self, timestamp: Any, ident: Any) -> bool:
        """Whether ``(timestamp, ident)`` is stored. O(log n)."""
        index = bisect_left(self._maxes, (timestamp, ident))
        return index < len(self._chunks) and flat_find(self._chunks[index], timestamp, ident)

    def take(self, timestamp: Any, ident: Any) -> bool:
        """Remove ``(timestamp, ident)``; whether it was there."""
        index = bisect_left(self._maxes, (timestamp, ident))
        if index == len(self._chunks):
            return False
        rest = flat_without(self._chunks[index], timestamp, ident)
        if rest is None:
            return False
        if rest:
            self._store(index, rest)
        else:
            del self._chunks[index], self._maxes[index]
        self._len -= 1
        return True

    def scan(self, descending: bool, since: Any, until: Any) -> Iterator[tuple[Any, Any]]:
        """The pairs with ``since <= t < until`` (``None``: unbounded), in order."""
        chunks = self._chunks
        start = 0 if since is None else bisect_left(self._maxes, (since,))
        end = len(chunks) if until is None else bisect_left(self._maxes, (until,)) + 1
        end = min(end, len(chunks))
        # by index, not over a slice: no O(chunks) copy before the first pair
        order = range(end - 1, start - 1, -1) if descending else range(start, end)
        for index in order:
            chunk = chunks[index]
            yield from flat_pairs(chunk, *flat_between(chunk, since, until), descending)

    def _check(self) -> None:
        """Assert invariants (for tests). O(n)."""
        assert len(self._chunks) == len(self._maxes)
        assert self._len == sum(len(chunk) >> 1 for chunk in self._chunks)
        previous = None
        for chunk, maximum in zip(self._chunks, self._maxes, strict=True):
            n = len(chunk) >> 1
            assert type(chunk) is tuple and len(chunk) % 2 == 0 and 0 < n <= PAIR_CHUNK
            assert (chunk[n - 1], chunk[-1]) == maximum
            for pair in zip(chunk[:n], chunk[n:], strict=True):
                assert previous is None or previous < pair
                previous = pair
