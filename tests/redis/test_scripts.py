"""The Lua scripts as package files (``engine/_redis/lua``): no server needed."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

from engine._redis._scripts import SCRIPTS

REDIS = Path(__file__).resolve().parents[2] / "engine" / "_redis"


def _script_names_called() -> set[str]:
    """The first argument of every ``<conn>.run("name", ...)`` in the Redis backend."""
    names = set()
    for path in REDIS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "run"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
    return names


def test_one_file_per_script_and_every_one_is_called() -> None:
    files = {path.stem for path in (REDIS / "lua").glob("*.lua")}
    assert files == set(SCRIPTS) | {"prelude"}
    assert _script_names_called() == set(SCRIPTS)


def test_each_script_is_the_prelude_then_its_file() -> None:
    prelude = (REDIS / "lua" / "prelude.lua").read_text()
    assert "local function sweep" in prelude
    for name, script in SCRIPTS.items():
        assert script.name == name
        assert script.body == prelude + (REDIS / "lua" / f"{name}.lua").read_text()
        assert script.sha == hashlib.sha1(script.body.encode()).hexdigest()
        assert script.body.endswith("\n") and f"-- {name}.lua" in script.body


def test_each_pipelined_operation_first_awaits_a_script_call() -> None:
    """The Redis pipeline runs operations against a DeferredConnection: an operation
    may await nothing but ``conn.run``. Every builder's call starts with one."""
    pytest.importorskip("coredis", reason="install the redis extra")
    from engine import EngineConfig, KnowledgeDoc, Run, Session, UserMemory
    from engine._api._knowledge import KnowledgeRequests
    from engine._api._memories import MemoryRequests
    from engine._api._session_requests import SessionRequests
    from engine._api._working import WorkingRequests
    from engine._core._ops import OPS
    from engine._redis._ops import RedisOps
    from engine._redis._pipeline import DeferredConnection

    config = EngineConfig()
    sessions, memories = SessionRequests(config), MemoryRequests(config)
    working, knowledge = WorkingRequests(config), KnowledgeRequests(config)
    calls = [
        sessions.upsert(Session(session_id="s")),
        sessions.get("s"),
        sessions.rename("s", "n"),
        sessions.delete("s"),
        sessions.append_run("s", Run(run_id="r")),
        sessions.runs("s"),
        sessions.messages("s"),
        sessions.set_summary("s", "x"),
        sessions.get_summary("s"),
        memories.upsert(UserMemory(memory="m", user_id="u")),
        memories.get("m", user_id="u"),
        memories.search("u", "tea"),
        memories.delete("m", user_id="u"),
        memories.clear("u"),
        working.store("c", "x"),
        working.retrieve("c"),
        working.update("c", "y"),
        working.delete("c"),
        knowledge.upsert(KnowledgeDoc(doc_id="d", name="n")),
        knowledge.get("d"),
        knowledge.delete("d"),
    ]
    assert {call.op for call in calls} == {op for op in OPS.values() if op.pipelined}
    deferred = RedisOps(DeferredConnection(), config).by_op()  # type: ignore[arg-type]
    for op, args, _ in calls:
        coroutine = deferred[op](0, 0.0, *args)
        try:
            first = coroutine.send(None)
        finally:
            coroutine.close()
        assert type(first).__name__ == "_Call" and first.name in SCRIPTS, op
