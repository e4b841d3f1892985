"""``EngineConfig.max_record_size`` on every backend: a write over it is refused before
it reaches a shard or the server, and nothing changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conformance_helpers import stored_counts

from engine import (
    EngineConfig,
    InvalidArgument,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
)

LIMIT = 4096
BIG = "x" * LIMIT


@pytest.fixture
def engine_config() -> EngineConfig:
    return EngineConfig(max_record_size=LIMIT)


OVERSIZED: list[tuple[str, Callable[[Any], Awaitable[Any]], str]] = [
    ("session", lambda m: m.sessions.upsert(Session(session_id="s2", state={"b": BIG})), "session"),
    (
        "run",
        lambda m: m.sessions.append_run(
            "s", Run(run_id="r", messages=(Message(role="user", content=BIG),))
        ),
        "run",
    ),
    ("summary", lambda m: m.sessions.set_summary("s", SessionSummary(summary=BIG)), "summary"),
    ("name", lambda m: m.sessions.rename("s", BIG), "name"),
    ("memory", lambda m: m.memories.upsert(UserMemory(user_id="u", memory=BIG)), "memory"),
    ("working store", lambda m: m.working.store("c", BIG), "working memory"),
    ("working update", lambda m: m.working.update("c", BIG), "data"),
    ("doc", lambda m: m.knowledge.upsert(KnowledgeDoc(doc_id="d", name=BIG)), "doc"),
]


@pytest.mark.parametrize(("name", "call", "field"), OVERSIZED, ids=[c[0] for c in OVERSIZED])
async def test_a_write_over_the_limit_is_refused_and_changes_nothing(
    mem: Any, name: str, call: Callable[[Any], Awaitable[Any]], field: str
) -> None:
    await mem.sessions.upsert(Session(session_id="s", user_id="u", name="before"))
    await mem.working.store("c", "before")
    before = await stored_counts(mem)
    with pytest.raises(InvalidArgument, match=rf"^{field}: expected a record of at most {LIMIT}"):
        await call(mem)
    assert await stored_counts(mem) == before
    session = await mem.sessions.get("s")
    assert (session.name, session.runs, session.summary) == ("before", (), None)
    assert (await mem.working.retrieve("c")).data == "before"


async def test_a_write_at_the_limit_is_accepted(mem: Any) -> None:
    await mem.working.store("c", "x" * (LIMIT - 200))
    assert len((await mem.working.retrieve("c")).data) == LIMIT - 200
