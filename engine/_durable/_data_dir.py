"""A durable engine's data directory: layout, manifest, lock, and file helpers.

No trio here. Layout of ``DIR``::

    MANIFEST.json                     {"format", "version", "generation", "shards",
                                       "policies", "segments": {shard: newest segment}}
    LOCK                              flock()ed by the engine that owns DIR (as is DIR
                                      itself, so deleting LOCK lets no second engine in)
    g0001-s0003.snapshot              shard 3's snapshot of generation 1
    g0001-s0003-00000007.journal      shard 3's journal segment 7

Recovery (snapshot load, replay, re-sharding) is :mod:`engine._durable._recovery`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import attrs
import orjson

from engine._core._config import KIND_NAMES, EngineConfig
from engine._core._errors import InvalidArgument
from engine._durable._format import (
    JournalCorrupt,
    encode_snapshot,
)
from engine._durable._snapshot_rows import SnapshotRows
from engine._store._store import KNOWLEDGE, MEMORY, SESSION, WORKING, ShardStore, StoreRows

__all__ = ["DataDir", "ShardFiles"]

MANIFEST: Final = "MANIFEST.json"
_JOURNAL = re.compile(r"^g(\d{4})-s(\d{4})-(\d{8})\.journal$")


def fsync_dir(path: Path) -> None:
    """fsync a directory, so a rename or unlink in it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


FILE_MODE: Final = 0o600
"""Mode of every file the engine creates (owner only: records are user data)."""
DIR_MODE: Final = 0o700
"""Mode of a data directory the engine creates."""
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


def create_file(path: Path, flags: int = 0) -> int:
    """Create ``path`` (mode 0600) and open it for writing; return the fd. Never follows
    a symlink: an existing entry of that name (a planted link included) is an error.

    Raises:
        FileExistsError: if ``path`` exists (as a file or a symlink).
    """
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | flags, FILE_MODE)


def read_file(path: Path) -> bytes:
    """The bytes of ``path``, refusing to follow a symlink planted in its place.

    Raises:
        JournalCorrupt: if ``path`` is a symlink (names it).
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError as error:
        if os.path.islink(path):
            raise JournalCorrupt(f"{path}: is a symlink; refusing to follow it") from None
        raise error
    with os.fdopen(fd, "rb") as file:
        return file.read()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file (0600, created anew: a stale or
    planted ``.tmp``, symlinks included, is removed, never followed), fsync, rename,
    fsync the dir."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # removes a symlink itself, not its target
    with os.fdopen(create_file(tmp), "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


@attrs.frozen
class ShardFiles:
    """The file names of one shard in one generation."""

    root: Path
    generation: int
    shard: int

    @property
    def snapshot(self) -> Path:
        """The shard's snapshot file."""
        return self.root / f"g{self.generation:04d}-s{self.shard:04d}.snapshot"

    def journal(self, segment: int) -> Path:
        """The journal file of ``segment``."""
        return self.root / f"g{self.generation:04d}-s{self.shard:04d}-{segment:08d}.journal"

    def segments(self) -> list[int]:
        """The journal segments on disk, ascending."""
        found = []
        for name in os.listdir(self.root):
            match = _JOURNAL.match(name)
            if match and int(match[1]) == self.generation and int(match[2]) == self.shard:
                found.append(int(match[3]))
        return sorted(found)


