"""``bench`` re-exports exactly its ``__all__``, uses the engine's public API only, and its
module graph (counting imports under ``TYPE_CHECKING`` and inside functions) is acyclic."""

from __future__ import annotations

import ast
from pathlib import Path

import bench

BENCH_DIR = Path(bench.__file__).parent

#: The engine modules bench may import (the application API and the public sub-APIs).
PUBLIC_ENGINE = frozenset(
    {
        "engine",
        "engine.lowlevel",
        "engine.redis",
        "engine.integrations.agno",
        "engine.integrations.arshai",
        "engine.integrations.upsonic",
        "engine.integrations.langgraph",
    }
)

#: Model modules: leaves that import no run, report or command-line module of bench.
MODELS = (
    "_micro/_model.py",
    "_durable/_model.py",
    "_replay/_results.py",
    "_targets/_protocol.py",
    "_load/_model.py",
    "_compare/_model.py",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(BENCH_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    files = sorted(BENCH_DIR.rglob("*.py"))
    assert len(files) > 30
    return {_module_name(path): path for path in files}


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in _imports(path):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif node.module is not None:
            modules.add(node.module)
    return modules


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
    assert set(bench.__all__) == {
        "MemoryWrite",
        "PipelinedTarget",
        "Target",
        "TargetCounts",
        "main",
    }
    for name in bench.__all__:
        assert getattr(bench, name) is not None


def test_bench_uses_only_the_public_engine_api() -> None:
    for name, path in _modules().items():
        for module in _imported_modules(path):
            top = module.split(".")[0]
            assert top != "actors", f"{name} imports {module}: bench must go through engine"
            if top == "engine":
                assert module in PUBLIC_ENGINE, f"{name} imports engine internals: {module}"


def test_no_module_imports_another_modules_underscore_names() -> None:
    for name, path in _modules().items():
        for node in _imports(path):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bench"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{name} imports {private} from {node.module}"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in _imports(path):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in modules)
            elif node.module in modules:
                edges.add(node.module)
                # ``from bench._targets import _registry`` names a module too
                edges.update(
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if f"{node.module}.{a.name}" in modules
                )
        graph[name] = edges - {name}
    return graph


def test_module_graph_is_acyclic() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = (*path[path.index(name) :], name)
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(graph[name]):
            if target != "bench":
                visit(target, (*path, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_models_import_no_run_report_or_cli_module() -> None:
    graph = _graph()
    for model in MODELS:
        name = _module_name(BENCH_DIR / model)
        for target in graph[name]:
            allowed = target.startswith("bench._measure.") or target.rsplit(".", 1)[-1] in {
                "_model",
                "_protocol",
                "_results",
                "_peers",
            }
            assert allowed, f"{name} imports {target}"
