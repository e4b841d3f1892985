"""One text policy on every backend: what is refused, what round-trips, and that a
refused call changes nothing and leaves the engine serving (on Redis it used to kill
the connection task, and NUL in ids let two users' memories share a key)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conformance_helpers import stored_counts

from engine import (
    InvalidArgument,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
)

SURROGATE = json.loads('"\\ud83d"')  # what json.loads makes of half an emoji

REFUSED: list[tuple[str, Callable[[Any], Awaitable[Any]], str]] = [
    ("NUL in session_id", lambda m: m.sessions.get("s\0x"), "session_id"),
    ("tab in user_id", lambda m: m.sessions.list(user_id="u\t"), "user_id"),
    ("C1 control in agent_id", lambda m: m.sessions.list(agent_id="a\x85"), "agent_id"),
    (
        "NUL in memory_id (the old cross-user key collision)",
        lambda m: m.memories.upsert(UserMemory(user_id="u0", memory_id="x\0y", memory="m")),
        "memory_id",
    ),
    ("NUL in user_id", lambda m: m.memories.get("y", user_id="u0\0x"), "user_id"),
    ("DEL in topic", lambda m: m.memories.list(topics=["a\x7f"]), "topics"),
    ("NUL in conversation_id", lambda m: m.working.store("c\0", "x"), "conversation_id"),
    ("NUL in doc_id", lambda m: m.knowledge.get("d\0"), "doc_id"),
    ("surrogate in session_id", lambda m: m.sessions.get("s" + SURROGATE), "session_id"),
    (
        "surrogate in message content",
        lambda m: m.sessions.append_run(
            "s", Run(run_id="r", messages=(Message(role="user", content="hi " + SURROGATE),))
        ),
        "content",
    ),
    (
        "surrogate in session name",
        lambda m: m.sessions.upsert(Session(session_id="s2", name=SURROGATE)),
        "name",
    ),
    ("surrogate in working data", lambda m: m.working.store("c", SURROGATE), "data"),
    (
        "surrogate in a payload key",
        lambda m: m.working.store("c", "x", metadata={SURROGATE: 1}),
        "metadata",
    ),
    (
        "surrogate deep in session state",
        lambda m: m.sessions.upsert(Session(session_id="s2", state={"a": [{"b": SURROGATE}]})),
        r"state\['a'\]\[0\]\['b'\]",
    ),
    ("surrogate in a search query", lambda m: m.memories.search("u", SURROGATE), "query"),
    (
        "surrogate in a summary",
        lambda m: m.sessions.set_summary("s", SessionSummary(summary=SURROGATE)),
        "summary",
    ),
    ("integer beyond 64 bits", lambda m: m.working.store("c", "x", metadata={"n": 2**64}), "n"),
    ("limit beyond sys.maxsize", lambda m: m.sessions.list(limit=2**64), "limit"),
    ("offset beyond sys.maxsize", lambda m: m.memories.list(offset=2**63), "offset"),
]


@pytest.mark.parametrize(("name", "call", "field"), REFUSED, ids=[case[0] for case in REFUSED])
async def test_refused_text_changes_nothing_and_the_engine_keeps_serving(
    mem: Any, name: str, call: Callable[[Any], Awaitable[Any]], field: str
) -> None:
    await mem.sessions.upsert(Session(session_id="s", user_id="u"))
    await mem.working.store("c", "before")
    before = await stored_counts(mem)
    with pytest.raises(InvalidArgument, match=field):
        await call(mem)
    assert await stored_counts(mem) == before
    assert (await mem.working.retrieve("c")).data == "before"
    assert (await mem.sessions.get("s")).runs == ()


EXOTIC = [
    "emoji 😀 and 👩‍👩‍👧",
    "中文 and עברית",
    "spaces inside an id",
    "x" * 1024,
]


@pytest.mark.parametrize("ident", EXOTIC, ids=["emoji", "cjk-rtl", "spaces", "max-length"])
async def test_any_valid_unicode_id_round_trips_on_every_kind(mem: Any, ident: str) -> None:
    content = f"NUL \0 inside content is fine; {ident}"
    await mem.sessions.upsert(Session(session_id=ident, user_id=ident, name=content))
    await mem.sessions.append_run(
        ident, Run(run_id=ident, messages=(Message(role="user", content=content),))
    )
    assert [m.content for m in await mem.sessions.messages(ident)] == [content]
    assert [s.session_id for s in await mem.sessions.list(user_id=ident)] == [ident]
    memory = UserMemory(user_id=ident, memory_id=ident, memory=content, topics=(ident,))
    await mem.memories.upsert(memory)
    assert (await mem.memories.get(ident, user_id=ident)).memory == content
    assert await mem.memories.topics(user_id=ident) == [ident]
    await mem.working.store(ident, content, memory_type=ident, metadata={ident: content})
    stored = await mem.working.retrieve(ident, memory_type=ident)
    assert (stored.data, dict(stored.metadata)) == (content, {ident: content})
    await mem.knowledge.upsert(KnowledgeDoc(doc_id=ident, name=content))
    assert (await mem.knowledge.get(ident)).name == content


async def test_two_users_ids_that_once_collided_stay_apart(mem: Any) -> None:
    """``(u0, x\\0y)`` and ``(u0\\0x, y)`` joined with NUL were one Redis key; now the
    first cannot be written, and ids that merely look alike stay two memories."""
    with pytest.raises(InvalidArgument, match="memory_id"):
        await mem.memories.upsert(UserMemory(user_id="u0", memory_id="x\0y", memory="a"))
    await mem.memories.upsert(UserMemory(user_id="u0", memory_id="x y", memory="a"))
    await mem.memories.upsert(UserMemory(user_id="u0 x", memory_id="y", memory="b"))
    assert (await mem.memories.get("x y", user_id="u0")).memory == "a"
    assert (await mem.memories.get("y", user_id="u0 x")).memory == "b"
    assert await mem.memories.get("y", user_id="u0") is None
