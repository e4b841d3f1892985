"""The keyword index's structure: postings packed by size (bare id, flat pairs,
dict) through adds, removals and re-adds, its invariants, what the GC sees, and the
bulk build (``add_many``) giving the very index that adding one by one gives."""

from __future__ import annotations

import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import EngineConfig, ShardStore
from engine._core._text import memory_terms
from engine._store._keyword import SMALL_POSTING, KeywordIndex

from ._keyword_support import (
    CORPORA,
    START,
    TEXTS,
    WORDS,
    assert_same_ranking,
    index_of,
    layout,
    memory,
)


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


# ------------------------------------------------------------------ bulk build


USERS = st.sampled_from(["u", "v", "w"])
DOCS = st.lists(
    st.tuples(
        USERS,
        st.sampled_from([f"m{i}" for i in range(24)]),
        TEXTS,
        st.lists(st.sampled_from(WORDS), max_size=2),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(before=DOCS, removed=st.sets(st.integers(0, 59)), docs=DOCS, query=TEXTS)
def test_add_many_builds_the_index_adding_one_by_one_builds(
    before: list[tuple[str, str, str, list[str]]],
    removed: set[int],
    docs: list[tuple[str, str, str, list[str]]],
    query: str,
) -> None:
    """Into an empty index or one that already holds documents (some removed: a dict
    posting that shrank stays a dict), ``add_many`` gives the same postings, in the
    same forms and orders, lengths and rankings as ``add`` one document at a time."""
    one_by_one, bulk = KeywordIndex(), KeywordIndex()
    held: dict[tuple[str, str], object] = {}
    for position, (user, doc, text, topics) in enumerate(before):
        terms = memory_terms(text, topics)
        for index in (one_by_one, bulk):
            index.add(user, doc, terms)
        held[(user, doc)] = terms
        if position in removed:
            for index in (one_by_one, bulk):
                index.remove(user, doc, terms)
            del held[(user, doc)]
    fresh = []
    for user, doc, text, topics in docs:
        if (user, doc) not in held:
            held[(user, doc)] = terms = memory_terms(text, topics)
            fresh.append((user, doc, terms))
            one_by_one.add(user, doc, terms)
    bulk.add_many(iter(fresh))
    bulk._check()
    assert layout(bulk) == layout(one_by_one)
    for user in ("u", "v", "w"):
        for limit in (1, 3, 50):
            assert bulk.search(user, query, limit) == one_by_one.search(user, query, limit)


def test_add_many_of_a_stored_document_fails_keeping_the_documents_before_it() -> None:
    index = index_of({"a": "green tea"})
    docs = [("u", "b", memory_terms("tea", ())), ("v", "c", memory_terms("tea", ()))]
    with pytest.raises(ValueError, match="'a' of 'u' is already indexed"):
        index.add_many([*docs, ("u", "a", memory_terms("coffee", ()))])
    index._check()
    assert index._postings == {"u": {"green": "a", "tea": ("a", 1, "b", 1)}, "v": {"tea": "c"}}
    with pytest.raises(ValueError, match="'d' of 'u' is already indexed"):
        index.add_many([("u", "d", memory_terms("x", ())), ("u", "d", memory_terms("y", ()))])
    index._check()
    assert index._lengths["u"]["d"] == 1 and index._postings["u"]["x"] == "d"


def test_add_many_makes_a_common_term_a_dict_at_once() -> None:
    index = KeywordIndex()
    index.add_many(("u", f"m{i}", memory_terms("tea", ())) for i in range(SMALL_POSTING + 1))
    index.add_many([("u", "one", memory_terms("rare rare", ()))])
    index._check()
    assert index._postings["u"]["tea"] == {f"m{i}": 1 for i in range(SMALL_POSTING + 1)}
    assert index._postings["u"]["rare"] == ("one", 2)
    assert index._user_length == {"u": SMALL_POSTING + 3}


@pytest.mark.parametrize("before", [0, 1, 2, SMALL_POSTING - 1, SMALL_POSTING, 2 * SMALL_POSTING])
def test_add_many_grows_every_posting_form_as_add_does(before: int) -> None:
    """A term's posting of each form (none, bare id, pairs, dict, a dict shrunk to
    below the bound) grown by 1 to SMALL_POSTING + 2 documents at once is the posting
    adding them one by one gives."""
    for shrink in (0, before // 2 + 1) if before > SMALL_POSTING else (0,):
        for added in range(1, SMALL_POSTING + 3):
            one_by_one, bulk = KeywordIndex(), KeywordIndex()
            for i in range(before):
                for index in (one_by_one, bulk):
                    index.add("u", f"old{i}", memory_terms("tea" if i % 3 else "tea tea", ()))
            for i in range(shrink):
                for index in (one_by_one, bulk):
                    index.remove("u", f"old{i}")
            fresh = [
                ("u", f"new{i}", memory_terms("tea green" * (i % 2 + 1), ())) for i in range(added)
            ]
            for doc in fresh:
                one_by_one.add(*doc)
            bulk.add_many(fresh)
            bulk._check()
            assert layout(bulk) == layout(one_by_one), (before, shrink, added)
