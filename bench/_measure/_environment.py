"""The machine a benchmark ran on, as its JSON documents record it (one description)."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["directory_bytes", "filesystem_type", "load_average", "machine", "now_iso"]


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second (``"2026-11-29T01:20:00+00:00"``)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def machine(*, started_at: str | None = None) -> dict[str, Any]:
    """Python, implementation, platform, CPU count and the start time (``now_iso()``
    unless given): the keys every benchmark document's ``"environment"`` starts with."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "started_at": now_iso() if started_at is None else started_at,
    }


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages; ``None`` where the OS has none."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def directory_bytes(path: str | os.PathLike[str]) -> int:
    """The total size of the regular files directly in ``path``, bytes (0 if missing)."""
    root = Path(path)
    if not root.is_dir():
        return 0
    return sum(entry.stat().st_size for entry in root.iterdir() if entry.is_file())


def filesystem_type(path: str | os.PathLike[str]) -> str | None:
    """The type of the filesystem holding ``path`` (e.g. ``"ext4"``, ``"tmpfs"``).

    From ``/proc/self/mounts`` (Linux; the longest mount point that contains the path).
    ``None`` where that file does not exist. fsync on ``tmpfs`` costs nothing, which
    makes durability measurements there meaningless, so reports show it.
    """
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            lines = mounts.read().splitlines()
    except OSError:
        return None
    target = Path(path).resolve()
    while not target.exists() and target != target.parent:
        target = target.parent
    best: tuple[int, str] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = target == Path(mount) or Path(mount) in target.parents
        if inside and (best is None or len(mount) > best[0]):
            best = (len(mount), fields[2])
    return None if best is None else best[1]
