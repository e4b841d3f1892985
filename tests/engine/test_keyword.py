"""Keyword search's ranking: tokenizing, BM25 scores, and the pruned (MaxScore)
search agreeing with scoring every posting and with BM25 written out."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine._core._text import STOP_WORDS, memory_terms, tokenize
from engine._store._keyword import KeywordIndex

from ._keyword_support import CORPORA, WORDS, assert_same_ranking, index_of, reference_scores

# ------------------------------------------------------------------ tokenizing


def test_tokenize_lowercases_splits_on_non_word_characters_and_drops_stop_words() -> None:
    assert tokenize("The Cat's café-au-lait, 42 CATS!") == [
        "cat",
        "café",
        "au",
        "lait",
        "42",
        "cats",
    ]
    assert tokenize("") == []
    assert tokenize("  ,.;  ") == []


def test_stop_words_only_give_no_tokens() -> None:
    assert {"the", "in", "is", "and"} <= STOP_WORDS
    assert tokenize("It is in the AND of it") == []


def test_memory_terms_counts_topic_tokens_twice() -> None:
    assert memory_terms("green tea, more tea", ["Tea time", "drinks"]) == Counter(
        {"green": 1, "tea": 4, "time": 2, "drinks": 2}
    )


#: letters whose lower-casing depends on context (capital sigma), that grow (dotted I),
#: case-ignorable marks (apostrophes, colon, combining accent, soft hyphen)
SNIPPETS = st.text(alphabet="aΣ\u03c3\u03c2İI'\u2019.:-_ \u0301\u00adThe12", max_size=12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=SNIPPETS, topics=st.lists(SNIPPETS, max_size=3))
def test_memory_terms_are_the_text_tokens_then_each_topics_tokens_twice(
    text: str, topics: list[str]
) -> None:
    """Topics tokenized together are each topic tokenized alone (a final sigma, a
    case-ignorable character at a topic's edge): same counts, same key order."""
    expected = Counter(tokenize(text))
    for topic in topics:
        for token in tokenize(topic):
            expected[token] += 2
    got = memory_terms(text, topics)
    assert list(got.items()) == list(expected.items())


# ------------------------------------------------------------------- ranking


def test_rarer_query_word_ranks_first() -> None:
    # Every memory has "tea"; only one has "paris". Equal lengths, so idf decides.
    index = index_of(
        {
            "m1": "likes tea",
            "m2": "green tea",
            "m3": "paris tea",
            "m4": "black tea",
            "m5": "iced tea",
        }
    )
    ranked = index.search("u", "tea paris", 10)
    assert ranked[0][1] == "m3"
    assert len(ranked) == 5
    assert ranked[0][0] > ranked[1][0]
    # A rare word alone outranks a common word alone.
    index = index_of({"a": "tea paris", "b": "tea dog", "c": "tea cat", "d": "tea cow"})
    (rare_score, rare_doc), *_ = index.search("u", "paris", 1)
    (common_score, _), *_ = index.search("u", "tea", 1)
    assert rare_doc == "a" and rare_score > common_score


def test_only_documents_sharing_a_term_are_returned() -> None:
    index = index_of({"a": "green tea", "b": "black coffee", "c": "tea and coffee", "d": "dog"})
    assert {doc for _, doc in index.search("u", "coffee", 10)} == {"b", "c"}
    assert {doc for _, doc in index.search("u", "Tea, DOG!", 10)} == {"a", "c", "d"}
    assert index.search("u", "zebra", 10) == []
    assert index.search("u", "the and of", 10) == []  # stop words only
    assert index.search("u", "", 10) == []


def test_scores_match_bm25_written_out() -> None:
    texts = {"a": "green tea", "b": "tea", "c": "coffee coffee tea", "d": "dog walks dog"}
    index = index_of(texts)
    docs = {doc: memory_terms(text, ()) for doc, text in texts.items()}
    for query in ["tea", "green tea", "coffee dog", "dog dog tea", "walks green coffee"]:
        expected = reference_scores(docs, query)
        got = dict((doc, score) for score, doc in index.search("u", query, 10))
        assert got.keys() == expected.keys()
        for doc, score in expected.items():
            assert got[doc] == pytest.approx(score, rel=1e-12)


def test_best_first_and_limit() -> None:
    index = index_of({"a": "tea", "b": "tea tea", "c": "tea tea tea", "d": "coffee"})
    ranked = index.search("u", "tea", 10)
    scores = [score for score, _ in ranked]
    assert scores == sorted(scores, reverse=True)
    assert [doc for _, doc in ranked] == ["c", "b", "a"]  # more occurrences, higher score
    assert index.search("u", "tea", 2) == ranked[:2]
    assert index.search("u", "tea", 0) == []


def test_topics_are_searchable_and_weigh_double() -> None:
    index = KeywordIndex()
    index.add("u", "text", memory_terms("pets are fun", ()))
    index.add("u", "topic", memory_terms("they are fun", ["pets"]))
    ranked = index.search("u", "pets", 10)
    assert [doc for _, doc in ranked] == ["topic", "text"]


def test_users_are_separate_corpora() -> None:
    index = KeywordIndex()
    index.add("alice", "m1", memory_terms("green tea", ()))
    index.add("bob", "m1", memory_terms("green tea", ()))
    index.add("bob", "m2", memory_terms("black coffee", ()))
    assert [doc for _, doc in index.search("alice", "coffee", 10)] == []
    assert [doc for _, doc in index.search("bob", "coffee", 10)] == ["m2"]
    assert index.search("carol", "tea", 10) == []
    # N = 1 for alice, 2 for bob: the same document scores differently.
    (alice, _), *_ = index.search("alice", "tea", 1)
    (bob, _), *_ = index.search("bob", "tea", 1)
    assert alice != bob
    index._check()


# The pruned search (MaxScore) must rank exactly like scoring every posting and like
# BM25 written out, on any corpus.


@settings(max_examples=300, deadline=None)
@given(
    corpus=CORPORA,
    query=st.lists(st.sampled_from([*WORDS, "zebra", "pets"]), max_size=5).map(" ".join),
    limit=st.one_of(st.integers(1, 3), st.integers(1, 12)),
)
def test_pruned_search_agrees_with_exhaustive_and_reference(
    corpus: dict[str, tuple[str, list[str]]], query: str, limit: int
) -> None:
    index = KeywordIndex()
    docs = {}
    for doc, (text, topics) in corpus.items():
        docs[doc] = memory_terms(text, topics)
        index.add("u", doc, docs[doc])
    index._check()
    assert_same_ranking(index, docs, query, limit)


@pytest.mark.parametrize("seed", range(4))
def test_pruned_search_agrees_on_zipfian_corpora(seed: int) -> None:
    """Realistic skew (a few very common words, many rare ones, long and short
    memories) is where MaxScore prunes most; it must never change the top k."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(40)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    for _ in range(25):
        docs = {
            f"m{i}": Counter(rng.choices(vocabulary, weights, k=rng.choice([1, 2, 3, 8, 20])))
            for i in range(rng.randint(2, 80))
        }
        index = KeywordIndex()
        for doc, terms in docs.items():
            index.add("u", doc, terms)
        for _ in range(20):
            query = " ".join(rng.choices(vocabulary, weights, k=rng.randint(1, 5)))
            assert_same_ranking(index, docs, query, rng.choice([1, 2, 3, 5, 10, 100]))
