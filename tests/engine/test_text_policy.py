"""The one text and number policy of every backend, as properties (hypothesis).

Ids: non-empty, at most 1024 characters, no control character (Unicode category
``Cc``) and no lone surrogate (``Cs``). Text and payload strings (values and keys):
no lone surrogate. Payload integers: 64 bits. Whatever the policy accepts encodes
exactly in the journal's JSON (orjson) and in the Redis codec's JSON; whatever it
rejects gets ``InvalidArgument`` naming the argument, never a crash further down.
"""

from __future__ import annotations

import json
import math
import sys
import unicodedata
from typing import Any

import orjson
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import FrozenDict, InvalidArgument, Message, Run, Session, open_memory_engine
from engine._core._codec import INT_MAX, INT_MIN, freeze
from engine._core._validate import MAX_ID_LENGTH, check_id, check_limit, check_offset, check_str

# every code point, surrogates included (hypothesis leaves them out by default)
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=sys.maxunicode, categories=None)
ANY_TEXT = st.text(ANY_CHAR, max_size=40)
TRICKY = st.sampled_from(["\0", "\x1f", "\x7f", "\x85", "\ud83d", "\udfff", "😀", "é", " "])
TEXT = st.one_of(ANY_TEXT, st.lists(st.one_of(TRICKY, ANY_TEXT), max_size=4).map("".join))


def has_category(text: str, category: str) -> bool:
    return any(unicodedata.category(char) == category for char in text)


def valid_id(text: str) -> bool:
    return (
        bool(text)
        and not text.isspace()
        and len(text) <= MAX_ID_LENGTH
        and not has_category(text, "Cc")
        and not has_category(text, "Cs")
    )


@given(TEXT)
def test_check_id_accepts_exactly_the_documented_ids(text: str) -> None:
    if valid_id(text):
        assert check_id("session_id", text) == text
        text.encode("utf-8")  # what the journal and Redis need
    else:
        with pytest.raises(InvalidArgument, match=r"^session_id: expected"):
            check_id("session_id", text)


@given(TEXT)
def test_check_str_rejects_exactly_lone_surrogates(text: str) -> None:
    if has_category(text, "Cs"):
        with pytest.raises(InvalidArgument, match=r"^content: expected valid Unicode text, got a"):
            check_str("content", text)
    else:
        assert check_str("content", text) == text


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def acceptable(value: Any) -> bool:
    """The reference predicate of the payload policy."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return INT_MIN <= value <= INT_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return not has_category(value, "Cs")
    if isinstance(value, list):
        return all(acceptable(item) for item in value)
    return all(not has_category(key, "Cs") and acceptable(item) for key, item in value.items())


@given(st.dictionaries(TEXT, JSON, max_size=4))
def test_payloads_are_accepted_exactly_when_every_backend_can_carry_them(value: Any) -> None:
    if not acceptable(value):
        with pytest.raises(InvalidArgument, match=r"^state"):
            freeze(value, "state")
        with pytest.raises(InvalidArgument, match=r"^FrozenDict"):
            FrozenDict(value)
        return
    frozen = freeze(value, "state")
    assert FrozenDict(value) == frozen
    # the journal (orjson) and the Redis codec (json) both carry it exactly
    assert orjson.loads(orjson.dumps(frozen)) == json.loads(json.dumps(value))
    assert json.loads(json.dumps(frozen, allow_nan=False)) == json.loads(json.dumps(value))


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_limits_and_offsets_beyond_sys_maxsize_are_invalid_arguments(number: int) -> None:
    if 0 <= number <= sys.maxsize:
        assert check_limit("limit", number) == number
        assert check_offset("offset", number) == number
        return
    with pytest.raises(InvalidArgument, match=r"^limit: expected"):
        check_limit("limit", number)
    with pytest.raises(InvalidArgument, match=r"^offset: expected"):
        check_offset("offset", number)


def test_a_frozen_dict_built_directly_cannot_smuggle_a_nan_into_a_record() -> None:
    with pytest.raises(InvalidArgument, match=r"FrozenDict\['x'\]: expected a JSON value"):
        Session(session_id="s", state=FrozenDict({"x": math.nan}))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=6))
def test_the_durable_engine_reopens_with_exactly_the_text_it_acknowledged(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]]
) -> None:
    """Random ids and contents: each write is rejected up front or survives a restart."""
    directory = tmp_path_factory.mktemp("data")
    pairs = [*pairs, ("s-known-good", "NUL \0, astral 😀, RTL שלום")]

    async def write() -> dict[str, str]:
        acknowledged: dict[str, str] = {}
        async with open_memory_engine(shards=2, data_dir=directory, fsync="no") as mem:
            for session_id, content in pairs:
                try:
                    session = Session(session_id=session_id)
                    message = Message(role="user", content=content)
                except InvalidArgument:
                    assert not valid_id(session_id) or has_category(content, "Cs")
                    continue
                await mem.sessions.upsert(session)
                await mem.sessions.append_run(session_id, Run(run_id="r", messages=(message,)))
                acknowledged[session_id] = content
        return acknowledged

    async def read(ids: list[str]) -> dict[str, str]:
        async with open_memory_engine(shards=2, data_dir=directory) as mem:
            out = {}
            for session_id in ids:
                messages = await mem.sessions.messages(session_id)
                out[session_id] = messages[-1].content
            return out

    acknowledged = trio.run(write)
    assert "s-known-good" in acknowledged
    assert trio.run(read, list(acknowledged)) == acknowledged


@pytest.mark.parametrize("start_time", [math.nan, math.inf, -math.inf, 1e300])
async def test_a_start_time_that_no_clock_can_reach_is_refused(start_time: float) -> None:
    with pytest.raises(InvalidArgument, match=r"^start_time: expected"):
        async with open_memory_engine(start_time=start_time):
            pass  # pragma: no cover


async def test_an_empty_data_dir_is_refused_rather_than_the_current_directory() -> None:
    with pytest.raises(InvalidArgument, match=r"^data_dir: expected a non-empty path"):
        async with open_memory_engine(data_dir=""):
            pass  # pragma: no cover
