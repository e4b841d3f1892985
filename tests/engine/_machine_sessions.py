"""The state machine's rules for sessions, their runs and summaries (a mixin of
``test_state_machine.EngineMachine``: it uses its ``model``, ``call``, ``expect`` and
``mem``)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    rule,
)

from engine import (
    Message,
    OwnershipError,
    Run,
    Session,
    SessionSummary,
)

from ._machine_strategies import (
    AGENTS,
    LIMITS,
    MEMORY_TOPICS,
    MESSAGES,
    NAMES,
    OPT_USERS,
    ORDER,
    ROLES,
    RUN_IDS,
    RUN_LISTS,
    SESSION_IDS,
    STATES,
    TTLS,
    paginate,
    ttl_kwargs,
)
from ._reference_model import (
    ExpectedError,
    Record,
)


class SessionRules:
    # sessions -----------------------------------------------------------------

    @rule(
        sid=SESSION_IDS,
        user=OPT_USERS,
        agent=AGENTS,
        session_type=st.sampled_from(["agent", "team"]),
        name=NAMES,
        state=STATES,
        runs=RUN_LISTS,
        summary=st.one_of(st.none(), st.tuples(st.sampled_from(["sum a", "sum b"]), MEMORY_TOPICS)),
        ttl=TTLS,
    )
    def upsert_session(
        self,
        sid: str,
        user: str | None,
        agent: str | None,
        session_type: str,
        name: str | None,
        state: dict[str, Any],
        runs: list[tuple[str, list[tuple[str, str]]]],
        summary: tuple[str, list[str]] | None,
        ttl: object,
    ) -> None:
        m = self.model
        session = Session(
            session_id=sid,
            user_id=user,
            agent_id=agent,
            session_type=session_type,
            name=name,
            state=state,
            runs=tuple(
                Run(run_id=rid, messages=tuple(Message(role=r, content=c) for r, c in msgs))
                for rid, msgs in runs
            ),
            summary=None
            if summary is None
            else SessionSummary(summary=summary[0], topics=summary[1]),
        )

        def predict() -> Record:
            old = m.sessions.get(sid)
            if old is not None and old["user_id"] is not None and user != old["user_id"]:
                raise ExpectedError(OwnershipError)
            return {
                "session_id": sid,
                "user_id": user,
                "session_type": session_type,
                "agent_id": agent,
                "team_id": None,
                "workflow_id": None,
                "name": name,
                "state": json.loads(json.dumps(state)),
                "metadata": {},
                "runs": [m.run_record(rid, msgs) for rid, msgs in runs],
                "summary": None
                if summary is None
                else {"summary": summary[0], "topics": list(summary[1]), "updated_at": m.now},
                "created_at": m.now if old is None else old["created_at"],
                "updated_at": m.now,
                "expires_at": None,
            }

        outcome = self.expect(predict, self.mem.sessions.upsert, session, **ttl_kwargs(ttl))
        if outcome is None:
            return
        expected, stored = outcome
        expected["expires_at"] = m.written_deadline(
            "sessions", sid, self.resolve_ttl("sessions", ttl)
        )
        m.sessions[sid] = expected
        assert stored.to_dict() == expected

    @rule(sid=SESSION_IDS, user=OPT_USERS, runs_limit=LIMITS)
    def get_session(self, sid: str, user: str | None, runs_limit: int | None) -> None:
        got = self.call(self.mem.sessions.get, sid, user_id=user, runs_limit=runs_limit)
        session = self.model.visible_session(sid, user)
        if session is None:
            assert got is None
            return
        self.model.touch("sessions", sid)
        expected = dict(session)
        if runs_limit is not None and runs_limit < len(session["runs"]):
            expected["runs"] = session["runs"][len(session["runs"]) - runs_limit :]
        assert got is not None and got.to_dict() == expected

    @rule(sid=SESSION_IDS, run_id=RUN_IDS, messages=MESSAGES, user=OPT_USERS)
    def append_run(
        self, sid: str, run_id: str, messages: list[tuple[str, str]], user: str | None
    ) -> None:
        m = self.model
        run = Run(run_id=run_id, messages=tuple(Message(role=r, content=c) for r, c in messages))

        def predict() -> Record:
            m.session_for(sid, user)
            return m.run_record(run_id, messages)

        outcome = self.expect(predict, self.mem.sessions.append_run, sid, run, user_id=user)
        if outcome is None:
            return
        expected, stored = outcome
        assert stored.to_dict() == expected
        session = m.sessions[sid]
        runs = list(session["runs"])
        ids = [r["run_id"] for r in runs]
        if run_id in ids:
            runs[ids.index(run_id)] = expected
        else:
            runs.append(expected)
        m.update_session(session, runs=runs)

    @rule(sid=SESSION_IDS, last_n=LIMITS, user=OPT_USERS)
    def runs(self, sid: str, last_n: int | None, user: str | None) -> None:
        m = self.model

        def predict() -> list[Record]:
            runs: list[Record] = m.session_for(sid, user)["runs"]
            if last_n is not None and last_n < len(runs):
                return runs[len(runs) - last_n :]
            return runs

        outcome = self.expect(predict, self.mem.sessions.runs, sid, last_n=last_n, user_id=user)
        if outcome is not None:
            expected, got = outcome
            assert isinstance(got, tuple)
            assert [r.to_dict() for r in got] == expected
            m.touch("sessions", sid)

    @rule(
        sid=SESSION_IDS,
        last_n_runs=LIMITS,
        roles=st.one_of(st.none(), st.lists(st.sampled_from(ROLES), max_size=2)),
        user=OPT_USERS,
    )
    def messages(
        self, sid: str, last_n_runs: int | None, roles: list[str] | None, user: str | None
    ) -> None:
        m = self.model

        def predict() -> list[Record]:
            runs: list[Record] = m.session_for(sid, user)["runs"]
            if last_n_runs is not None and last_n_runs < len(runs):
                runs = runs[len(runs) - last_n_runs :]
            return [
                message
                for run in runs
                for message in run["messages"]
                if roles is None or message["role"] in roles
            ]

        outcome = self.expect(
            predict,
            self.mem.sessions.messages,
            sid,
            last_n_runs=last_n_runs,
            roles=roles,
            user_id=user,
        )
        if outcome is not None:
            expected, got = outcome
            assert [message.to_dict() for message in got] == expected
            m.touch("sessions", sid)

    @rule(sid=SESSION_IDS, name=st.sampled_from(["renamed", "Beta two", ""]), user=OPT_USERS)
    def rename(self, sid: str, name: str, user: str | None) -> None:
        m = self.model
        outcome = self.expect(
            lambda: m.session_for(sid, user), self.mem.sessions.rename, sid, name, user_id=user
        )
        if outcome is not None:
            session, got = outcome
            m.update_session(session, name=name)
            assert got.to_dict() == session

    @rule(sid=SESSION_IDS, user=OPT_USERS)
    def delete_session(self, sid: str, user: str | None) -> None:
        deleted = self.call(self.mem.sessions.delete, sid, user_id=user)
        visible = self.model.visible_session(sid, user) is not None
        assert deleted is visible
        if visible:
            self.model.remove("sessions", sid)

    @rule(sids=st.lists(SESSION_IDS, max_size=5), user=OPT_USERS)
    def delete_many(self, sids: list[str], user: str | None) -> None:
        deleted = self.call(self.mem.sessions.delete_many, sids, user_id=user)
        visible = [sid for sid in dict.fromkeys(sids) if self.model.visible_session(sid, user)]
        assert deleted == len(visible)
        for sid in visible:
            self.model.remove("sessions", sid)

    @rule(
        sid=SESSION_IDS,
        text=st.sampled_from(["they talked", "plans"]),
        topics=MEMORY_TOPICS,
        as_record=st.booleans(),
        user=OPT_USERS,
    )
    def set_summary(
        self, sid: str, text: str, topics: list[str], as_record: bool, user: str | None
    ) -> None:
        m = self.model
        if as_record:
            args: tuple[Any, ...] = (SessionSummary(summary=text, topics=topics),)
            kwargs: dict[str, Any] = {"user_id": user}
        else:
            args, kwargs = (text,), {"topics": topics, "user_id": user}

        def predict() -> Record:
            m.session_for(sid, user)
            return {"summary": text, "topics": list(topics), "updated_at": m.now}

        outcome = self.expect(predict, self.mem.sessions.set_summary, sid, *args, **kwargs)
        if outcome is not None:
            expected, got = outcome
            assert got.to_dict() == expected
            m.update_session(m.sessions[sid], summary=expected)

    @rule(sid=SESSION_IDS, user=OPT_USERS)
    def get_summary(self, sid: str, user: str | None) -> None:
        m = self.model
        outcome = self.expect(
            lambda: m.session_for(sid, user)["summary"],
            self.mem.sessions.get_summary,
            sid,
            user_id=user,
        )
        if outcome is not None:
            expected, got = outcome
            assert (None if got is None else got.to_dict()) == expected
            m.touch("sessions", sid)

    @rule(
        user=OPT_USERS,
        agent=AGENTS,
        session_type=st.sampled_from([None, "agent", "team"]),
        name_contains=st.sampled_from([None, "a", "BETA", "zzz"]),
        created_after=st.sampled_from([None, 0, 1, 5, 30]),
        created_before=st.sampled_from([None, 0, 1, 5, 30]),
        order_by=ORDER,
        descending=st.booleans(),
        limit=LIMITS,
        offset=st.integers(0, 3),
    )
    def list_sessions(
        self,
        user: str | None,
        agent: str | None,
        session_type: str | None,
        name_contains: str | None,
        created_after: float | None,
        created_before: float | None,
        order_by: str,
        descending: bool,
        limit: int | None,
        offset: int,
    ) -> None:
        """``created_after``/``created_before`` are given as seconds before now."""
        now = self.model.now
        after = None if created_after is None else now - created_after
        before = None if created_before is None else now - created_before
        got = self.call(
            self.mem.sessions.list,
            user_id=user,
            agent_id=agent,
            session_type=session_type,
            name_contains=name_contains,
            created_after=after,
            created_before=before,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        matching = [
            s
            for s in self.model.sessions.values()
            if (user is None or s["user_id"] == user)
            and (agent is None or s["agent_id"] == agent)
            and (session_type is None or s["session_type"] == session_type)
            and (
                name_contains is None
                or (s["name"] is not None and name_contains.casefold() in s["name"].casefold())
            )
            and (after is None or s["created_at"] >= after)
            and (before is None or s["created_at"] < before)
        ]
        matching.sort(key=lambda s: (s[order_by], s["session_id"]), reverse=descending)
        assert [s.to_dict() for s in got] == paginate(matching, limit, offset)

    @rule(user=OPT_USERS, limit=st.integers(0, 7))
    def recent_sessions(self, user: str | None, limit: int) -> None:
        got = self.call(self.mem.sessions.recent, user_id=user, limit=limit)
        matching = [s for s in self.model.sessions.values() if user is None or s["user_id"] == user]
        matching.sort(key=lambda s: (s["updated_at"], s["session_id"]), reverse=True)
        assert [s.to_dict() for s in got] == matching[:limit]
