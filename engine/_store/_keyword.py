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

from engine._core._text import K1, B, tokenize

__all__ = ["KeywordIndex"]


#: A term's posting: ``{doc: tf}``, or ``(doc, tf)`` inline when one document has it.
_Posting = dict[Hashable, int] | tuple[Hashable, int]


def _expand(posting: _Posting) -> dict[Hashable, int]:
    """A posting as ``{doc: tf}`` (an inline one becomes a one-entry dict)."""
    if isinstance(posting, tuple):
        return {posting[0]: posting[1]}
    return posting


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
    term dictionary); it becomes a dict when a second document gets the term, and a
    tuple again when it is back to one.

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
                postings[term] = {posting[0]: posting[1], doc: frequency}
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
            if isinstance(posting, tuple):  # ``doc`` was the term's only document
                del postings[term]
                continue
            del posting[doc]
            if len(posting) == 1:
                ((other, frequency),) = posting.items()
                postings[term] = (other, frequency)
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
                    if posting[0] == doc:
                        del postings[term]
                    continue
                posting.pop(doc, None)
                if len(posting) == 1:
                    ((other, frequency),) = posting.items()
                    postings[term] = (other, frequency)
                elif not posting:
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
            # inline when one document has the term, a dict of two or more otherwise
            assert all(isinstance(p, tuple) or len(p) >= 2 for p in postings.values())
            expanded = {term: _expand(posting) for term, posting in postings.items()}
            for doc, terms in docs.items():
                assert len(set(terms)) == len(terms)
                assert sum(expanded[term][doc] for term in terms) == lengths[doc]
            total = sum(len(posting) for posting in expanded.values())
            assert total == sum(len(terms) for terms in docs.values())
