"""``EngineConfig.max_record_size``: the cheap bound never under-counts, and a write is
refused exactly when its UTF-8 JSON encoding is over the limit."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    EngineConfig,
    InvalidArgument,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._core._size import _bound, check_record_size, record_size

# any text a record accepts: every scalar value, controls (6-byte JSON escapes) included
TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=sys.maxunicode, exclude_categories=("Cs",)),
    max_size=30,
)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
IDS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=12
).filter(lambda s: not s.isspace())
MESSAGES = st.builds(
    Message,
    role=st.sampled_from(["user", "assistant"]),
    content=TEXT,
    metadata=st.dictionaries(TEXT, JSON, max_size=2),
)
RUNS = st.builds(Run, run_id=IDS, messages=st.lists(MESSAGES, max_size=3).map(tuple))
RECORDS = st.one_of(
    st.builds(
        Session,
        session_id=IDS,
        name=st.none() | TEXT,
        state=st.dictionaries(TEXT, JSON, max_size=3),
        runs=st.lists(RUNS, max_size=3, unique_by=lambda run: run.run_id).map(tuple),
        summary=st.none() | st.builds(SessionSummary, summary=TEXT),
    ),
    st.builds(
        UserMemory,
        user_id=IDS,
        memory_id=IDS,
        memory=TEXT,
        topics=st.lists(IDS, max_size=3).map(tuple),
    ),
    st.builds(
        WorkingMemory,
        conversation_id=IDS,
        data=TEXT,
        metadata=st.dictionaries(TEXT, JSON, max_size=3),
    ),
    RUNS,
)


@settings(max_examples=300)
@given(RECORDS)
def test_the_quick_bound_never_under_counts(record: Any) -> None:
    assert _bound(record) >= record_size(record)


@given(RECORDS, st.integers(min_value=1, max_value=4000))
def test_a_write_is_refused_exactly_when_its_encoding_is_over_the_limit(
    record: Any, limit: int
) -> None:
    if record_size(record) <= limit:
        check_record_size("record", record, limit)
    else:
        with pytest.raises(
            InvalidArgument, match=rf"^record: expected a record of at most {limit} bytes"
        ):
            check_record_size("record", record, limit)


@pytest.mark.parametrize("value", [0, 1023, 256 << 20 | 1, True, 2.0])
def test_the_limit_itself_is_validated(value: Any) -> None:
    with pytest.raises((TypeError, InvalidArgument), match="max_record_size"):
        EngineConfig(max_record_size=value)


def test_the_default_is_16_mib() -> None:
    assert EngineConfig().max_record_size == 16 << 20
