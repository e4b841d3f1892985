"""The command line's data-directory checks (bench/_data_dirs.py)."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

import pytest

from bench._cli._data_dirs import (
    DataDirRefused,
    check_data_dir,
    check_new_data_dir,
    empty_data_dir,
)
from bench._measure._environment import directory_bytes, filesystem_type

SHARDMEM_NAMES = (
    "MANIFEST.json",
    "LOCK",
    "g0001-s0000.snapshot",
    "g0001-s0000-00000001.journal",
    "MANIFEST.json.tmp",
)


def _fill(root: Path, *names: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).write_bytes(b"x")


def test_missing_and_empty_directories_are_new(tmp_path: Path) -> None:
    assert check_new_data_dir(tmp_path / "missing", fresh=False) == tmp_path / "missing"
    assert not (tmp_path / "missing").exists()
    (tmp_path / "empty").mkdir()
    check_new_data_dir(tmp_path / "empty", fresh=False)


def test_a_used_directory_needs_fresh(tmp_path: Path) -> None:
    _fill(tmp_path / "d", *SHARDMEM_NAMES)
    used = r"already holds a data directory \(5 files\).*--fresh"
    with pytest.raises(DataDirRefused, match=used):
        check_new_data_dir(tmp_path / "d", fresh=False)
    check_new_data_dir(tmp_path / "d", fresh=True)
    assert empty_data_dir(tmp_path / "d") == len(SHARDMEM_NAMES)
    assert list((tmp_path / "d").iterdir()) == []


@pytest.mark.parametrize("fresh", [False, True])
def test_foreign_files_are_refused_even_with_fresh(tmp_path: Path, fresh: bool) -> None:
    _fill(tmp_path / "d", "MANIFEST.json", "b.txt", "a.txt", "c.txt", "d.txt")
    with pytest.raises(DataDirRefused, match=r"did not create \(a\.txt, b\.txt, c\.txt, \.\.\.\)"):
        check_new_data_dir(tmp_path / "d", fresh=fresh)


def test_a_subdirectory_is_foreign_even_with_a_shardmem_name(tmp_path: Path) -> None:
    (tmp_path / "d" / "x.journal").mkdir(parents=True)
    with pytest.raises(DataDirRefused, match="did not create"):
        check_new_data_dir(tmp_path / "d", fresh=True)


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(DataDirRefused, match="is not a directory"):
        check_new_data_dir(tmp_path / "f", fresh=True)
    with pytest.raises(DataDirRefused, match="is not a directory"):
        check_data_dir(tmp_path / "f")


def test_emptying_a_locked_directory_is_refused(tmp_path: Path) -> None:
    _fill(tmp_path / "d", *SHARDMEM_NAMES)
    fd = os.open(tmp_path / "d" / "LOCK", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DataDirRefused, match="in use by a running engine"):
            empty_data_dir(tmp_path / "d")
    finally:
        os.close(fd)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(SHARDMEM_NAMES)


def test_directory_bytes(tmp_path: Path) -> None:
    assert directory_bytes(tmp_path / "missing") == 0
    _fill(tmp_path / "d", "a", "b")
    assert directory_bytes(tmp_path / "d") == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/mounts")
def test_filesystem_type_on_linux(tmp_path: Path) -> None:
    kind = filesystem_type(tmp_path / "not" / "yet")  # the nearest existing parent counts
    assert isinstance(kind, str)
    assert kind
    assert filesystem_type("/proc") == "proc"
