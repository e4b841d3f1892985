"""``mem.sessions``: upsert, scoping, ownership, lists, runs, messages, summaries."""

from __future__ import annotations

import pytest
import trio
from trio.testing import MockClock

from engine import (
    MemoryEngine,
    Message,
    NotFound,
    OwnershipError,
    Run,
    Session,
    SessionSummary,
)

from .conftest import START


def run(run_id: str, *texts: str) -> Run:
    return Run(
        run_id=run_id,
        messages=tuple(
            Message(role="user" if i % 2 == 0 else "assistant", content=t)
            for i, t in enumerate(texts)
        ),
    )


async def test_upsert_fills_timestamps_and_get_returns_it(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    stored = await mem.sessions.upsert(Session(session_id="s1", user_id="alice", state={"a": 1}))
    assert stored.created_at == stored.updated_at == START
    assert stored.expires_at is None
    assert await mem.sessions.get("s1") == stored
    await trio.sleep(5)
    again = await mem.sessions.upsert(Session(session_id="s1", user_id="alice", name="x"))
    assert again.created_at == START and again.updated_at == START + 5
    assert (await mem.sessions.get("s1")).name == "x"  # type: ignore[union-attr]


async def test_stored_state_cannot_be_mutated_by_the_caller(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    state = {"items": [1, 2]}
    await mem.sessions.upsert(Session(session_id="s1", state=state))
    state["items"].append(3)
    got = await mem.sessions.get("s1")
    assert got is not None and got.state == {"items": (1, 2)}
    with pytest.raises(TypeError, match="immutable"):
        got.state["new"] = 1  # type: ignore[index]


async def test_get_missing_or_other_users_session_is_none(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    assert await mem.sessions.get("nope") is None
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    assert await mem.sessions.get("s1", user_id="bob") is None
    assert await mem.sessions.get("s1", user_id="alice") is not None


async def test_ownership_guard(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice", name="mine"))
    with pytest.raises(OwnershipError, match="s1"):
        await mem.sessions.upsert(Session(session_id="s1", user_id="bob", name="stolen"))
    with pytest.raises(OwnershipError):
        await mem.sessions.upsert(Session(session_id="s1", user_id=None))
    got = await mem.sessions.get("s1")
    assert got is not None and got.user_id == "alice" and got.name == "mine"
    # An unowned session may be claimed.
    await mem.sessions.upsert(Session(session_id="s2"))
    assert (await mem.sessions.upsert(Session(session_id="s2", user_id="bob"))).user_id == "bob"


async def test_scoped_updates_of_another_users_session_are_not_found(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    with pytest.raises(NotFound):
        await mem.sessions.rename("s1", "x", user_id="bob")
    with pytest.raises(NotFound):
        await mem.sessions.append_run("s1", run("r1", "hi"), user_id="bob")
    with pytest.raises(NotFound):
        await mem.sessions.messages("s1", user_id="bob")
    assert await mem.sessions.delete("s1", user_id="bob") is False
    assert await mem.sessions.get("s1") is not None
    assert await mem.sessions.delete("s1", user_id="alice") is True
    assert await mem.sessions.get("s1") is None


async def test_append_run_keeps_order_and_upserts_by_run_id(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    for i in range(5):
        await mem.sessions.append_run("s1", run(f"r{i}", f"q{i}", f"a{i}"))
        await trio.sleep(1)
    replaced = await mem.sessions.append_run("s1", run("r2", "new question"))
    runs = await mem.sessions.runs("s1")
    assert [r.run_id for r in runs] == ["r0", "r1", "r2", "r3", "r4"]
    assert runs[2] == replaced and runs[2].messages[0].content == "new question"
    assert [r.run_id for r in await mem.sessions.runs("s1", last_n=2)] == ["r3", "r4"]
    assert await mem.sessions.runs("s1", last_n=0) == ()
    session = await mem.sessions.get("s1", runs_limit=1)
    assert session is not None and [r.run_id for r in session.runs] == ["r4"]
    assert mem.statistics().runs == 5


async def test_messages_last_n_runs_and_roles(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await mem.sessions.upsert(Session(session_id="s1"))
    for i in range(4):
        await mem.sessions.append_run("s1", run(f"r{i}", f"q{i}", f"a{i}"))
    contents = [m.content for m in await mem.sessions.messages("s1", last_n_runs=2)]
    assert contents == ["q2", "a2", "q3", "a3"]
    users = await mem.sessions.messages("s1", roles=["user"])
    assert [m.content for m in users] == ["q0", "q1", "q2", "q3"]
    assert await mem.sessions.messages("s1", last_n_runs=0) == []
    with pytest.raises(NotFound):
        await mem.sessions.messages("missing")


async def test_summary_set_and_get(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await mem.sessions.upsert(Session(session_id="s1"))
    assert await mem.sessions.get_summary("s1") is None
    await trio.sleep(3)
    stored = await mem.sessions.set_summary("s1", "talked about cats", topics=["cats"])
    assert stored == SessionSummary(
        summary="talked about cats", topics=("cats",), updated_at=START + 3
    )
    assert await mem.sessions.get_summary("s1") == stored
    explicit = SessionSummary(summary="dogs now", topics=("dogs",))
    assert (await mem.sessions.set_summary("s1", explicit)).summary == "dogs now"
    with pytest.raises(NotFound):
        await mem.sessions.set_summary("missing", "x")


async def test_rename(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    await trio.sleep(2)
    renamed = await mem.sessions.rename("s1", "Trip planning", user_id="alice")
    assert renamed.name == "Trip planning" and renamed.updated_at == START + 2
    with pytest.raises(NotFound):
        await mem.sessions.rename("missing", "x")


async def _populate(mem: MemoryEngine) -> None:
    # 30 sessions over 3 users, 2 agents, one team; one second apart.
    for i in range(30):
        await mem.sessions.upsert(
            Session(
                session_id=f"s{i:02d}",
                user_id=f"u{i % 3}",
                agent_id=f"agent{i % 2}",
                team_id="team" if i % 5 == 0 else None,
                session_type="team" if i % 5 == 0 else "agent",
                name=f"Chat number {i}",
            )
        )
        await trio.sleep(1)


async def test_list_filters_ordering_and_pagination(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await _populate(mem)
    by_user = await mem.sessions.list(user_id="u1")
    assert [s.session_id for s in by_user] == [f"s{i:02d}" for i in range(28, 0, -3)]
    oldest = await mem.sessions.list(user_id="u1", descending=False, limit=3)
    assert [s.session_id for s in oldest] == ["s01", "s04", "s07"]
    page = await mem.sessions.list(user_id="u1", limit=3, offset=3)
    assert [s.session_id for s in page] == ["s19", "s16", "s13"]
    agent = await mem.sessions.list(agent_id="agent0", limit=100)
    assert {s.session_id for s in agent} == {f"s{i:02d}" for i in range(0, 30, 2)}
    teams = await mem.sessions.list(session_type="team")
    assert [s.session_id for s in teams] == ["s25", "s20", "s15", "s10", "s05", "s00"]
    assert [s.session_id for s in await mem.sessions.list(team_id="team", limit=2)] == [
        "s25",
        "s20",
    ]
    named = await mem.sessions.list(name_contains="NUMBER 1")
    assert {s.session_id for s in named} == {"s01"} | {f"s{i}" for i in range(10, 20)}
    ranged = await mem.sessions.list(
        order_by="created_at",
        descending=False,
        created_after=START + 10,
        created_before=START + 13,
    )
    assert [s.session_id for s in ranged] == ["s10", "s11", "s12"]
    assert await mem.sessions.list(limit=0) == []
    assert len(await mem.sessions.list()) == 30


async def test_recent_is_newest_updated_first_across_shards(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await _populate(mem)
    await mem.sessions.append_run("s03", run("r", "bump"))
    recent = await mem.sessions.recent(limit=4)
    assert [s.session_id for s in recent] == ["s03", "s29", "s28", "s27"]
    mine = await mem.sessions.recent(user_id="u0", limit=2)
    assert [s.session_id for s in mine] == ["s03", "s27"]
    # updated_at order moved, created_at order did not
    first = await mem.sessions.list(order_by="created_at", descending=False, limit=4)
    assert [s.session_id for s in first] == ["s00", "s01", "s02", "s03"]


async def test_delete_many(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    await _populate(mem)
    ids = [f"s{i:02d}" for i in range(10)] + ["missing"]
    assert await mem.sessions.delete_many(ids, user_id="u0") == 4  # s00 s03 s06 s09
    assert await mem.sessions.delete_many(ids) == 6
    assert len(await mem.sessions.list()) == 20
    assert await mem.sessions.delete_many([]) == 0


async def test_session_ttl_and_refresh_on_update(
    mem: MemoryEngine, autojump_clock: MockClock
) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="a"), ttl=10)
    await trio.sleep(8)
    await mem.sessions.append_run("s1", run("r1", "hi"))  # refresh_on_update: +10 s from now
    await trio.sleep(8)
    got = await mem.sessions.get("s1")
    assert got is not None and got.expires_at == START + 18
    await trio.sleep(3)
    assert await mem.sessions.get("s1") is None
    assert await mem.sessions.list(user_id="a") == []
    assert mem.statistics().expired == 1