@attrs.define(eq=False)
class DataDir:
    """A locked data directory. Use :meth:`open`; :meth:`close` releases the lock."""

    root: Path
    _lock_fd: int
    _dir_fd: int = -1
    _manifest_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, lock: bool = True) -> DataDir:
        """Open ``path`` for an engine: create it if needed and take its lock.

        With ``lock=False`` (read-only inspection) nothing is created or locked.

        The lock is ``flock`` on the directory itself and on its ``LOCK`` file: a
        tmp cleaner deleting ``LOCK`` cannot let a second engine in. A directory the
        engine creates gets mode 0700, its files 0600.

        Raises:
            TypeError: if ``path`` is not a str or path.
            InvalidArgument: if it is empty (``""`` would mean the current directory),
                not a directory, or writable by every user (anyone could plant files).
            BlockingIOError: if another engine holds the lock.
        """
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"data_dir: expected a path, got {type(path).__name__}")
        if not os.fspath(path):
            raise InvalidArgument("data_dir: expected a non-empty path, got ''")
        root = Path(path)
        if not lock:
            return cls(root, -1)
        root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        mode = root.stat().st_mode
        if not stat.S_ISDIR(mode):
            raise InvalidArgument(f"data_dir {str(root)!r}: expected a directory")
        if mode & stat.S_IWOTH:
            raise InvalidArgument(
                f"data_dir {str(root)!r}: expected a directory only its owner can write, got "
                f"mode {stat.S_IMODE(mode):04o} (world-writable: chmod o-w it, or use another)"
            )
        dir_fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        fd = -1
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fd = os.open(root / "LOCK", os.O_RDWR | os.O_CREAT | _NOFOLLOW, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(dir_fd)
            if fd >= 0:
                os.close(fd)
            raise BlockingIOError(
                f"data_dir {str(root)!r} is in use by another engine (locked)"
            ) from None
        except BaseException:
            os.close(dir_fd)
            if fd >= 0:
                os.close(fd)
            raise
        return cls(root, fd, dir_fd)

    def close(self) -> None:
        """Release the locks (if held)."""
        for fd in (self._lock_fd, self._dir_fd):
            if fd >= 0:
                os.close(fd)
        self._lock_fd = self._dir_fd = -1

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or ``None`` for a new directory.

        Raises:
            JournalCorrupt: if MANIFEST.json is not a valid manifest (names the file).
        """
        path = self.root / MANIFEST
        if not path.exists() and not path.is_symlink():
            self._check_no_orphans()
            return None
        try:
            manifest = orjson.loads(read_file(path))
        except orjson.JSONDecodeError as error:
            raise JournalCorrupt(f"{path}: not valid JSON ({error})") from None
        if (
            not isinstance(manifest, dict)
            or manifest.get("format") != "shardmem.data-dir"
            or manifest.get("version") != 1
            or type(manifest.get("generation")) is not int
            or type(manifest.get("shards")) is not int
            or manifest["generation"] < 1
            or manifest["shards"] < 1
        ):
            raise JournalCorrupt(f"{path}: not a shardmem data directory manifest")
        return manifest

    def _check_no_orphans(self) -> None:
        """A directory without a manifest must hold no snapshot or journal: their shard
        count and generation are unknown, so recovering (or re-sharding, which deletes)
        them would lose acknowledged data.

        Raises:
            JournalCorrupt: naming the files found.
        """
        orphans = sorted(
            name for name in os.listdir(self.root) if name.endswith((".snapshot", ".journal"))
        )
        if orphans:
            shown = ", ".join(orphans[:5]) + (", ..." if len(orphans) > 5 else "")
            raise JournalCorrupt(
                f"{self.root / MANIFEST}: missing, but the directory holds {len(orphans)} "
                f"snapshot/journal files ({shown}); refusing to guess their shard count. "
                "Restore MANIFEST.json from a backup, or move the files away to start empty"
            )

    def write_manifest(self, generation: int, config: EngineConfig) -> None:
        """Atomically replace the manifest (shard count and the TTL policies the
        journal is written under: replay must apply the same ones)."""
        body = {
            "format": "shardmem.data-dir",
            "version": 1,
            "generation": generation,
            "shards": config.shards,
            "policies": policies_of(config),
        }
        with self._manifest_lock:
            write_atomically(self.root / MANIFEST, orjson.dumps(body))

    def record_segment(self, generation: int, shard: int, segment: int | None) -> None:
        """Record in the manifest that ``segment`` is ``shard``'s newest journal
        segment (called once it exists, fsynced), so recovery can tell a deleted last
        segment from one never written; ``None`` forgets it. Runs in a worker thread;
        shards share a lock.

        Raises:
            OSError: if the manifest cannot be written.
        """
        with self._manifest_lock:
            manifest = self.manifest()
            if manifest is None or manifest["generation"] != generation:
                return
            segments = dict(manifest.get("segments") or {})
            if segment is None:
                segments.pop(str(shard), None)
            else:
                segments[str(shard)] = segment
            write_atomically(self.root / MANIFEST, orjson.dumps({**manifest, "segments": segments}))

    def files(self, generation: int, shard: int) -> ShardFiles:
        """The file names of ``shard`` in ``generation``."""
        return ShardFiles(self.root, generation, shard)

    def remove_generation(self, generation: int) -> None:
        """Delete every file of ``generation``."""
        prefix = f"g{generation:04d}-"
        for name in os.listdir(self.root):
            if name.startswith(prefix):
                os.unlink(self.root / name)
        fsync_dir(self.root)


def snapshot_body(
    contents: StoreRows,
    now: float,
    shard: int,
    shards: int,
    seq: int,
    segment: int,
) -> SnapshotRows:
    """The body of a shard snapshot (format version 2): the rows of
    ``contents`` (:meth:`ShardStore.export_rows` at ``now``) as they are, and the
    records that are not rows as their ``to_dict()``, each with its TTL.

    ``seq`` is the last journal entry the snapshot covers and ``segment`` the first
    journal segment to replay after it. O(n); builds no record from a row (safe in a
    worker thread: rows are immutable).
    """
    rows, ttls = contents.rows, contents.ttls
    return SnapshotRows(
        shard=shard,
        shards=shards,
        seq=seq,
        segment=segment,
        taken_at=now,
        sessions=rows[SESSION],
        memories=rows[MEMORY],
        working=rows[WORKING],
        knowledge=rows[KNOWLEDGE],
        ttls=(ttls[SESSION], ttls[MEMORY], ttls[WORKING], ttls[KNOWLEDGE]),
        records=[(type(r).__name__, r.to_dict(), ttl) for r, ttl in contents.records],
    )


def store_snapshot_body(
    store: ShardStore, now: float, shard: int, shards: int, seq: int, segment: int
) -> SnapshotRows:
    """:func:`snapshot_body` of every live record of ``store``."""
    return snapshot_body(store.export_rows(now), now, shard, shards, seq, segment)


def write_snapshot(files: ShardFiles, body: SnapshotRows) -> int:
    """Write a shard snapshot atomically; return its size in bytes."""
    data = encode_snapshot(body)
    write_atomically(files.snapshot, data)
    return len(data)


def policies_of(config: EngineConfig) -> dict[str, dict[str, Any]]:
    return {kind: attrs.asdict(config.policy(kind)) for kind in KIND_NAMES}


def iter_journal(files: ShardFiles) -> Iterator[tuple[Path, int]]:
    """Each journal segment file of ``files`` and its size, ascending."""
    for segment in files.segments():
        path = files.journal(segment)
        yield path, path.stat().st_size
