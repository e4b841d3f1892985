"""The hypothesis strategies and small helpers of the engine state machine."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from engine import (
    KindPolicy,
)

ALL_SESSION_IDS = ["s0", "s1", "s2", "s3", "s4", "s5"]
SESSION_IDS = st.sampled_from(ALL_SESSION_IDS)
USERS = st.sampled_from(["alice", "bob", "carol"])
ALL_MEMORY_USERS = ["alice", "bob"]  # fewer, so each has a corpus to search
MEMORY_USERS = st.sampled_from(ALL_MEMORY_USERS)
OPT_USERS = st.one_of(st.none(), USERS)
AGENTS = st.sampled_from([None, "helper", "planner"])
NAMES = st.sampled_from([None, "alpha", "Beta chat", ""])
ROLES = ("system", "user", "assistant", "tool")
MESSAGES = st.lists(
    st.tuples(st.sampled_from(ROLES), st.sampled_from(["hi", "hello there", "ok", "bye"])),
    max_size=3,
)
RUN_IDS = st.sampled_from(["r0", "r1", "r2", "r3"])
RUN_LISTS = st.lists(st.tuples(RUN_IDS, MESSAGES), max_size=3, unique_by=lambda r: r[0])
SEED_RUN_LISTS = st.lists(
    st.tuples(RUN_IDS, MESSAGES), min_size=1, max_size=3, unique_by=lambda r: r[0]
)
LIMITS = st.one_of(st.none(), st.integers(0, 4))


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()  # "don't pass ttl=": the kind's configured default
TTLS = st.sampled_from([OMIT, None, 0.25, 1, 2.5, 5, 10, 30])
STEPS = st.sampled_from([0.25, 0.5, 1, 1, 2, 2.5, 5, 10, 30, 43_200])
STATES = st.sampled_from([{}, {"step": 1}, {"step": 2, "tags": ["a", "b"], "nested": {"x": None}}])
VOCABULARY = ["alice", "likes", "green", "tea", "lives", "in", "paris", "dog", "coffee", "name"]
TOPICS = ["food", "name", "travel", "pets", "work tasks"]
MEMORY_TTLS = st.sampled_from([OMIT, None, OMIT, None, 1, 5, 30])
ALL_MEMORY_IDS = ["m0", "m1", "m2", "m3", "m4"]
MEMORY_IDS = st.sampled_from(ALL_MEMORY_IDS)
MEMORY_TEXTS = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5).map(" ".join)
MEMORY_TOPICS = st.lists(st.sampled_from(TOPICS), max_size=3)
QUERY_EXTRAS = [*VOCABULARY, "food", "work", "zebra", "the", "IN"]
ALL_CONVERSATIONS = ["c0", "c1", "c2", "c3"]
CONVERSATIONS = st.sampled_from(ALL_CONVERSATIONS)
ALL_MEMORY_TYPES = ["working", "scratch"]
MEMORY_TYPES = st.sampled_from(ALL_MEMORY_TYPES)
ALL_DOC_IDS = ["d0", "d1", "d2"]
DOC_IDS = st.sampled_from(ALL_DOC_IDS)
STATUSES = st.sampled_from(["ready", "pending"])
ORDER = st.sampled_from(["updated_at", "created_at"])
POLICIES = st.builds(KindPolicy, refresh_on_read=st.booleans(), refresh_on_update=st.booleans())


def ttl_kwargs(ttl: object) -> dict[str, Any]:
    return {} if ttl is OMIT else {"ttl": ttl}


def paginate(items: list[Any], limit: int | None, offset: int) -> list[Any]:
    return items[offset:] if limit is None else items[offset : offset + limit]
