"""Ranked keyword search over a user's memories: an inverted index scored by BM25.

Score of a memory d for query q (Robertson & Zaragoza, "The Probabilistic Relevance
Framework: BM25 and Beyond", 2009, eq. 3.15, with the Lucene idf ``log(1 + (N - n +
0.5) / (n + 0.5))`` that is never negative):

    sum over distinct terms t of q present in d of
        idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))

N, n, avgdl are taken per user (a user's memories are their own corpus), k1 = 1.2,
b = 0.75. A memory's terms are the tokens of its text plus its topics' tokens counted
twice (topics are what the memory is *about*).
"""

from __future__ import annotations

import heapq
import math
import sys
from collections import Counter
from collections.abc import Hashable
from typing import Any

from engine._core._text import K1, B, tokenize

__all__ = ["KeywordIndex"]


#: A term's posting: a flat tuple ``(doc, tf, doc, tf, ...)`` of up to this many
#: documents, a ``{doc: tf}`` dict beyond (back to a tuple at half as many).
SMALL_POSTING = 8

#: A term's posting: ``(doc, tf, ...)`` pairs inline, or ``{doc: tf}``.
_Posting = dict[Hashable, int] | tuple[Any, ...]


def _expand(posting: _Posting) -> dict[Hashable, int]:
    """A posting as ``{doc: tf}`` (an inline one becomes a dict of its pairs)."""
    if isinstance(posting, tuple):
        return dict(zip(posting[::2], posting[1::2], strict=True))
    return posting


def _without(posting: tuple[Any, ...], doc: Hashable) -> tuple[Any, ...]:
    """An inline posting without ``doc``'s pair. O(pairs)."""
    for index in range(0, len(posting), 2):
        if posting[index] == doc:
            return posting[:index] + posting[index + 2 :]
    return posting


def _shrunk(posting: dict[Hashable, int]) -> _Posting:
    """A dict posting, inline again once it is down to half the inline bound."""
    if len(posting) > SMALL_POSTING // 2:
        return posting
    return tuple(item for pair in posting.items() for item in pair)


def _as_dict(posting: _Posting | None) -> dict[Hashable, int] | None:
    """:func:`_expand`, passing ``None`` (a term no document has) through."""
    return None if posting is None else _expand(posting)


