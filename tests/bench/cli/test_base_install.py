"""``shardmem inspect`` and ``shardmem compact`` need only the base dependencies.

Each test runs the real command line in a fresh interpreter in which the ``bench`` extra's
modules (rich, hdrhistogram, chitchat, matplotlib) cannot be imported: the shim sets
``sys.modules[name] = None``, which makes ``import name`` raise ``ImportError`` as if the
package were not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench._cli._main import BENCH_EXTRAS

from ..conftest import Written, build_data_dir

REPO = Path(__file__).resolve().parents[3]

#: Blocks the bench extras, runs ``shardmem`` on the arguments, then checks that no extra
#: module slipped in through another name.
SHIM = """
import sys
EXTRAS = {extras!r}
for name in EXTRAS:
    sys.modules[name] = None
from bench import main
status = main(sys.argv[1:])
loaded = sorted(n for n in sys.modules if n.split(".")[0] in EXTRAS and sys.modules[n] is not None)
if loaded:
    print("bench extras were imported:", loaded, file=sys.stderr)
    status = 99
raise SystemExit(status)
"""


def _shardmem(*args: str) -> subprocess.CompletedProcess[str]:
    code = SHIM.format(extras=sorted(BENCH_EXTRAS))
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _written(tmp_path: Path) -> tuple[Path, Written]:
    path = tmp_path / "data"
    return path, build_data_dir(path)


def test_the_shim_really_blocks_the_extras() -> None:
    code = "import sys\nsys.modules['rich'] = None\nimport rich.console"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'rich.console'" in result.stderr


def test_inspect_prints_a_plain_report_without_the_extras(tmp_path: Path) -> None:
    path, written = _written(tmp_path)
    out = tmp_path / "inspect.json"
    result = _shardmem("inspect", str(path), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"shardmem data dir {path}: generation 1, 2 shards, {written.users} users"
    assert lines[1].split() == [
        "shard", "sessions", "runs", "memories", "working", "knowledge",
        "snapshot", "journal", "journal", "entries", "last", "seq", "torn",
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[2:4]] == ["0", "1"]
    assert set(lines[4]) == {"-", " "}
    total = lines[5].split()
    assert total[0] == "total"
    assert total[1:6] == [
        str(written.sessions),
        str(written.runs),
        str(written.memories),
        str(written.working),
        str(written.knowledge),
    ]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["total"]["journal_records"] == written.writes


def test_compact_works_without_the_extras(tmp_path: Path) -> None:
    path, written = _written(tmp_path)
    result = _shardmem("compact", str(path), "--shards", "3")
    assert result.returncode == 0, result.stderr
    title, *rest = result.stdout.splitlines()
    assert title.startswith(f"shardmem compact {path}: 3 shards in ")
    assert f"re-sharded 2 -> 3; journal records {written.writes:,} -> 0" in title
    assert rest[0].split()[0] == "shard"
    assert rest[-1].split()[:2] == ["total", str(written.sessions)]


def test_errors_are_one_line_without_the_extras(tmp_path: Path) -> None:
    result = _shardmem("inspect", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert (
        result.stderr == f"shardmem inspect: error: {str(tmp_path / 'missing')!r} does not exist\n"
    )


def test_bench_names_the_missing_extra(tmp_path: Path) -> None:
    result = _shardmem("bench", "--limit", "3")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "shardmem bench: error: needs the bench extra (pip install 'shardmem[bench]'): "
        "No module named "
    )
    assert result.stdout == ""
