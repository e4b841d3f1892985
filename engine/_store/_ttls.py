"""The TTL (seconds) each record with a deadline was written with, per record kind.

A ``{kind: {key: ttl}}`` map behind the ``{(kind, key): ttl}`` mapping interface the
store uses: the keys are the very objects the tables hold, so a TTL costs one dict slot,
not a slot plus a ``(kind, key)`` tuple (56 bytes) per record.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping

__all__ = ["TTLs"]

Ident = tuple[int, Hashable]


class TTLs(Mapping[tuple[int, Hashable], float]):
    """``(kind, key) -> ttl`` (seconds), stored per kind; a read-only ``Mapping`` plus
    item assignment, deletion, ``pop`` and ``clear``. Every operation is O(1) (iteration
    O(n))."""

    __slots__ = ("_by_kind",)

    def __init__(self) -> None:
        self._by_kind: dict[int, dict[Hashable, float]] = {}

    def get(self, ident: Ident, default: None = None) -> float | None:  # type: ignore[override]
        """The TTL of ``(kind, key)``, or ``default``."""
        kind_ttls = self._by_kind.get(ident[0])
        return default if kind_ttls is None else kind_ttls.get(ident[1], default)

    def __getitem__(self, ident: Ident) -> float:
        """Raises ``KeyError`` when ``(kind, key)`` has no TTL."""
        kind_ttls = self._by_kind.get(ident[0])
        if kind_ttls is None:
            raise KeyError(ident)
        return kind_ttls[ident[1]]

    def __setitem__(self, ident: Ident, ttl: float) -> None:
        kind, key = ident
        kind_ttls = self._by_kind.get(kind)
        if kind_ttls is None:
            kind_ttls = self._by_kind[kind] = {}
        kind_ttls[key] = ttl

    def __delitem__(self, ident: Ident) -> None:
        """Raises ``KeyError`` when ``(kind, key)`` has no TTL."""
        kind_ttls = self._by_kind.get(ident[0])
        if kind_ttls is None:
            raise KeyError(ident)
        del kind_ttls[ident[1]]

    def pop(self, ident: Ident, default: None = None) -> float | None:
        """Remove and return the TTL of ``(kind, key)``, or ``default``."""
        kind_ttls = self._by_kind.get(ident[0])
        return default if kind_ttls is None else kind_ttls.pop(ident[1], default)

    def __contains__(self, ident: object) -> bool:
        if not isinstance(ident, tuple) or len(ident) != 2:
            return False
        kind_ttls = self._by_kind.get(ident[0])
        return kind_ttls is not None and ident[1] in kind_ttls

    def __iter__(self) -> Iterator[Ident]:
        """Every ``(kind, key)`` with a TTL."""
        return ((kind, key) for kind, kind_ttls in self._by_kind.items() for key in kind_ttls)

    def __len__(self) -> int:
        return sum(map(len, self._by_kind.values()))

    def clear(self) -> None:
        """Forget every TTL."""
        self._by_kind.clear()
