"""Bad input gets a clear error naming the argument, and nothing stored changes."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from engine import (
    InvalidArgument,
    KnowledgeDoc,
    MemoryEngine,
    Message,
    Run,
    Session,
    UserMemory,
)

Call = Callable[[MemoryEngine], Awaitable[Any]]

CASES: list[tuple[str, Call, type[Exception], str]] = [
    # ids: empty, blank, non-str
    ("empty session_id", lambda m: m.sessions.get(""), InvalidArgument, "session_id"),
    ("blank session_id", lambda m: m.sessions.get("   "), InvalidArgument, "session_id"),
    (
        "int session_id",
        lambda m: m.sessions.get(7),
        TypeError,
        "session_id: expected a non-empty str, got int",
    ),  # type: ignore[arg-type]
    ("None user_id for memory", lambda m: m.memories.get("m", user_id=None), TypeError, "user_id"),  # type: ignore[arg-type]
    ("bytes conversation_id", lambda m: m.working.retrieve(b"c"), TypeError, "conversation_id"),  # type: ignore[arg-type]
    ("empty doc_id", lambda m: m.knowledge.delete(""), InvalidArgument, "doc_id"),
    # TTLs
    ("negative ttl", lambda m: m.working.store("c", "x", ttl=-1), InvalidArgument, "ttl"),
    ("zero ttl", lambda m: m.working.store("c", "x", ttl=0), InvalidArgument, "ttl"),
    ("nan ttl", lambda m: m.working.store("c", "x", ttl=math.nan), InvalidArgument, "ttl"),
    ("inf ttl", lambda m: m.working.store("c", "x", ttl=math.inf), InvalidArgument, "ttl"),
    ("str ttl", lambda m: m.working.store("c", "x", ttl="10"), TypeError, "ttl"),
    ("bool ttl", lambda m: m.sessions.upsert(Session(session_id="s"), ttl=True), TypeError, "ttl"),
    ("nan ttl update", lambda m: m.working.update("c", "x", ttl=math.nan), InvalidArgument, "ttl"),
    # payloads
    (
        "set in metadata",
        lambda m: m.working.store("c", "x", metadata={"s": {1}}),
        TypeError,
        r"metadata\['s'\]",
    ),
    (
        "object in update metadata",
        lambda m: m.working.update("c", "x", metadata={"o": object()}),
        TypeError,
        r"metadata\['o'\]",
    ),
    ("non-str data", lambda m: m.working.store("c", {"a": 1}), TypeError, "data"),  # type: ignore[arg-type]
    # limits and offsets
    ("negative limit", lambda m: m.sessions.list(limit=-1), InvalidArgument, "limit"),
    ("float limit", lambda m: m.sessions.list(limit=2.5), TypeError, "limit"),  # type: ignore[arg-type]
    ("negative offset", lambda m: m.memories.list(offset=-3), InvalidArgument, "offset"),
    ("negative recent", lambda m: m.sessions.recent(limit=-1), InvalidArgument, "limit"),
    (
        "negative runs_limit",
        lambda m: m.sessions.get("s", runs_limit=-1),
        InvalidArgument,
        "runs_limit",
    ),
    (
        "negative last_n_runs",
        lambda m: m.sessions.messages("s", last_n_runs=-2),
        InvalidArgument,
        "last_n_runs",
    ),
    (
        "negative search limit",
        lambda m: m.memories.search("u", "q", limit=-1),
        InvalidArgument,
        "limit",
    ),
    # choices
    ("bad order_by", lambda m: m.sessions.list(order_by="name"), InvalidArgument, "order_by"),
    (
        "bad session_type",
        lambda m: m.sessions.list(session_type="bot"),
        InvalidArgument,
        "session_type",
    ),
    ("bad role", lambda m: m.sessions.messages("s", roles=["robot"]), InvalidArgument, "roles"),
    ("bad descending", lambda m: m.knowledge.list(descending="yes"), TypeError, "descending"),  # type: ignore[arg-type]
    # wrong record types
    (
        "dict as session",
        lambda m: m.sessions.upsert({"session_id": "s"}),
        TypeError,
        "session: expected Session, got dict",
    ),  # type: ignore[arg-type]
    (
        "session as memory",
        lambda m: m.memories.upsert(Session(session_id="s")),
        TypeError,
        "memory",
    ),  # type: ignore[arg-type]
    ("dict as run", lambda m: m.sessions.append_run("s", {"run_id": "r"}), TypeError, "run"),  # type: ignore[arg-type]
    ("bad summary", lambda m: m.sessions.set_summary("s", 42), TypeError, "summary"),  # type: ignore[arg-type]
    ("str as session_ids", lambda m: m.sessions.delete_many("s1"), TypeError, "session_ids"),
]


@pytest.mark.parametrize(
    ("call", "error", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_argument_is_rejected_and_changes_nothing(
    mem: MemoryEngine, call: Call, error: type[Exception], match: str
) -> None:
    await mem.sessions.upsert(Session(session_id="s", user_id="u"))
    await mem.working.store("c", "kept")
    before = await mem.snapshot()
    with pytest.raises(error, match=match):
        await call(mem)
    after = await mem.snapshot()
    assert {k: v for k, v in after.items() if k != "taken_at"} == {
        k: v for k, v in before.items() if k != "taken_at"
    }
    # The shard keeps serving.
    assert (await mem.working.retrieve("c")).data == "kept"  # type: ignore[union-attr]


RECORD_CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("unknown field", lambda: Session(session_id="s", colour="red"), TypeError, "colour"),  # type: ignore[call-arg]
    ("bad role", lambda: Message(role="robot", content="x"), InvalidArgument, "Message.role"),
    ("non-str content", lambda: Message(role="user", content=3), TypeError, "Message.content"),  # type: ignore[arg-type]
    (
        "duplicate run ids",
        lambda: Session(session_id="s", runs=(Run(run_id="r"), Run(run_id="r"))),
        InvalidArgument,
        "unique run_id",
    ),
    (
        "dict in runs",
        lambda: Session(session_id="s", runs=({"run_id": "r"},)),
        TypeError,
        r"Session.runs\[0\]",
    ),  # type: ignore[arg-type]
    (
        "str topics",
        lambda: UserMemory(user_id="u", memory="m", topics="pets"),
        TypeError,
        "UserMemory.topics",
    ),  # type: ignore[arg-type]
    (
        "empty topic",
        lambda: UserMemory(user_id="u", memory="m", topics=("",)),
        InvalidArgument,
        "UserMemory.topics",
    ),
    (
        "nan in state",
        lambda: Session(session_id="s", state={"x": math.nan}),
        InvalidArgument,
        r"Session.state\['x'\]",
    ),
    (
        "int key in metadata",
        lambda: KnowledgeDoc(doc_id="d", name="n", metadata={1: "a"}),
        TypeError,
        "keys of type str",
    ),  # type: ignore[dict-item]
    (
        "list as state",
        lambda: Session(session_id="s", state=[1, 2]),
        TypeError,
        "Session.state: expected a dict",
    ),  # type: ignore[arg-type]
    (
        "nan timestamp",
        lambda: Session(session_id="s", created_at=math.nan),
        InvalidArgument,
        "Session.created_at",
    ),
    (
        "unknown from_dict field",
        lambda: Session.from_dict({"session_id": "s", "x": 1}),
        InvalidArgument,
        r"unknown fields \['x'\]",
    ),
    (
        "missing from_dict field",
        lambda: UserMemory.from_dict({"memory": "m"}),
        InvalidArgument,
        "user_id",
    ),
    (
        "deep payload",
        lambda: Session(session_id="s", state=_deep(100)),
        InvalidArgument,
        "nested at most 64",
    ),
]


def _deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    ("build", "error", "match"), [c[1:] for c in RECORD_CASES], ids=[c[0] for c in RECORD_CASES]
)
def test_bad_record_is_rejected_at_construction(
    build: Callable[[], object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        build()


def test_errors_subclass_the_builtins() -> None:
    from engine import EngineClosed, EngineError, NotFound, Overloaded, OwnershipError

    assert issubclass(NotFound, LookupError) and issubclass(NotFound, EngineError)
    assert issubclass(OwnershipError, PermissionError)
    assert issubclass(InvalidArgument, ValueError)
    assert issubclass(Overloaded, EngineError) and issubclass(EngineClosed, EngineError)
