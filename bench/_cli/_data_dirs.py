"""Data directories as the command line handles them: checks, ``--fresh``, facts.

The engine owns the layout of a data directory; the command line only needs to tell
"a data directory" from "something else", to refuse reusing a directory by accident,
and to empty one on request (``--fresh``) without touching files it did not create.
"""

from __future__ import annotations

import fcntl
import fnmatch
import os
from pathlib import Path
from typing import Final

__all__ = [
    "SHARDMEM_FILES",
    "DataDirRefused",
    "check_data_dir",
    "check_new_data_dir",
    "empty_data_dir",
]

#: Name patterns of the files a durable engine creates in its data directory.
SHARDMEM_FILES: Final = ("MANIFEST.json", "LOCK", "*.snapshot", "*.journal", "*.tmp")
_MANIFEST: Final = "MANIFEST.json"


class DataDirRefused(Exception):
    """The directory cannot be used as asked; the message says why (one line)."""


def _is_shardmem_file(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SHARDMEM_FILES)


def check_data_dir(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` is an existing data directory (it has a manifest).

    Read-only: nothing is created (the engine's own inspection would create a ``LOCK``
    file in a directory that is not a data directory).

    Raises:
        DataDirRefused: if ``path`` does not exist, is not a directory, or has no
            ``MANIFEST.json``.
    """
    root = Path(path)
    if not root.exists():
        raise DataDirRefused(f"{str(root)!r} does not exist")
    if not root.is_dir():
        raise DataDirRefused(f"{str(root)!r} is not a directory")
    if not (root / _MANIFEST).is_file():
        raise DataDirRefused(f"{str(root)!r} is not a shardmem data directory (no {_MANIFEST})")
    return root


def check_new_data_dir(path: str | os.PathLike[str], *, fresh: bool) -> Path:
    """Check that a run may start on ``path`` as a new, empty data directory.

    A missing or empty directory is fine. With ``fresh``, a directory holding only
    files shardmem creates (:data:`SHARDMEM_FILES`) is fine too: :func:`empty_data_dir`
    will delete them. Nothing is changed here.

    Raises:
        DataDirRefused: if ``path`` is not a directory; if it holds files and ``fresh``
            is false; or if it holds anything shardmem did not create (never deleted).
    """
    root = Path(path)
    if not root.exists():
        return root
    if not root.is_dir():
        raise DataDirRefused(f"{str(root)!r} exists and is not a directory")
    names = sorted(os.listdir(root))
    if not names:
        return root
    foreign = [n for n in names if not (_is_shardmem_file(n) and (root / n).is_file())]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise DataDirRefused(
            f"{str(root)!r} holds files shardmem did not create ({shown}); "
            "choose an empty or new directory"
        )
    if not fresh:
        raise DataDirRefused(
            f"{str(root)!r} already holds a data directory ({len(names)} files); "
            "pass --fresh to delete it first, or choose another directory"
        )
    return root


def empty_data_dir(path: str | os.PathLike[str]) -> int:
    """Delete the shardmem files of ``path`` (see :data:`SHARDMEM_FILES`); return how many.

    Call :func:`check_new_data_dir` first. Other files are left alone.

    Raises:
        DataDirRefused: if an engine holds the directory's ``LOCK``.
        OSError: if a file cannot be deleted.
    """
    root = Path(path)
    if not root.is_dir():
        return 0
    lock = root / "LOCK"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirRefused(
                f"{str(root)!r} is in use by a running engine (LOCK is held)"
            ) from None
        removed = 0
        for name in sorted(os.listdir(root)):
            if name != "LOCK" and _is_shardmem_file(name) and (root / name).is_file():
                os.unlink(root / name)
                removed += 1
        os.unlink(lock)
        return removed + 1
    finally:
        os.close(fd)
