"""Keyword search: tokenizing, the BM25 inverted index, and search through the store
and the engine."""

from __future__ import annotations

import gc
import math
import random
from collections import Counter

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import EngineConfig, ShardStore, UserMemory, open_memory_engine
from engine._core._text import STOP_WORDS, memory_terms, tokenize
from engine._store._keyword import SMALL_POSTING, KeywordIndex
from engine._store._memory_table import members

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


# ------------------------------------------------------------------- the index


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


def test_re_adding_a_document_replaces_its_terms() -> None:
    index = index_of({"a": "green tea", "b": "coffee"})
    index.add("u", "a", memory_terms("black coffee", ()))
    assert index.search("u", "tea", 10) == []
    assert {doc for _, doc in index.search("u", "coffee", 10)} == {"a", "b"}
    assert len(index._lengths["u"]) == 2
    assert index._user_length["u"] == 3
    index._check()


def test_removal_cleans_every_posting_and_statistic() -> None:
    index = index_of({"a": "green tea", "b": "tea coffee", "c": "dog"})
    index.add("v", "a", memory_terms("tea", ()))
    index.remove("u", "a", memory_terms("green tea", ()))  # O(its terms)
    assert "green" not in index._postings["u"]
    assert index._postings["u"]["tea"] == "b"  # one document, once: the bare id
    assert {doc for _, doc in index.search("u", "green tea", 10)} == {"b"}
    index._check()
    index.remove("u", "b")
    index.remove("u", "c")
    index.remove("u", "c")  # absent: nothing happens
    index.remove("nobody", "x")
    assert index._postings == {"v": {"tea": "a"}}
    assert "u" not in index._user_length
    assert "u" not in index._lengths
    assert index.search("u", "tea", 10) == []
    index.remove("v", "a")
    assert not index._postings and not index._user_length and not index._lengths
    index._check()


def test_documents_without_terms_never_match() -> None:
    index = index_of({"empty": "the and of", "a": "tea"})
    assert [doc for _, doc in index.search("u", "tea the", 10)] == ["a"]
    index.remove("u", "a")  # the user's documents left have no terms at all
    assert index.search("u", "tea", 10) == []
    index._check()
    index.remove("u", "empty")
    assert not index._postings and not index._lengths
    only_empty = index_of({"empty": "it is"})
    assert only_empty.search("u", "it is tea", 10) == []
    only_empty._check()


def test_clear() -> None:
    index = index_of({"a": "tea", "b": "coffee"})
    index.clear()
    assert index.search("u", "tea", 10) == []
    assert not index._postings and not index._lengths
    index._check()


def test_a_term_of_a_few_documents_is_inline_and_becomes_a_dict_when_common() -> None:
    index = index_of({"a": "green tea"})
    assert index._postings["u"] == {"green": "a", "tea": "a"}
    index.add("u", "b", memory_terms("tea tea", ()))
    assert index._postings["u"]["tea"] == ("a", 1, "b", 2)
    assert index._postings["u"]["green"] == "a"
    index.add("u", "c", memory_terms("coffee coffee", ()))
    assert index._postings["u"]["coffee"] == ("c", 2)  # one document, twice: a pair
    index.remove("u", "c", ["coffee"])
    index._check()
    assert [doc for _, doc in index.search("u", "tea", 2)] == ["b", "a"]
    assert index.search("u", "green tea", 2) == index.search_exhaustive("u", "green tea", 2)
    for n in range(SMALL_POSTING):  # past the inline bound: a dict
        index.add("u", f"x{n}", memory_terms("tea", ()))
    assert isinstance(index._postings["u"]["tea"], dict)
    index._check()
    assert index.search("u", "tea", 5) == index.search_exhaustive("u", "tea", 5)
    for n in range(SMALL_POSTING):  # down to half the bound: inline again
        index.remove("u", f"x{n}")
    index.remove("u", "b")
    assert index._postings["u"]["tea"] == "a"
    index._check()
    index._postings["u"]["tea"] = ("a", 1)  # must be the bare id
    with pytest.raises(AssertionError):
        index._check()
    index._postings["u"]["tea"] = {"a": 1}  # a one-document dict breaks the invariant
    with pytest.raises(AssertionError):
        index._check()


def test_check_detects_a_wrong_posting() -> None:
    index = index_of({"a": "tea tea", "b": "coffee"})
    index._postings["u"]["tea"] = "a"  # the document has it twice
    with pytest.raises(AssertionError):
        index._check()


def test_check_detects_a_stray_posting() -> None:
    index = index_of({"a": "tea"})
    index._postings["u"]["ghost"] = "a"
    with pytest.raises(AssertionError):
        index._check()


