"""``bench`` re-exports exactly its ``__all__`` and uses the engine's public API only."""

from __future__ import annotations

import ast
from pathlib import Path

import bench

BENCH_DIR = Path(bench.__file__).parent


def test_all_matches_the_reexports() -> None:
    tree = ast.parse((BENCH_DIR / "__init__.py").read_text(encoding="utf-8"))
    reexported = {
        alias.asname
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }
    assert len(bench.__all__) == len(set(bench.__all__))
    assert set(bench.__all__) == reexported
    for name in bench.__all__:
        assert getattr(bench, name) is not None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
    return modules


def test_bench_uses_only_the_public_engine_api() -> None:
    files = sorted(BENCH_DIR.glob("*.py"))
    assert files
    for path in files:
        for module in _imports(path):
            top = module.split(".")[0]
            assert top != "actors", f"{path.name} imports {module}: bench must go through engine"
            if top == "engine":
                # the framework integrations are public packages of their own
                public = module == "engine" or (
                    module.startswith("engine.integrations.")
                    and not any(part.startswith("_") for part in module.split("."))
                )
                assert public, f"{path.name} imports engine internals: {module}"
