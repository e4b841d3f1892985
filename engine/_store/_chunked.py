"""A sorted list kept in immutable chunks, so the cyclic GC skips its entries.

``sortedcontainers.SortedList`` keeps its values in plain ``list`` chunks, and CPython
tracks every list: a full collection visits every entry of every chunk (three passes,
one cache miss each), which with a few index entries per record is most of a full
collection's time at a million records. Here each chunk is a ``tuple``: a tuple of
untracked entries (``(timestamp, id)``, ``(deadline, kind, key)``: atomic values) is
untracked by the collector, so a collection visits one pointer per chunk, not one per
entry. The price: an insert or a removal rebuilds its chunk (a copy of at most
:data:`CHUNK` pointers), which costs about what a list insert's memmove does. A value
past the end (deadlines and timestamps mostly grow) opens a new chunk once the last is
full, instead of splitting it into two half-full chunks that appends never refill.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any, Final

__all__ = ["CHUNK", "ChunkedSortedList"]

#: The most entries a chunk holds; a chunk that grows past it is split in two.
CHUNK: Final = 128


class ChunkedSortedList:
    """A sorted list of mutually comparable, unique-enough values in tuple chunks.

    The subset of ``SortedList``'s interface the indexes use. Complexity (n values):
    ``add``/``remove``/``discard`` O(log n + CHUNK); iteration O(n); ``irange`` and
    ``islice(0, k)`` O(log n + k); ``len`` O(1).
    """

    __slots__ = ("_chunks", "_len", "_maxes")

    def __init__(self, values: Iterable[Any] = ()) -> None:
        ordered = sorted(values)
        self._chunks: list[tuple[Any, ...]] = [
            tuple(ordered[i : i + CHUNK]) for i in range(0, len(ordered), CHUNK)
        ]
        self._maxes: list[Any] = [chunk[-1] for chunk in self._chunks]
        self._len = len(ordered)

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Any]:
        for chunk in self._chunks:
            yield from chunk

    def __reversed__(self) -> Iterator[Any]:
        for chunk in reversed(self._chunks):
            yield from reversed(chunk)

    def __contains__(self, value: Any) -> bool:
        index = bisect_left(self._maxes, value)
        if index == len(self._maxes):
            return False
        chunk = self._chunks[index]
        position = bisect_left(chunk, value)
        return position < len(chunk) and chunk[position] == value

    def __getitem__(self, index: int) -> Any:
        """Only the first (``[0]``) and last (``[-1]``) values."""
        if not self._len:
            raise IndexError("ChunkedSortedList index out of range")
        if index == 0:
            return self._chunks[0][0]
        if index == -1:
            return self._chunks[-1][-1]
        raise IndexError("ChunkedSortedList supports only [0] and [-1]")

    def add(self, value: Any) -> None:
        """Insert ``value`` in order."""
        maxes, chunks = self._maxes, self._chunks
        if not chunks:
            chunks.append((value,))
            maxes.append(value)
            self._len = 1
            return
        index = bisect_right(maxes, value)
        if index == len(chunks):  # past the end (deadlines mostly grow)
            index -= 1
            if len(chunks[index]) == CHUNK:  # full: open a chunk, keep this one full
                chunks.append((value,))
                maxes.append(value)
                self._len += 1
                return
        chunk = chunks[index]
        position = bisect_right(chunk, value)
        grown = (*chunk[:position], value, *chunk[position:])
        if len(grown) > CHUNK:  # split: two half-full chunks
            half = len(grown) // 2
            chunks[index : index + 1] = [grown[:half], grown[half:]]
            maxes[index : index + 1] = [grown[half - 1], grown[-1]]
        else:
            chunks[index] = grown
            maxes[index] = grown[-1]
        self._len += 1

    def _delete(self, value: Any, strict: bool) -> None:
        maxes, chunks = self._maxes, self._chunks
        index = bisect_left(maxes, value)
        if index < len(chunks):
            chunk = chunks[index]
            position = bisect_left(chunk, value)
            if position < len(chunk) and chunk[position] == value:
                rest = chunk[:position] + chunk[position + 1 :]
                if rest:
                    chunks[index] = rest
                    maxes[index] = rest[-1]
                else:
                    del chunks[index], maxes[index]
                self._len -= 1
                return
        if strict:
            raise ValueError(f"{value!r} not in list")

    def remove(self, value: Any) -> None:
        """Remove ``value``; raises ``ValueError`` if absent."""
        self._delete(value, True)

    def discard(self, value: Any) -> None:
        """Remove ``value`` if present."""
        self._delete(value, False)

    def pop_first(self) -> Any:
        """Remove and return the smallest value. O(CHUNK)."""
        chunk = self._chunks[0]
        if len(chunk) == 1:
            del self._chunks[0], self._maxes[0]
        else:
            self._chunks[0] = chunk[1:]
        self._len -= 1
        return chunk[0]

    def update(self, values: Iterable[Any]) -> None:
        """Add every value of ``values`` (one sort of everything: for bulk loading)."""
        merged = ChunkedSortedList([*self, *values])
        self._chunks, self._maxes, self._len = merged._chunks, merged._maxes, merged._len

    def first(self, k: int) -> list[Any]:
        """The ``k`` smallest values, in order. O(k)."""
        found: list[Any] = []
        for chunk in self._chunks:
            found.extend(chunk[: k - len(found)])
            if len(found) >= k:
                break
        return found

    def irange(
        self,
        minimum: Any = None,
        maximum: Any = None,
        inclusive: tuple[bool, bool] = (True, True),
        reverse: bool = False,
    ) -> Iterator[Any]:
        """The values between ``minimum`` and ``maximum`` (``None``: unbounded), as
        ``SortedList.irange``."""
        if reverse:
            return self._between_reversed(minimum, maximum, inclusive)
        return self._between(minimum, maximum, inclusive)

    def _between_reversed(
        self, minimum: Any, maximum: Any, inclusive: tuple[bool, bool]
    ) -> Iterator[Any]:
        maxes, chunks = self._maxes, self._chunks
        end = len(chunks) if maximum is None else min(bisect_left(maxes, maximum) + 1, len(chunks))
        for chunk in reversed(chunks[:end]):
            for value in reversed(chunk):
                if maximum is not None and (
                    value > maximum or (not inclusive[1] and value == maximum)
                ):
                    continue
                if minimum is not None and (
                    value < minimum or (not inclusive[0] and value == minimum)
                ):
                    return
                yield value

    def _between(self, minimum: Any, maximum: Any, inclusive: tuple[bool, bool]) -> Iterator[Any]:
        maxes, chunks = self._maxes, self._chunks
        start = 0 if minimum is None else bisect_left(maxes, minimum)
        for chunk in chunks[start:]:
            for value in chunk:
                if minimum is not None and (
                    value < minimum or (not inclusive[0] and value == minimum)
                ):
                    continue
                if maximum is not None and (
                    value > maximum or (not inclusive[1] and value == maximum)
                ):
                    return
                yield value

    def clear(self) -> None:
        """Remove every value."""
        self._chunks.clear()
        self._maxes.clear()
        self._len = 0

    def _check(self) -> None:
        """Assert invariants (for tests). O(n)."""
        assert len(self._chunks) == len(self._maxes)
        assert self._len == sum(len(chunk) for chunk in self._chunks)
        previous = None
        for chunk, maximum in zip(self._chunks, self._maxes, strict=True):
            assert chunk and len(chunk) <= CHUNK and type(chunk) is tuple
            assert chunk[-1] == maximum
            for value in chunk:
                assert previous is None or previous <= value
                previous = value
