"""The layering rules of design §2, enforced by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Modules of the engine's pure core: they never import trio, outcome or actors.
PURE_CORE = {
    "_codec",
    "_config",
    "_errors",
    "_expiry",
    "_keyword",
    "_knowledge_table",
    "_memory_table",
    "_ordered",
    "_queries",
    "_records",
    "_routing",
    "_session_table",
    "_size",
    "_snapshot",
    "_statistics",
    "_store",
    "_store_base",
    "_store_knowledge",
    "_store_memories",
    "_store_sessions",
    "_store_working",
    "_journal_format",
    "_data_dir",
    "_recovery",
    "_validate",
    "_module_metadata",
}
# Public submodules: importable by users as ``engine.<name>``.
PUBLIC_SUBMODULES = {"redis"}
RUNTIME = {"trio", "outcome", "actors", "anyio", "coredis"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).glob("*.py"))


@pytest.mark.parametrize("path", _modules("actors"), ids=lambda p: p.name)
def test_actors_never_import_engine_or_bench(path: Path) -> None:
    assert not _imports(path) & {"engine", "bench"}, path


@pytest.mark.parametrize("path", _modules("engine"), ids=lambda p: p.name)
def test_engine_never_imports_bench(path: Path) -> None:
    assert "bench" not in _imports(path), path


@pytest.mark.parametrize("name", sorted(PURE_CORE))
def test_pure_core_never_imports_the_runtime(name: str) -> None:
    path = ROOT / "engine" / f"{name}.py"
    assert path.exists(), f"core module {name} is listed but missing"
    assert not _imports(path) & RUNTIME, f"{name} imports {_imports(path) & RUNTIME}"


def test_every_engine_module_is_classified() -> None:
    wiring = {p.stem for p in _modules("engine")} - PURE_CORE - PUBLIC_SUBMODULES - {"__init__"}
    # The wiring modules are the only ones allowed to touch the runtime.
    assert wiring, "the engine has no wiring modules?"
    for name in wiring:
        assert name.startswith("_"), f"engine module {name} should be private"


@pytest.mark.parametrize(
    "path",
    [p for package in ("actors", "engine", "bench") for p in _modules(package)],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= 600, f"{path} has {lines} lines; split it by concept"
