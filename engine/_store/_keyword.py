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
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any

from engine._core._text import K1, B, tokenize
from engine._store._postings import (
    SMALL_POSTING,
    Posting,
    posting_df,
    posting_items,
    posting_merged,
    posting_tf,
    posting_with,
    posting_without,
)

__all__ = ["SMALL_POSTING", "KeywordIndex"]

_IDF = itemgetter(0)


class KeywordIndex:
    """Per-user inverted index ``user -> term -> posting`` with BM25 ranking.

    Memory: postings are nested per user (no ``(user, term)`` key tuple per posting),
    indexed terms are interned with :func:`sys.intern` (a word used by many memories
    is stored once), and a posting is packed by size (``engine._store._postings``):
    the bare document id when one document has the term once — most terms of a
    user's short memories, as Lucene's "pulsing" format inlines rare terms' postings
    in the term dictionary — a flat ``(doc, tf, doc, tf, ...)`` tuple up to
    :data:`SMALL_POSTING` documents, a ``{doc: tf}`` dict beyond. All are untracked by
    the cyclic GC. The index keeps no per-document term list: :meth:`remove` takes
    the document's terms from the caller (the memory table recomputes them from the
    row it removes).

    Document ids are ``str``. Complexity: add/remove O(terms of the document); search
    O(sum of the posting sizes of the query's terms + k log k), less with pruning.
    """

    __slots__ = ("_lengths", "_postings", "_user_length")

    def __init__(self) -> None:
        self._postings: dict[str, dict[str, Posting]] = {}
        self._lengths: dict[str, dict[str, int]] = {}  # user -> doc -> |d|
        self._user_length: dict[str, int] = {}

    def add(self, user: str, doc: str, terms: Mapping[str, int]) -> None:
        """Index ``doc`` of ``user`` with term frequencies ``terms``.

        A document already indexed is replaced, by :meth:`discard` (O(terms of the
        user)); callers that know its old terms :meth:`remove` it first.
        """
        lengths = self._lengths.get(user)
        if lengths is not None and doc in lengths:
            self.discard(user, doc)
        length = sum(terms.values())
        lengths = self._lengths.get(user)
        if lengths is None:
            lengths = self._lengths[user] = {}
            self._postings[user] = {}
        lengths[doc] = length
        self._user_length[user] = self._user_length.get(user, 0) + length
        postings = self._postings[user]
        intern = sys.intern
        for term, frequency in terms.items():
            term = intern(term)
            postings[term] = posting_with(postings.get(term), doc, frequency)

    def add_many(self, docs: Iterable[tuple[str, str, Mapping[str, int]]]) -> None:
        """:meth:`add` for many ``(user, doc, terms)`` of documents not indexed yet, in
        order, giving the same index: over each run of documents of one user, each
        term's new documents are gathered into one flat list, then packed into the
        posting once (:func:`~engine._store._postings.posting_merged`) instead of
        being copied into a growing tuple per document. Fastest when each user's
        documents come together (one run per user: a small working set, and one
        pack per term). For bulk loading. O(total terms).

        Raises:
            ValueError: if a document is already indexed (or listed twice); the
                documents before it are indexed (not all or nothing).
        """
        run: _Run | None = None
        try:
            for user, doc, terms in docs:
                if run is None or run.user != user:
                    if run is not None:
                        self._pack(run)
                    lengths = self._lengths.get(user)
                    if lengths is None:
                        lengths = self._lengths[user] = {}
                        self._postings[user] = {}
                        self._user_length[user] = 0
                    run = _Run(user, lengths)
                lengths = run.lengths
                if doc in lengths:
                    raise ValueError(f"add_many: document {doc!r} of {user!r} is already indexed")
                lengths[doc] = length = sum(terms.values())
                run.length += length
                lists = run.lists
                get = lists.get
                for term, frequency in terms.items():
                    flat = get(term)
                    if flat is None:
                        lists[term] = [doc, frequency]
                    else:
                        flat += (doc, frequency)
        finally:  # pack what was gathered, even up to a failure
            if run is not None:
                self._pack(run)

    def _pack(self, run: _Run) -> None:
        """Merge a run's gathered postings into its user's (for :meth:`add_many`)."""
        self._user_length[run.user] += run.length
        postings = self._postings[run.user]
        get, intern = postings.get, sys.intern
        for term, flat in run.lists.items():
            postings[intern(term)] = posting_merged(get(term), flat)

    def remove(self, user: str, doc: str, terms: Iterable[str] | None = None) -> None:
        """Forget ``doc`` of ``user`` if indexed.

        Args:
            user: The document's user.
            doc: The document id.
            terms: The terms it was indexed with (a ``Counter`` or its keys): then
                O(terms of the document). ``None``: walk the user's whole vocabulary
                (:meth:`discard`).

        Raises:
            KeyError: ``terms`` names a term the user's index lacks (wrong terms).
        """
        lengths = self._lengths.get(user)
        if lengths is None or doc not in lengths:
            return
        if terms is None:
            self.discard(user, doc)
            return
        postings = self._postings[user]
        for term in terms:
            rest = posting_without(postings[term], doc)
            if rest is None:
                del postings[term]
            else:
                postings[term] = rest
        length = lengths.pop(doc)
        if lengths:
            self._user_length[user] -= length
        else:  # the user's last document
            del self._lengths[user], self._user_length[user], self._postings[user]

    def discard(self, user: str, doc: str) -> None:
        """Forget every trace of ``doc`` of ``user``, even of a half-done :meth:`add`
        or :meth:`remove` (a rollback after e.g. a ``MemoryError``).

        O(terms of the user): it walks the user's whole vocabulary.
        """
        postings = self._postings.get(user)
        if postings is not None:
            for term in list(postings):
                rest = posting_without(postings[term], doc)
                if rest is None:
                    del postings[term]
                else:
                    postings[term] = rest
        lengths = self._lengths.get(user)
        if lengths is not None:
            lengths.pop(doc, None)
        if lengths:
            self._user_length[user] = sum(lengths.values())
        else:  # the user has no document left
            self._lengths.pop(user, None)
            self._user_length.pop(user, None)
            self._postings.pop(user, None)

    def search(self, user: str, query: str, limit: int) -> list[tuple[float, str]]:
        """The ``limit`` best ``(score, doc)`` of ``user`` for ``query``, best first
        (equal scores: the greater doc id first).

        Only documents sharing at least one term with the query are returned. Exact
        top-k, term at a time with MaxScore pruning (Turtle & Flood, "Query
        evaluation: strategies and optimizations", 1995): terms are scored rarest
        first; once the best score the remaining terms could still give (the sum of
        their ``idf * (k1 + 1)``) cannot lift a new document above the current k-th
        score, the remaining terms only update the candidates that can still make
        the top k (see :func:`_score_live`), instead of walking their long,
        common-word postings. The k-th score is computed only once the terms scored
        so far could have reached that bound.
        """
        lengths = self._lengths.get(user)
        if not lengths or limit <= 0 or not self._user_length[user]:
            return []  # no documents, or none with a single term
        docs = len(lengths)
        average = self._user_length[user] / docs
        postings = self._postings[user]
        terms = []
        for term in set(tokenize(query)):
            posting = postings.get(term)
            if posting is not None:
                df = posting_df(posting)
                terms.append((math.log(1.0 + (docs - df + 0.5) / (df + 0.5)), posting))
        terms.sort(key=_IDF, reverse=True)
        remaining = [0.0] * (len(terms) + 1)  # remaining[i]: max score from terms[i:]
        for i in range(len(terms) - 1, -1, -1):
            remaining[i] = remaining[i + 1] + terms[i][0] * (K1 + 1.0)
        k1b, k1_b = K1 * B / average, K1 * (1.0 - B)
        scores: dict[str, float] = {}
        get = scores.get
        for i, (idf, posting) in enumerate(terms):
            # No score can exceed remaining[0] - remaining[i] yet: prune only past that.
            if len(scores) >= limit and remaining[i] <= remaining[0] - remaining[i]:
                threshold = _kth(list(scores.values()), limit)
                if remaining[i] <= threshold:
                    tail = (terms[i:], remaining[i:])
                    _score_live(scores, tail, threshold, limit, lengths, (k1_b, k1b))
                    break
            for doc, frequency in posting_items(posting):
                norm = k1_b + k1b * lengths[doc]
                scores[doc] = get(doc, 0.0) + idf * frequency * (K1 + 1.0) / (frequency + norm)
        return _best(scores, limit)

    def search_exhaustive(self, user: str, query: str, limit: int) -> list[tuple[float, str]]:
        """The same ranking as :meth:`search` by scoring every posting (for tests)."""
        lengths = self._lengths.get(user)
        if not lengths or limit <= 0 or not self._user_length[user]:
            return []  # no documents, or none with a single term
        docs = len(lengths)
        average = self._user_length[user] / docs
        scores: dict[str, float] = {}
        for term in set(tokenize(query)):
            posting = self._postings[user].get(term)
            if posting is None:
                continue
            df = posting_df(posting)
            idf = math.log(1.0 + (docs - df + 0.5) / (df + 0.5))
            for doc, frequency in posting_items(posting):
                norm = K1 * (1.0 - B + B * lengths[doc] / average)
                scores[doc] = scores.get(doc, 0.0) + idf * frequency * (K1 + 1.0) / (
                    frequency + norm
                )
        return heapq.nlargest(limit, ((score, doc) for doc, score in scores.items()))

    def clear(self) -> None:
        """Forget everything."""
        self._postings.clear()
        self._lengths.clear()
        self._user_length.clear()

    def _check(self) -> None:
        """Assert invariants (for tests). O(size)."""
        assert self._postings.keys() == self._lengths.keys() == self._user_length.keys()
        for user, lengths in self._lengths.items():
            assert lengths
            assert self._user_length[user] == sum(lengths.values())
            counted = dict.fromkeys(lengths, 0)
            for posting in self._postings[user].values():
                items = list(posting_items(posting))
                assert items and posting == _canonical(items, posting)
                for doc, frequency in items:
                    assert frequency > 0
                    counted[doc] += frequency  # KeyError: a posting of an unknown doc
            assert counted == lengths, "postings and document lengths disagree"


