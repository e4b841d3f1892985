"""What the keyword tests share: small corpora, BM25 written out independently, and
the ranking check (pruned search == exhaustive search == the reference)."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import strategies as st

from engine import UserMemory
from engine._core._text import memory_terms, tokenize
from engine._store._keyword import KeywordIndex

START = 1_000_000.0


def index_of(docs: dict[str, str], user: str = "u") -> KeywordIndex:
    index = KeywordIndex()
    for doc, text in docs.items():
        index.add(user, doc, memory_terms(text, ()))
    return index


def reference_scores(docs: dict[str, Counter[str]], query: str) -> dict[str, float]:
    """BM25 written out independently: k1 = 1.2, b = 0.75, idf = ln(1 + (N-n+.5)/(n+.5))."""
    n_docs = len(docs)
    lengths = {doc: sum(terms.values()) for doc, terms in docs.items()}
    average = sum(lengths.values()) / n_docs
    scores: dict[str, float] = {}
    for term in set(tokenize(query)):
        having = [doc for doc, terms in docs.items() if terms[term] > 0]
        if not having:
            continue
        idf = math.log(1 + (n_docs - len(having) + 0.5) / (len(having) + 0.5))
        for doc in having:
            tf = docs[doc][term]
            scores[doc] = scores.get(doc, 0.0) + idf * tf * 2.2 / (
                tf + 1.2 * (0.25 + 0.75 * lengths[doc] / average)
            )
    return scores


def assert_same_ranking(
    index: KeywordIndex, docs: dict[str, Counter[str]], query: str, limit: int
) -> None:
    got = index.search("u", query, limit)
    exhaustive = index.search_exhaustive("u", query, limit)
    reference = reference_scores(docs, query)
    assert len(got) == len(exhaustive) == min(limit, len(reference))
    assert [s for s, _ in got] == pytest.approx([s for s, _ in exhaustive], rel=1e-9)
    for score, doc in got:
        assert score == pytest.approx(reference[doc], rel=1e-9)
    if got:
        worst = got[-1][0]
        left_out = set(reference) - {doc for _, doc in got}
        assert all(reference[doc] <= worst * (1 + 1e-9) for doc in left_out)


COMMON = ["tea", "coffee", "dog"]
RARE = ["green", "paris", "walks", "a1", "b2", "cat"]
WORDS = [*COMMON, *RARE, "the"]
TEXTS = st.lists(
    st.one_of(st.sampled_from(COMMON), st.sampled_from(RARE), st.just("the")), max_size=8
).map(" ".join)
CORPORA = st.dictionaries(
    st.sampled_from([f"m{i}" for i in range(30)]),
    st.tuples(TEXTS, st.lists(st.sampled_from(["pets", "food", "tea"]), max_size=2)),
    min_size=1,
    max_size=30,
)


def memory(mid: str, text: str, *topics: str, user: str = "u") -> UserMemory:
    return UserMemory(user_id=user, memory_id=mid, memory=text, topics=topics)


def layout(index: KeywordIndex) -> list[object]:
    """Everything the index holds, in order, with each posting's form: two indexes
    with equal layouts are the same structure (a dict compares in its order too)."""
    return [
        list(index._lengths.items()),
        list(index._user_length.items()),
        [
            (user, [(t, type(p), list(p.items()) if type(p) is dict else p) for t, p in ps.items()])
            for user, ps in index._postings.items()
        ],
    ]
