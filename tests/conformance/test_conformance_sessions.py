"""Sessions: the same behaviour on every backend."""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import START, stored_counts

from engine import (
    InvalidArgument,
    Message,
    NotFound,
    OwnershipError,
    Run,
    Session,
    SessionSummary,
)


def _run(run_id: str, *texts: str) -> Run:
    roles = ("user", "assistant")
    return Run(
        run_id=run_id,
        messages=tuple(Message(role=roles[i % 2], content=t) for i, t in enumerate(texts)),
    )


async def test_upsert_then_get_returns_the_stored_session(mem: Any) -> None:
    stored = await mem.sessions.upsert(
        Session(
            session_id="s1", user_id="alice", agent_id="helper", name="First",
            state={"step": 1, "nested": {"xs": [1, 2.5, "three"]}}, metadata={"k": "v"},
            runs=(_run("r1", "hi", "hello"),),
        )
    )  # fmt: skip
    assert stored.created_at is not None and stored.created_at >= START
    assert stored.updated_at == stored.created_at
    assert stored.expires_at is None
    assert stored.runs[0].created_at == stored.updated_at
    assert all(m.created_at == stored.updated_at for m in stored.runs[0].messages)
    got = await mem.sessions.get("s1")
    assert got == stored
    assert got.state == {"step": 1, "nested": {"xs": (1, 2.5, "three")}}
    assert await mem.sessions.get("nope") is None


async def test_upsert_keeps_created_at_and_moves_updated_at(mem: Any) -> None:
    first = await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    second = await mem.sessions.upsert(Session(session_id="s1", user_id="alice", name="B"))
    assert second.created_at == first.created_at
    assert second.updated_at >= first.updated_at
    assert (await mem.sessions.get("s1")).name == "B"


async def test_upsert_takes_given_created_at_for_a_new_session(mem: Any) -> None:
    stored = await mem.sessions.upsert(Session(session_id="s1", created_at=123.5))
    assert stored.created_at == 123.5
    again = await mem.sessions.upsert(Session(session_id="s1", created_at=999.0))
    assert again.created_at == 123.5


async def test_upsert_replaces_runs_and_summary(mem: Any) -> None:
    await mem.sessions.upsert(
        Session(session_id="s1", runs=(_run("a", "x"), _run("b", "y")),
                summary=SessionSummary(summary="old"))
    )  # fmt: skip
    stored = await mem.sessions.upsert(Session(session_id="s1", runs=(_run("c", "z"),)))
    got = await mem.sessions.get("s1")
    assert got == stored
    assert [r.run_id for r in got.runs] == ["c"]
    assert got.summary is None