# The pruned search (MaxScore) must rank exactly like scoring every posting and like
# BM25 written out, on any corpus.
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


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    corpus=CORPORA,
    removals=st.lists(st.tuples(st.sampled_from([f"m{i}" for i in range(30)]), st.booleans())),
    query=st.lists(st.sampled_from([*WORDS, "pets", "food"]), max_size=5).map(" ".join),
    limit=st.integers(1, 12),
)
def test_packed_postings_survive_removals_and_re_adds(
    corpus: dict[str, tuple[str, list[str]]],
    removals: list[tuple[str, bool]],
    query: str,
    limit: int,
) -> None:
    """Postings move between their forms (bare id, flat pairs, dict) as documents come
    and go; removal by the document's terms and by a vocabulary walk agree."""
    index = KeywordIndex()
    docs = {doc: memory_terms(text, topics) for doc, (text, topics) in corpus.items()}
    for doc, terms in docs.items():
        index.add("u", doc, terms)
    for step, (doc, by_terms) in enumerate(removals):
        if doc in docs:
            terms = docs.pop(doc)
            index.remove("u", doc, terms if by_terms else None)
        elif step % 3 == 0:
            docs[doc] = memory_terms(f"tea {doc} green", ["pets"])
            index.add("u", doc, docs[doc])
        index._check()
    if docs and any(docs.values()):
        assert_same_ranking(index, docs, query, limit)
    else:
        assert index.search("u", query, limit) == []


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


# ------------------------------------------------------------------ through the store


def store_with(memories: list[UserMemory], ttl: float | None = None) -> ShardStore:
    store = ShardStore(EngineConfig())
    for memory in memories:
        store.upsert_memory(START, memory, ttl)
    return store


def memory(mid: str, text: str, *topics: str, user: str = "u") -> UserMemory:
    return UserMemory(user_id=user, memory_id=mid, memory=text, topics=topics)


def test_store_search_skips_expired_memories_before_the_sweep() -> None:
    store = ShardStore(EngineConfig())
    store.upsert_memory(START, memory("rare", "paris tea"), 10.0)  # best match, expires
    store.upsert_memory(START, memory("a", "green tea"), None)
    store.upsert_memory(START, memory("b", "black tea"), None)
    found = store.search_memories(START + 5, "u", "paris tea", "keyword", 1)
    assert [m.memory_id for m in found] == ["rare"]
    # At the deadline, with no sweep yet: the expired best match is not returned, it is
    # removed (with its postings), and the next best fills the limit.
    found = store.search_memories(START + 10, "u", "paris tea", "keyword", 1)
    assert [m.memory_id for m in found] in (["a"], ["b"])
    assert ("u", "rare") not in store.memories.records
    assert "paris" not in store.memories.keywords._postings["u"]
    assert store.counts().expired_memories == 1
    store._check()


def _topic_counts(store: ShardStore, user: str) -> dict[str, int]:
    topics = store.memories.by_topic.get(user, {})
    return {topic: len(members(ids)) for topic, ids in topics.items()}


def test_a_repeated_topic_leaves_the_other_memories_of_that_topic() -> None:
    store = store_with([memory("1", "x", "food", "food"), memory("2", "y", "food")])
    assert set(members(store.memories.by_topic["u"]["food"])) == {"1", "2"}
    store.delete_memory(START, "u", "1")
    assert store.memories.by_topic["u"] == {"food": "2"}
    assert store.memory_topics(START, "u") == ["food"]
    store._check()


def test_store_topics_count_and_listing() -> None:
    store = store_with(
        [
            memory("1", "likes tea", "food", "drinks"),
            memory("2", "likes pasta", "food"),
            memory("3", "has a dog", "pets"),
            memory("4", "other user", "travel", user="v"),
        ]
    )
    assert _topic_counts(store, "u") == {"food": 2, "drinks": 1, "pets": 1}
    assert store.memory_topics(START, "u") == ["drinks", "food", "pets"]
    assert store.memory_topics(START, None) == ["drinks", "food", "pets", "travel"]
    assert store.memory_topics(START, "nobody") == []
    store.delete_memory(START, "u", "1")
    assert _topic_counts(store, "u") == {"food": 1, "pets": 1}
    # One memory left per topic: its id is kept inline, not in a set.
    assert store.memories.by_topic["u"] == {"food": "2", "pets": "3"}
    assert store.memory_topics(START, "u") == ["food", "pets"]
    store.delete_memory(START, "u", "2")
    store.delete_memory(START, "u", "3")
    assert "u" not in store.memories.by_topic
    assert "u" not in store.memories.keywords._postings
    store._check()


