"""Packaging: the wheel holds every package folder, and public objects present as ``engine``."""

from __future__ import annotations

import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("actors", "engine", "bench")


def test_version_comes_from_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert engine.__version__ == version("shardmem")


def test_public_objects_present_as_engine_members() -> None:
    for name in engine.__all__:
        value = getattr(engine, name)
        if isinstance(value, type) or callable(value):
            assert value.__module__ == "engine", f"engine.{name}.__module__ = {value.__module__}"
    assert engine.Message.__qualname__ == "Message"


def test_records_still_pickle_after_the_module_fixup() -> None:
    message = engine.Message(role="user", content="hi")
    run = engine.Run(run_id="r1", messages=(message,))
    for value in (message, run, engine.FrozenDict({"a": 1})):
        assert pickle.loads(pickle.dumps(value)) == value
    assert b"engine._core._records" not in pickle.dumps(message)


def test_wheel_contains_every_python_folder(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("shardmem-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    folders = {
        path.parent.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = sorted(f for f in folders if f"{f}/__init__.py" not in names)
    assert not missing, f"package folders missing from the wheel: {missing}"
    for package in PACKAGES:
        assert f"{package}/py.typed" in names
    lua = {path.relative_to(ROOT).as_posix() for path in (ROOT / "engine").rglob("*.lua")}
    assert lua, "the Redis scripts are package files under engine/_redis/lua"
    assert not lua - names, f"Lua files missing from the wheel: {sorted(lua - names)}"


def test_engine_redis_names_present_as_engine_redis() -> None:
    import engine.redis

    for name in engine.redis.__all__:
        assert getattr(engine.redis, name).__module__ == "engine.redis", name