async def test_ownership_guard(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    with pytest.raises(OwnershipError):
        await mem.sessions.upsert(Session(session_id="s1", user_id="bob"))
    with pytest.raises(OwnershipError):
        await mem.sessions.upsert(Session(session_id="s1"))
    assert (await mem.sessions.get("s1")).user_id == "alice"
    # a session without an owner may be claimed
    await mem.sessions.upsert(Session(session_id="s2"))
    claimed = await mem.sessions.upsert(Session(session_id="s2", user_id="bob"))
    assert claimed.user_id == "bob"


async def test_user_scoping_hides_other_users_sessions(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    await mem.sessions.append_run("s1", _run("r1", "hi"))
    assert await mem.sessions.get("s1", user_id="bob") is None
    assert (await mem.sessions.get("s1", user_id="alice")).session_id == "s1"
    for call in (
        mem.sessions.rename("s1", "x", user_id="bob"),
        mem.sessions.append_run("s1", _run("r2"), user_id="bob"),
        mem.sessions.runs("s1", user_id="bob"),
        mem.sessions.messages("s1", user_id="bob"),
        mem.sessions.set_summary("s1", "s", user_id="bob"),
        mem.sessions.get_summary("s1", user_id="bob"),
    ):
        with pytest.raises(NotFound):
            await call
    assert await mem.sessions.delete("s1", user_id="bob") is False
    assert await mem.sessions.delete_many(["s1"], user_id="bob") == 0
    assert await mem.sessions.get("s1") is not None
    assert await mem.sessions.delete("s1", user_id="alice") is True


async def test_missing_session_raises_not_found(mem: Any) -> None:
    for call in (
        mem.sessions.rename("nope", "x"),
        mem.sessions.append_run("nope", _run("r")),
        mem.sessions.runs("nope"),
        mem.sessions.messages("nope"),
        mem.sessions.set_summary("nope", "s"),
        mem.sessions.get_summary("nope"),
    ):
        with pytest.raises(NotFound):
            await call


async def _three_users(mem: Any) -> None:
    await mem.sessions.upsert(
        Session(session_id="a1", user_id="alice", agent_id="ag", name="Trip to Rome")
    )
    await mem.sessions.upsert(
        Session(session_id="a2", user_id="alice", session_type="team", team_id="tm")
    )
    await mem.sessions.upsert(
        Session(session_id="b1", user_id="bob", agent_id="ag", name="rome again")
    )
    await mem.sessions.upsert(
        Session(session_id="c1", user_id="carol", session_type="workflow", workflow_id="wf")
    )
    await mem.sessions.upsert(Session(session_id="d1"))


async def test_list_filters(mem: Any) -> None:
    await _three_users(mem)

    async def ids(**kwargs: Any) -> set[str]:
        return {s.session_id for s in await mem.sessions.list(**kwargs)}

    assert await ids() == {"a1", "a2", "b1", "c1", "d1"}
    assert await ids(user_id="alice") == {"a1", "a2"}
    assert await ids(agent_id="ag") == {"a1", "b1"}
    assert await ids(team_id="tm") == {"a2"}
    assert await ids(workflow_id="wf") == {"c1"}
    assert await ids(session_type="team") == {"a2"}
    assert await ids(session_type="agent", user_id="alice") == {"a1"}
    assert await ids(name_contains="ROME") == {"a1", "b1"}
    assert await ids(user_id="alice", name_contains="rome") == {"a1"}
    assert await ids(user_id="nobody") == set()


async def test_list_order_and_pagination(mem: Any) -> None:
    ids = [f"s{i:02d}" for i in range(12)]
    for sid in ids:
        await mem.sessions.upsert(Session(session_id=sid, user_id="u"))
    newest = await mem.sessions.list(user_id="u")
    assert [s.session_id for s in newest] == ids[::-1]
    stamps = [s.updated_at for s in newest]
    assert stamps == sorted(stamps, reverse=True)
    oldest = await mem.sessions.list(user_id="u", descending=False)
    assert [s.session_id for s in oldest] == ids
    page = await mem.sessions.list(user_id="u", limit=5, offset=3)
    assert [s.session_id for s in page] == ids[::-1][3:8]
    page = await mem.sessions.list(limit=4, offset=10)
    assert [s.session_id for s in page] == ids[::-1][10:]
    assert await mem.sessions.list(limit=0) == []
    # an update moves a session to the front by updated_at, not by created_at
    await mem.sessions.rename("s00", "renamed")
    assert (await mem.sessions.recent(user_id="u", limit=1))[0].session_id == "s00"
    by_created = await mem.sessions.list(order_by="created_at", limit=2)
    assert [s.session_id for s in by_created] == ["s11", "s10"]


async def test_list_created_range(mem: Any) -> None:
    for sid, created in (("x1", 100.0), ("x2", 200.0), ("x3", 300.0)):
        await mem.sessions.upsert(Session(session_id=sid, user_id="u", created_at=created))
    got = await mem.sessions.list(created_after=200.0, order_by="created_at")
    assert [s.session_id for s in got] == ["x3", "x2"]
    got = await mem.sessions.list(created_before=300.0, order_by="created_at", descending=False)
    assert [s.session_id for s in got] == ["x1", "x2"]
    got = await mem.sessions.list(created_after=150.0, created_before=300.0)
    assert [s.session_id for s in got] == ["x2"]


async def test_recent(mem: Any) -> None:
    await _three_users(mem)
    recent = await mem.sessions.recent(limit=2)
    assert [s.session_id for s in recent] == ["d1", "c1"]
    assert [s.session_id for s in await mem.sessions.recent(user_id="alice")] == ["a2", "a1"]


async def test_rename(mem: Any) -> None:
    first = await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    await mem.sessions.append_run("s1", _run("r1", "hi"))
    renamed = await mem.sessions.rename("s1", "New name", user_id="alice")
    assert renamed.name == "New name"
    assert renamed.created_at == first.created_at
    assert [r.run_id for r in renamed.runs] == ["r1"]
    assert await mem.sessions.get("s1") == renamed


async def test_delete_and_delete_many(mem: Any) -> None:
    for sid in ("s1", "s2", "s3", "s4"):
        await mem.sessions.upsert(Session(session_id=sid, user_id="u"))
    assert await mem.sessions.delete("s1") is True
    assert await mem.sessions.delete("s1") is False
    assert await mem.sessions.delete_many(["s2", "s3", "s3", "nope"]) == 2
    assert [s.session_id for s in await mem.sessions.list()] == ["s4"]
    assert [s.session_id for s in await mem.sessions.list(user_id="u")] == ["s4"]
    with pytest.raises(InvalidArgument):
        await mem.sessions.delete_many(["s4", ""])
    assert await mem.sessions.get("s4") is not None


async def test_append_run_upserts_by_run_id(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    await mem.sessions.append_run("s1", _run("r1", "one"))
    await mem.sessions.append_run("s1", _run("r2", "two"))
    stored = await mem.sessions.append_run("s1", _run("r3", "three"))
    assert stored.created_at is not None
    replaced = await mem.sessions.append_run("s1", _run("r2", "TWO", "answer"))
    runs = await mem.sessions.runs("s1")
    assert [r.run_id for r in runs] == ["r1", "r2", "r3"]
    assert runs[1] == replaced
    assert [m.content for m in runs[1].messages] == ["TWO", "answer"]
    assert [r.run_id for r in await mem.sessions.runs("s1", last_n=2)] == ["r2", "r3"]
    assert await mem.sessions.runs("s1", last_n=0) == ()
    assert [r.run_id for r in await mem.sessions.runs("s1", last_n=10)] == ["r1", "r2", "r3"]
    got = await mem.sessions.get("s1", runs_limit=1)
    assert [r.run_id for r in got.runs] == ["r3"]
    assert (await mem.sessions.get("s1", runs_limit=0)).runs == ()


async def test_messages(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1"))
    await mem.sessions.append_run("s1", _run("r1", "q1", "a1"))
    await mem.sessions.append_run("s1", _run("r2", "q2", "a2"))
    system = Run(run_id="r3", messages=(Message(role="system", content="sys"),))
    await mem.sessions.append_run("s1", system)
    contents = [m.content for m in await mem.sessions.messages("s1")]
    assert contents == ["q1", "a1", "q2", "a2", "sys"]
    last = [m.content for m in await mem.sessions.messages("s1", last_n_runs=2)]
    assert last == ["q2", "a2", "sys"]
    users = await mem.sessions.messages("s1", roles=("user",))
    assert [m.content for m in users] == ["q1", "q2"]
    with pytest.raises(InvalidArgument):
        await mem.sessions.messages("s1", roles=("robot",))


async def test_summary(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    assert await mem.sessions.get_summary("s1") is None
    stored = await mem.sessions.set_summary("s1", "talked about Rome", topics=["travel"])
    assert stored.summary == "talked about Rome" and stored.topics == ("travel",)
    assert stored.updated_at is not None
    assert await mem.sessions.get_summary("s1", user_id="alice") == stored
    assert (await mem.sessions.get("s1")).summary == stored
    replaced = await mem.sessions.set_summary("s1", SessionSummary(summary="v2"))
    assert await mem.sessions.get_summary("s1") == replaced
    with pytest.raises(InvalidArgument):
        await mem.sessions.set_summary("s1", SessionSummary(summary="x"), topics=["t"])


async def test_session_counts(mem: Any) -> None:
    await mem.sessions.upsert(Session(session_id="s1", runs=(_run("a"), _run("b"))))
    await mem.sessions.upsert(Session(session_id="s2"))
    await mem.sessions.append_run("s2", _run("c"))
    await mem.sessions.append_run("s2", _run("c"))
    stats = await stored_counts(mem)
    assert (stats.sessions, stats.runs) == (2, 3)
    await mem.sessions.delete("s1")
    stats = await stored_counts(mem)
    assert (stats.sessions, stats.runs) == (1, 1)


async def test_payloads_are_frozen_copies(mem: Any) -> None:
    state = {"items": [1, 2]}
    await mem.sessions.upsert(Session(session_id="s1", state=state))
    state["items"].append(3)
    got = await mem.sessions.get("s1")
    assert got.state == {"items": (1, 2)}
    with pytest.raises(TypeError):
        got.state["x"] = 1  # type: ignore[index]


async def test_bad_arguments_fail_before_reaching_the_backend(mem: Any) -> None:
    with pytest.raises(TypeError):
        await mem.sessions.upsert({"session_id": "s1"})
    with pytest.raises(InvalidArgument):
        await mem.sessions.get("")
    with pytest.raises(InvalidArgument):
        await mem.sessions.list(limit=-1)
    with pytest.raises(InvalidArgument):
        await mem.sessions.upsert(Session(session_id="s1"), ttl=0)


async def test_unicode_ids_and_text(mem: Any) -> None:
    sid = "séance:{42}:ünïcode"
    await mem.sessions.upsert(Session(session_id=sid, user_id="Zoë {x}", name="Ärger"))
    await mem.sessions.append_run(sid, _run("r:1", "こんにちは"))
    got = await mem.sessions.get(sid, user_id="Zoë {x}")
    assert got.runs[0].messages[0].content == "こんにちは"
    assert [s.session_id for s in await mem.sessions.list(user_id="Zoë {x}")] == [sid]
    assert [s.session_id for s in await mem.sessions.list(name_contains="ärger")] == [sid]