class KeywordIndex:
    """Per-user inverted index ``user -> term -> {doc: tf}`` with BM25 ranking.

    Memory: postings are nested per user (no ``(user, term)`` key tuple per posting),
    indexed terms are interned with :func:`sys.intern` (a word used by many memories
    is stored once), and a document's terms are kept as a tuple for its removal. A
    term that only one document of the user has — most terms, in a user's short
    memories — keeps its posting inline as a ``(doc, tf)`` tuple instead of a dict
    (as Lucene's "pulsing" postings format inlines the postings of rare terms in the
    term dictionary), and so does a term of up to :data:`SMALL_POSTING` documents, as
    a flat ``(doc, tf, doc, tf, ...)`` tuple (atomic: the cyclic GC untracks it, and
    it is a third of a small dict's size); it becomes a dict beyond, and a tuple
    again at half as many.

    Complexity: add/remove O(terms of the document); search O(sum of the posting
    sizes of the query's terms + k log k).
    """

    __slots__ = ("_doc_terms", "_lengths", "_postings", "_user_length")

    def __init__(self) -> None:
        self._postings: dict[str, dict[str, _Posting]] = {}
        self._doc_terms: dict[str, dict[Hashable, tuple[str, ...]]] = {}
        self._lengths: dict[str, dict[Hashable, int]] = {}  # user -> doc -> |d|
        self._user_length: dict[str, int] = {}

    def add(self, user: str, doc: Hashable, terms: Counter[str]) -> None:
        """Index ``doc`` of ``user`` with term frequencies ``terms`` (replacing any old)."""
        self.remove(user, doc)
        length = sum(terms.values())
        intern = sys.intern
        keys = tuple([intern(term) for term in terms])
        self._doc_terms.setdefault(user, {})[doc] = keys
        self._lengths.setdefault(user, {})[doc] = length
        self._user_length[user] = self._user_length.get(user, 0) + length
        postings = self._postings.get(user)
        if postings is None:
            postings = self._postings[user] = {}
        for term, frequency in zip(keys, terms.values(), strict=True):
            posting = postings.get(term)
            if posting is None:
                postings[term] = (doc, frequency)  # inline: the term's only document
            elif isinstance(posting, tuple):
                if len(posting) < 2 * SMALL_POSTING:
                    postings[term] = (*posting, doc, frequency)
                else:
                    grown = _expand(posting)
                    grown[doc] = frequency
                    postings[term] = grown
            else:
                posting[doc] = frequency

    def remove(self, user: str, doc: Hashable) -> None:
        """Forget ``doc`` of ``user`` if indexed."""
        docs = self._doc_terms.get(user)
        terms = None if docs is None else docs.pop(doc, None)
        if terms is None:
            return
        postings = self._postings[user]
        for term in terms:
            posting = postings[term]
            if isinstance(posting, tuple):
                rest = _without(posting, doc)
                if rest:
                    postings[term] = rest
                else:  # ``doc`` was the term's only document
                    del postings[term]
                continue
            del posting[doc]
            postings[term] = _shrunk(posting)
        lengths = self._lengths[user]
        length = lengths.pop(doc)
        if lengths:
            self._user_length[user] -= length
        else:  # the user's last document
            del self._lengths[user], self._doc_terms[user], self._user_length[user]
            del self._postings[user]

    def discard(self, user: str, doc: Hashable) -> None:
        """Forget every trace of ``doc`` of ``user``, even of a half-done :meth:`add`
        or :meth:`remove` (a rollback after e.g. a ``MemoryError``).

        O(terms of the user): it walks the user's whole vocabulary, so only rollbacks
        use it; :meth:`remove` is the O(terms of the doc) path.
        """
        postings = self._postings.get(user)
        if postings is not None:
            for term in list(postings):
                posting = postings[term]
                if isinstance(posting, tuple):
                    rest = _without(posting, doc)
                    if rest:
                        postings[term] = rest
                    else:
                        del postings[term]
                    continue
                posting.pop(doc, None)
                if posting:
                    postings[term] = _shrunk(posting)
                else:
                    del postings[term]
        for table in (self._doc_terms, self._lengths):
            docs = table.get(user)
            if docs is not None:
                docs.pop(doc, None)
        lengths = self._lengths.get(user)
        if lengths:
            self._user_length[user] = sum(lengths.values())
        else:  # the user has no document left
            self._doc_terms.pop(user, None)
            self._lengths.pop(user, None)
            self._user_length.pop(user, None)
            self._postings.pop(user, None)

    def search(self, user: str, query: str, limit: int) -> list[tuple[float, Hashable]]:
        """The ``limit`` best ``(score, doc)`` of ``user`` for ``query``, best first.

        Only documents sharing at least one term with the query are returned. Exact
        top-k with MaxScore pruning (Turtle & Flood, "Query evaluation: strategies and
        optimizations", 1995): terms are scored rarest first; once the best score the
        remaining terms could still give (the sum of their ``idf * (k1 + 1)``) cannot
        lift a new document above the current k-th score, those terms only update the
        candidates that can still make the top k, by O(1) posting lookups, instead of
        walking their (long, common-word) postings.
        """
        lengths = self._lengths.get(user)
        if not lengths or limit <= 0 or not self._user_length[user]:
            return []  # no documents, or none with a single term
        docs = len(lengths)
        average = self._user_length[user] / docs
        postings = self._postings[user]
        terms = []
        for term in set(tokenize(query)):
            posting = _as_dict(postings.get(term))
            if posting is not None:
                df = len(posting)
                terms.append((math.log(1.0 + (docs - df + 0.5) / (df + 0.5)), posting))
        terms.sort(key=lambda item: item[0], reverse=True)
        remaining = [0.0] * (len(terms) + 1)  # remaining[i]: max score from terms[i:]
        for i in range(len(terms) - 1, -1, -1):
            remaining[i] = remaining[i + 1] + terms[i][0] * (K1 + 1.0)
        k1b, k1_b = K1 * B / average, K1 * (1.0 - B)
        scores: dict[Hashable, float] = {}
        threshold = -1.0
        for i, (idf, posting) in enumerate(terms):
            if len(scores) >= limit:
                threshold = heapq.nlargest(limit, scores.values())[-1]
            if remaining[i] <= threshold:
                # No new document can enter the top k: update the live candidates only.
                bound = threshold - remaining[i]
                live = [doc for doc, score in scores.items() if score > bound]
                for j in range(i, len(terms)):
                    idf_j, posting_j = terms[j]
                    for doc in live:
                        frequency = posting_j.get(doc)
                        if frequency is not None:
                            norm = k1_b + k1b * lengths[doc]
                            scores[doc] += idf_j * frequency * (K1 + 1.0) / (frequency + norm)
                break
            for doc, frequency in posting.items():
                norm = k1_b + k1b * lengths[doc]
                scores[doc] = scores.get(doc, 0.0) + idf * frequency * (K1 + 1.0) / (
                    frequency + norm
                )
        return heapq.nlargest(limit, ((score, doc) for doc, score in scores.items()))

    def search_exhaustive(self, user: str, query: str, limit: int) -> list[tuple[float, Hashable]]:
        """The same ranking as :meth:`search` by scoring every posting (for tests)."""
        lengths = self._lengths.get(user)
        if not lengths or limit <= 0 or not self._user_length[user]:
            return []  # no documents, or none with a single term
        docs = len(lengths)
        average = self._user_length[user] / docs
        scores: dict[Hashable, float] = {}
        for term in set(tokenize(query)):
            posting = _as_dict(self._postings[user].get(term))
            if posting is None:
                continue
            idf = math.log(1.0 + (docs - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, frequency in posting.items():
                length = lengths[doc]
                norm = K1 * (1.0 - B + B * length / average)
                scores[doc] = scores.get(doc, 0.0) + idf * frequency * (K1 + 1.0) / (
                    frequency + norm
                )
        return heapq.nlargest(limit, ((score, doc) for doc, score in scores.items()))

    def clear(self) -> None:
        """Forget everything."""
        self._postings.clear()
        self._doc_terms.clear()
        self._lengths.clear()
        self._user_length.clear()

    def _check(self) -> None:
        """Assert invariants (for tests). O(size)."""
        assert self._doc_terms.keys() == self._lengths.keys() == self._user_length.keys()
        assert self._postings.keys() == self._lengths.keys()
        for user, docs in self._doc_terms.items():
            lengths = self._lengths[user]
            assert docs and docs.keys() == lengths.keys()
            assert self._user_length[user] == sum(lengths.values())
            postings = self._postings[user]
            # inline pairs up to SMALL_POSTING documents, a dict of more than half that
            for p in postings.values():
                if isinstance(p, tuple):
                    assert p and len(p) % 2 == 0 and len(p) <= 2 * SMALL_POSTING
                    assert len(set(p[::2])) == len(p) // 2
                else:
                    assert len(p) > SMALL_POSTING // 2
            expanded = {term: _expand(posting) for term, posting in postings.items()}
            for doc, terms in docs.items():
                assert len(set(terms)) == len(terms)
                assert sum(expanded[term][doc] for term in terms) == lengths[doc]
            total = sum(len(posting) for posting in expanded.values())
            assert total == sum(len(terms) for terms in docs.values())