class _Run:
    """The documents of one user that :meth:`KeywordIndex.add_many` is gathering:
    their total length and each term's ``[doc, tf, doc, tf, ...]``."""

    __slots__ = ("length", "lengths", "lists", "user")

    def __init__(self, user: str, lengths: dict[str, int]) -> None:
        self.user = user
        self.lengths = lengths
        self.length = 0
        self.lists: dict[str, list[Any]] = {}


#: Up to this many candidates, a C sort beats ``heapq.nlargest``'s Python loop.
_SORT_BELOW = 256


def _kth(values: list[float], k: int) -> float:
    """The ``k``-th largest of ``values`` (``len(values) >= k``)."""
    if len(values) < _SORT_BELOW:
        values.sort()
        return values[-k]
    return heapq.nlargest(k, values)[-1]


def _best(scores: dict[str, float], limit: int) -> list[tuple[float, str]]:
    """The ``limit`` greatest ``(score, doc)``, greatest first (equal scores: the
    greater doc): ``heapq.nlargest``'s result, by a C sort while the scores are few."""
    if len(scores) < _SORT_BELOW:
        return sorted([(score, doc) for doc, score in scores.items()], reverse=True)[:limit]
    return heapq.nlargest(limit, ((score, doc) for doc, score in scores.items()))


