"""Each package's ``__all__`` is exactly what its ``__init__`` re-exports."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "package", ["actors", "engine", "engine.lowlevel", "engine.redis", "bench"]
)
def test_all_matches_reexports(package: str) -> None:
    module = importlib.import_module(package)
    tree = ast.parse(Path(str(module.__file__)).read_text())
    reexported = {
        alias.asname
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname is not None and alias.asname == alias.name
    }
    assert set(module.__all__) == reexported
    assert len(module.__all__) == len(set(module.__all__)), "duplicates in __all__"
    for name in module.__all__:
        assert getattr(module, name) is not None
        assert not name.startswith("_")


@pytest.mark.parametrize("package", ["actors", "engine", "engine.lowlevel", "engine.redis"])
def test_public_names_are_documented(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value) and not isinstance(value, type(len)):
            assert (value.__doc__ or "").strip(), f"{package}.{name} has no docstring"


def test_design_contract_names_are_public() -> None:
    import engine

    for name in (
        "open_memory_engine",
        "Session",
        "Run",
        "Message",
        "SessionSummary",
        "UserMemory",
        "WorkingMemory",
        "KnowledgeDoc",
        "EngineError",
        "NotFound",
        "OwnershipError",
        "InvalidArgument",
        "Overloaded",
        "EngineClosed",
    ):
        assert name in engine.__all__, name
