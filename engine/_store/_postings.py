"""One term's posting in a user's keyword index, packed by size.

A posting says which documents have the term and how often (``tf``). Its form:

- the bare document id (a ``str``) when one document has the term once — most terms
  of a user's short memories: no object at all, the id the row already holds;
- a flat tuple ``(doc, tf, doc, tf, ...)`` of up to :data:`SMALL_POSTING` documents;
- a ``{doc: tf}`` dict beyond, back to a tuple at half as many (hysteresis).

All three are untracked by the cyclic GC (a str, a tuple of atomic values, a dict of
str to small int). Functions here never mutate a tuple; a dict posting is grown and
shrunk in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

__all__ = [
    "SMALL_POSTING",
    "Posting",
    "posting_df",
    "posting_items",
    "posting_merged",
    "posting_tf",
    "posting_with",
    "posting_without",
]

#: A posting is a flat tuple up to this many documents, a dict beyond.
SMALL_POSTING: Final = 8

Posting = str | tuple[Any, ...] | dict[str, int]


def posting_df(posting: Posting) -> int:
    """How many documents have the term. O(1)."""
    if isinstance(posting, str):
        return 1
    return len(posting) >> 1 if type(posting) is tuple else len(posting)


def posting_items(posting: Posting) -> Iterable[tuple[str, int]]:
    """The ``(doc, tf)`` of a posting. O(1) to start, O(1) per item."""
    if isinstance(posting, str):
        return ((posting, 1),)
    if isinstance(posting, tuple):
        return zip(posting[::2], posting[1::2], strict=True)
    return posting.items()


def posting_tf(posting: Posting, doc: str) -> int | None:
    """``doc``'s tf in the posting, or ``None``. O(1) (O(SMALL_POSTING) for a tuple)."""
    if isinstance(posting, str):
        return 1 if posting == doc else None
    if isinstance(posting, tuple):
        for index in range(0, len(posting), 2):
            if posting[index] == doc:
                tf: int = posting[index + 1]
                return tf
        return None
    return posting.get(doc)


def posting_with(posting: Posting | None, doc: str, tf: int) -> Posting:
    """The posting with ``doc`` (not in it yet) added with ``tf``."""
    if posting is None:
        return doc if tf == 1 else (doc, tf)
    if isinstance(posting, str):
        return (posting, 1, doc, tf)
    if isinstance(posting, tuple):
        if len(posting) < 2 * SMALL_POSTING:
            return (*posting, doc, tf)
        grown = dict(zip(posting[::2], posting[1::2], strict=True))
        grown[doc] = tf
        return grown
    posting[doc] = tf
    return posting


def posting_merged(posting: Posting | None, flat: list[Any]) -> Posting:
    """The posting with the documents of ``flat`` (``[doc, tf, doc, tf, ...]``, none in
    it yet) added in order: what :func:`posting_with` gives added one by one, built
    with one copy. O(len(posting) + len(flat)).
    """
    if type(posting) is dict:
        posting.update(zip(flat[::2], flat[1::2], strict=True))
        return posting
    if posting is None:
        if len(flat) == 2 and flat[1] == 1:
            doc: str = flat[0]
            return doc
        pairs = tuple(flat)
    elif isinstance(posting, str):
        pairs = (posting, 1, *flat)
    else:
        pairs = (*posting, *flat)
    if len(pairs) <= 2 * SMALL_POSTING:
        return pairs
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def posting_without(posting: Posting, doc: str) -> Posting | None:
    """The posting without ``doc`` (unchanged if it lacks it); ``None`` when empty."""
    if isinstance(posting, str):
        return None if posting == doc else posting
    if isinstance(posting, tuple):
        for index in range(0, len(posting), 2):
            if posting[index] == doc:
                rest = posting[:index] + posting[index + 2 :]
                return _canonical(rest)
        return posting
    posting.pop(doc, None)
    if len(posting) > SMALL_POSTING // 2:
        return posting
    return _canonical(tuple(value for pair in posting.items() for value in pair))


def _canonical(pairs: tuple[Any, ...]) -> Posting | None:
    """Flat pairs as a posting: ``None`` when empty, the bare id for one document
    that has the term once."""
    if len(pairs) == 2 and pairs[1] == 1:
        doc: str = pairs[0]
        return doc
    return pairs or None
