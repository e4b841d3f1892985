"""The Lua scripts as package files (``engine/_redis/lua``): no server needed."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

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
