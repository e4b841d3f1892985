"""A small, bounded cache of decoded runs: history reads decode each run once.

A session row keeps its runs as encoded bytes (``engine._core._rows``). An agent reads
the last few runs of its session before every turn, so the same runs are decoded turn
after turn; :class:`DecodedRuns` keeps the :class:`Run` records of the runs decoded
last, keyed by the encoded bytes themselves. Equal bytes decode to equal records, so a
hit is always right — whatever session the bytes came from, even after a rewrite or a
recovery (a stale entry cannot exist, only an unused one) — and nothing has to be
invalidated. The records are frozen and shared between reads, as before rows.

Bounded by two generations of at most ``size`` runs each: a hit in the older
generation moves the run to the young one; when the young generation is full it
becomes the old one and the previous old one is dropped (an approximate LRU, O(1) per
read). The cached records are ordinary GC-tracked objects, so the bound also bounds
what they add to a full collection (a few objects per run).
"""

from __future__ import annotations

from typing import Final

from engine._core._encoded import run_of
from engine._core._records import Run

__all__ = ["DECODED_RUNS", "DecodedRuns"]

DECODED_RUNS: Final = 256
"""Runs per generation of a shard's cache (at most twice as many are cached)."""


class DecodedRuns:
    """Decoded runs by their encoded bytes (see the module docstring).

    Args:
        size: runs per generation, >= 1.
    """

    __slots__ = ("_old", "_size", "_young")

    def __init__(self, size: int = DECODED_RUNS) -> None:
        self._size = size
        self._young: dict[bytes, Run] = {}
        self._old: dict[bytes, Run] = {}

    def run(self, data: bytes) -> Run:
        """The :class:`Run` of ``data`` (``engine._core._encoded.encode_run``'s bytes).

        O(1) on a hit, O(size of the run) on a miss.
        """
        run = self._young.get(data)
        if run is not None:
            return run
        run = self._old.pop(data, None)
        if run is None:
            run = run_of(data)
        self.add(data, run)
        return run

    def add(self, data: bytes, run: Run) -> None:
        """Cache ``run`` as the decoded ``data``: only a run equal to what
        :func:`run_of` returns for ``data`` (the run just encoded to it). O(1)."""
        young = self._young
        if len(young) >= self._size:
            self._old = young
            young = self._young = {}
        young[data] = run

    def clear(self) -> None:
        """Forget every cached run."""
        self._young = {}
        self._old = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)
