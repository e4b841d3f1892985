"""The layering rules of design §2 (the dependency rules of docs/design.md, "Where things
live"), enforced by reading every module's imports — top-level, under ``TYPE_CHECKING`` and
inside functions alike. A new file is classified by the folder it is in."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = frozenset(sys.stdlib_module_names)

#: What each engine subpackage may import: other engine subpackages, and third-party
#: distributions (the standard library is always allowed). ``engine/__init__.py`` and the
#: public ``engine/<name>.py`` modules are the wiring and may import any subpackage.
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "_core": (set(), {"attrs", "orjson", "numpy"}),
    "_store": ({"_core"}, {"attrs", "sortedcontainers"}),
    "_api": ({"_core"}, {"attrs", "trio", "outcome"}),
    "_durable": ({"_core", "_store"}, {"attrs", "msgspec", "orjson", "trio"}),
    "_embedded": (
        {"_core", "_store", "_api", "_durable", "_bridge"},
        {"attrs", "trio", "outcome", "actors"},
    ),
    "_redis": (
        {"_core", "_api", "_bridge"},
        {"attrs", "orjson", "trio", "outcome", "actors", "anyio", "coredis"},
    ),
    "_bridge": ({"_core", "_api", "_embedded", "_redis"}, {"attrs", "trio", "outcome"}),
    "integrations": (
        set(),
        {"agno", "arshai", "upsonic", "langgraph", "langchain_core", "orjson"},
    ),
}

#: Imports that break the rules above, each ``(importing module, imported subpackage)``.
#: Empty since issue #9 (the operation vocabulary lets the facades and the Redis backend
#: name operations without ``ShardStore``); the test below fails when an entry is no
#: longer needed, so the set can only shrink. Keep it empty.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()

#: Import edges made inside a function on purpose, left out of the cycle check: a trio
#: engine's ``.blocking()`` hands itself to the thread bridge, which is built on the engines.
DEFERRED_EDGES = {
    ("engine._embedded._engine", "engine._bridge._open"),
    ("engine._redis._engine", "engine._bridge._open"),
}

#: Only these modules may touch trio in ``_durable``, and coredis/anyio in ``_redis``.
NARROW = {
    ("_api", "trio"): {"engine._api._clock"},
    ("_durable", "trio"): {"engine._durable._journal"},
    ("_redis", "coredis"): {"engine._redis._conn", "engine._redis._client"},
    ("_redis", "anyio"): {"engine._redis._conn"},
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[str]:
    """Every absolute module name ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _name(path) if path.stem == "__init__" else _name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield module
            # ``from engine._core import _records`` imports a module too.
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _subpackage(module: str) -> str | None:
    """``_core`` for ``engine._core._records``; None for ``engine`` and ``engine.redis``."""
    parts = module.split(".")
    if parts[0] == "engine" and len(parts) > 1 and parts[1] != "integrations":
        return parts[1] if parts[1].startswith("_") else None
    return "integrations" if parts[:2] == ["engine", "integrations"] and len(parts) > 2 else None


@pytest.mark.parametrize("path", _modules("actors"), ids=lambda p: _name(p))
def test_actors_never_import_engine_or_bench(path: Path) -> None:
    tops = {name.split(".")[0] for name in _imported(path)}
    assert not tops & {"engine", "bench"}, path


@pytest.mark.parametrize("path", _modules("engine"), ids=lambda p: _name(p))
def test_engine_subpackages_import_only_what_they_may(path: Path) -> None:
    module = _name(path)
    own = _subpackage(module)
    if own is None:
        assert "bench" not in {n.split(".")[0] for n in _imported(path)}, module
        return
    assert own in ALLOWED, f"engine/{own}/ is not in the layering table; classify it"
    engine_ok, third_party_ok = ALLOWED[own]
    for name in set(_imported(path)):
        top = name.split(".")[0]
        if top == "engine":
            other = _subpackage(name)
            if other == own:
                continue
            if other is None:
                assert own == "integrations", (
                    f"{module} imports the public {name}; import the private module"
                )
                continue
            if (module, other) in KNOWN_EXCEPTIONS:
                continue
            assert other in engine_ok, f"{module} ({own}) may not import engine.{other} ({name})"
        elif top not in STDLIB and top != "__future__":
            assert top in third_party_ok, f"{module} ({own}) may not import {top}"
            allowed_here = NARROW.get((own, top))
            assert allowed_here is None or module in allowed_here, (
                f"only {sorted(allowed_here or ())} may import {top} in engine/{own}/"
            )


def test_known_exceptions_are_still_needed() -> None:
    seen = {
        (_name(path), _subpackage(name))
        for path in _modules("engine")
        for name in _imported(path)
        if _subpackage(name)
    }
    stale = KNOWN_EXCEPTIONS - seen
    assert not stale, f"these layering exceptions are gone; delete them: {sorted(stale)}"


def _graph(package: str) -> dict[str, set[str]]:
    modules = {_name(p): p for p in _modules(package)}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported(path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            inner = not name or name in (module, package) or module.startswith(name + ".")
            if not inner and (module, name) not in DEFERRED_EDGES:
                targets.add(name)
        graph[module] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", ["actors", "engine", "bench"])
def test_module_graph_is_acyclic(package: str) -> None:
    cycle = _cycle(_graph(package))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    "path",
    [p for package in ("actors", "engine", "bench") for p in _modules(package)],
    ids=lambda p: _name(p),
)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= 500, f"{path} has {lines} lines; split it by concept"