def _canonical(items: list[tuple[str, int]], posting: Posting) -> Posting:
    """The form ``posting`` must have for its ``items`` (a dict stays a dict above half
    the inline bound: hysteresis)."""
    assert len({doc for doc, _ in items}) == len(items)
    if type(posting) is dict and len(items) > SMALL_POSTING // 2:
        return posting
    if len(items) == 1 and items[0][1] == 1:
        return items[0][0]
    assert len(items) <= SMALL_POSTING
    return tuple(value for item in items for value in item)


def _score_live(
    scores: dict[str, float],
    tail: tuple[list[tuple[float, Any]], list[float]],
    threshold: float,
    limit: int,
    lengths: dict[str, int],
    norms: tuple[float, float],
) -> None:
    """Add the ``tail`` terms' contributions to the documents that can still make the
    top ``limit`` (the pruned phase of :meth:`KeywordIndex.search`).

    Before each term, a document whose score is at most the k-th score
    (``threshold``, which only grows) minus the most the terms left could add is
    dropped for good: its final score is below the k-th. The k-th score is
    recomputed over the live documents (the top k are always among them) while they
    are many. A dict posting shorter than the live set is walked, else each live
    document is looked up in it: O(live + min(posting, live)) per term. Every live
    document still receives every term's contribution in the same order as without
    pruning, so its score is bit-for-bit what scoring every posting gives.
    """
    terms, remaining = tail
    k1_b, k1b = norms
    live = list(scores)
    for j, (idf, posting) in enumerate(terms):
        bound = threshold - remaining[j]
        if type(posting) is dict and len(posting) < len(live):
            # the posting is the shorter side: walk it, and filter the live set apart
            live = [doc for doc in live if scores[doc] > bound]
            alive = set(live)
            for doc, frequency in posting.items():
                if doc in alive:
                    norm = k1_b + k1b * lengths[doc]
                    scores[doc] += idf * frequency * (K1 + 1.0) / (frequency + norm)
        else:  # one pass over the live set: filter, look up, score
            kept = []
            for doc in live:
                if scores[doc] > bound:
                    kept.append(doc)
                    frequency = posting_tf(posting, doc)
                    if frequency is not None:
                        norm = k1_b + k1b * lengths[doc]
                        scores[doc] += idf * frequency * (K1 + 1.0) / (frequency + norm)
            live = kept
        if len(live) > 4 * limit:  # raise the k-th score: it prunes the next terms more
            threshold = max(threshold, _kth([scores[doc] for doc in live], limit))
