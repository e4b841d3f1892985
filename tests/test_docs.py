"""The documentation is executable: every ```python block of README.md and docs/ runs.

Each fenced ``python`` block is a standalone program (imports included) and is run in a
fresh interpreter, with warnings as errors, so that a failure names ``file:line`` of
the block. Fragments that are not meant to run use another fence (```text, ```bash).

Also checked here: the README starts with the two commands CI and users run, every
public method of the facades and the engine has a section on its API page, and (when
mkdocs-material is installed) ``mkdocs build --strict`` passes.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import engine

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

MAIN_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[bench]' && .venv/bin/shardmem bench"
)
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test,bench]' "
    "&& .venv/bin/python -m pytest -q"
)

# the third-party warnings the examples may raise: arshai's pydantic models use V1-style
# config (see filterwarnings in pyproject.toml)
THIRD_PARTY_WARNINGS = (
    "ignore:Valid config keys have changed in V2:UserWarning",
    "ignore:Support for class-based:DeprecationWarning",
)

# the agent frameworks a block may import: it is skipped where that framework is not
# installed (Upsonic and Arshai conflict, so each runs its page in its own venv)
OPTIONAL_FRAMEWORKS = ("agno", "arshai", "langgraph", "upsonic")
_IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)", flags=re.MULTILINE)

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*$")


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _python_blocks(path: Path) -> list[tuple[int, str]]:
    """The ``(line, code)`` of every ```python block of ``path`` (line is 1-based)."""
    blocks: list[tuple[int, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE_OPEN.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, lang = match["indent"], match["lang"]
        start = index + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path.name}:{index + 1}: unclosed code fence")
        if lang == "python":
            body = [
                line[len(indent) :] if line.startswith(indent) else line
                for line in lines[start:end]
            ]
            blocks.append((start, "\n".join(body) + "\n"))
        index = end + 1
    return blocks


def _cases() -> list[pytest.param]:
    cases = []
    for path in _markdown_files():
        for line, code in _python_blocks(path):
            name = f"{path.relative_to(ROOT)}:{line}"
            cases.append(pytest.param(name, code, id=name))
    return cases


CASES = _cases()


def test_there_are_examples() -> None:
    assert len(CASES) >= 30, [case.id for case in CASES]
    for page in ("sessions", "memories", "working", "knowledge", "engine"):
        assert any(case.id.startswith(f"docs/api/{page}.md:") for case in CASES), page


@pytest.mark.parametrize(("name", "code"), CASES)
def test_example_runs(name: str, code: str, tmp_path: Path) -> None:
    for module in sorted(set(_IMPORT.findall(code)) & set(OPTIONAL_FRAMEWORKS)):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{name} needs {module}, which is not installed")
    assert "print(" in code or "assert " in code, f"{name}: an example must show its result"
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            *(arg for rule in THIRD_PARTY_WARNINGS for arg in ("-W", rule)),
            "-c",
            code,
        ],
        cwd=tmp_path,
        # the examples import this checkout's packages, not whatever is installed
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"


def test_readme_starts_with_the_commands() -> None:
    text = README.read_text(encoding="utf-8")
    head = text.split("\n## ", 1)[0]
    assert head.startswith("# "), "the README starts with its title"
    assert MAIN_COMMAND in head
    assert TEST_COMMAND in head
    assert head.index(MAIN_COMMAND) < head.index(TEST_COMMAND)


def _public_methods(cls: type) -> list[str]:
    return [
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    ]


@pytest.mark.parametrize(
    ("cls", "page"),
    [
        (engine.Sessions, "sessions"),
        (engine.Memories, "memories"),
        (engine.Working, "working"),
        (engine.Knowledge, "knowledge"),
        (engine.Items, "items"),
        (engine.Checkpoints, "checkpoints"),
        (engine.MemoryEngine, "engine"),
    ],
)
def test_every_method_is_documented(cls: type, page: str) -> None:
    """The page renders the class's reference (``::: engine.X``, mkdocstrings), and every
    public method and property has a docstring, so the reference shows it."""
    text = (DOCS / "api" / f"{page}.md").read_text(encoding="utf-8")
    assert re.search(rf"^::: engine\.{cls.__name__}$", text, flags=re.MULTILINE), (
        f"docs/api/{page}.md has no '::: engine.{cls.__name__}' directive"
    )
    missing = [name for name in _public_methods(cls) if not inspect.getdoc(getattr(cls, name))]
    assert not missing, f"engine.{cls.__name__} members without a docstring: {missing}"


def test_every_public_name_is_mentioned() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOCS.rglob("*.md"))
    missing = [
        name
        for name in engine.__all__
        if f"`{name}" not in text and f"::: engine.{name}\n" not in text
    ]
    assert not missing, f"docs/ never mention {missing}"


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
    reason="mkdocs-material is not installed (the 'docs' extra)",
)
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