def test_store_topics_hide_expired_memories_before_the_sweep() -> None:
    store = ShardStore(EngineConfig())
    store.upsert_memory(START, memory("1", "likes tea", "food"), 5.0)
    store.upsert_memory(START, memory("2", "has a dog", "pets"), None)
    assert store.memory_topics(START + 4.5, "u") == ["food", "pets"]
    assert store.memory_topics(START + 5, "u") == ["pets"]
    assert store.memory_topics(START + 5, None) == ["pets"]
    assert store.expire_due(START + 5) == 1
    assert _topic_counts(store, "u") == {"pets": 1}
    store._check()


# ----------------------------------------------------------------- through the engine


async def test_engine_keyword_search_ranks_and_filters(autojump_clock: object) -> None:
    async with open_memory_engine(shards=3, start_time=START) as mem:
        for mid, text, topics in [
            ("m1", "Likes green tea", ()),
            ("m2", "Drinks tea every morning", ()),
            ("m3", "Went to Paris for tea", ()),
            ("m4", "Has a dog named Rex", ("pets",)),
            ("m5", "Tea, tea and more tea", ()),
        ]:
            await mem.memories.upsert(
                UserMemory(user_id="alice", memory_id=mid, memory=text, topics=topics)
            )
        await mem.memories.upsert(UserMemory(user_id="bob", memory_id="b1", memory="Paris"))
        found = await mem.memories.search("alice", "paris tea", limit=10)
        assert found[0].memory_id == "m3"  # the only one with the rare word
        assert {m.memory_id for m in found} == {"m1", "m2", "m3", "m5"}
        assert [m.memory_id for m in await mem.memories.search("alice", "pets")] == ["m4"]
        assert await mem.memories.search("alice", "zebra") == []
        assert await mem.memories.search("alice", "the and") == []
        assert [m.memory_id for m in await mem.memories.search("bob", "paris tea")] == ["b1"]
        assert len(await mem.memories.search("alice", "tea", limit=2)) == 2
        assert await mem.memories.topics(user_id="alice") == ["pets"]


async def test_engine_keyword_search_forgets_expired_and_deleted(autojump_clock: object) -> None:
    async with open_memory_engine(shards=2, start_time=START) as mem:
        await mem.memories.upsert(
            UserMemory(user_id="u", memory_id="short", memory="paris trip", topics=("travel",)),
            ttl=10,
        )
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="keep", memory="tea"))
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="gone", memory="paris"))
        assert await mem.memories.delete("gone", user_id="u")
        assert [m.memory_id for m in await mem.memories.search("u", "paris")] == ["short"]
        await trio.sleep(10)
        assert await mem.memories.search("u", "paris travel") == []
        assert await mem.memories.topics(user_id="u") == []
        for store in mem._stores:
            store._check()
            postings = store.memories.keywords._postings
            assert not any(term in ("paris", "travel") for p in postings.values() for term in p)


async def test_engine_keyword_search_without_a_limit_returns_every_match(
    autojump_clock: object,
) -> None:
    # Regression: limit=None passed validation, then crashed inside the shard.
    async with open_memory_engine(shards=2, start_time=START) as mem:
        for i in range(12):
            await mem.memories.upsert(UserMemory(user_id="u", memory_id=f"m{i}", memory="tea"))
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="other", memory="coffee"))
        assert len(await mem.memories.search("u", method="last_n", limit=None)) == 13
        found = await mem.memories.search("u", "tea", limit=None)
        assert sorted(m.memory_id for m in found) == sorted(f"m{i}" for i in range(12))


def test_what_the_keyword_index_holds_is_untracked_by_the_gc() -> None:
    """Every posting form (bare id, flat pairs, dict) holds only atomic values, and so
    do the per-user maps of a user whose postings are all inline: a full collection
    never walks them. (CPython keeps a dict that holds a dict tracked: a user with a
    posting of more than SMALL_POSTING memories costs the collector one dict.)"""
    store = ShardStore(EngineConfig())
    for i in range(SMALL_POSTING + 3):  # "tea" becomes a dict posting
        words = "tea" if i % 2 else "tea green"
        store.upsert_memory(START, memory(f"m{i}", f"{words} w{i}", "drinks"), None)
        store.upsert_memory(START, memory(f"m{i}", f"{words} w{i}", user=f"v{i % 3}"), None)
    index = store.memories.keywords
    assert {type(p) for p in index._postings["u"].values()} == {str, tuple, dict}
    assert {type(p) for p in index._postings["v0"].values()} == {str, tuple}
    gc.collect()
    gc.collect()  # a container is untracked by the first collection that sees it whole
    for user, postings in index._postings.items():
        assert not gc.is_tracked(index._lengths[user])
        assert not any(gc.is_tracked(p) for p in postings.values())
        assert gc.is_tracked(postings) == (user == "u")
