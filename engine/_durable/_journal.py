"""Durability: each shard's journal writer (group commit, fsync policies, retries).

Each shard owner appends the entries of the writes it served to its own journal, one
``os.write`` per drained mailbox batch (group commit), and fsyncs per policy — the
three policies of Redis' ``appendfsync``:

- ``"always"``: a batch's replies go out only after its fsync (run in a worker thread,
  so other shards keep serving). An acknowledged write survives a crash.
- ``"everysec"``: a background task fsyncs at most once a second; a crash loses at
  most about the last second of acknowledged writes.
- ``"no"``: the OS flushes when it likes (typically within 30 s on Linux).

The committing shard behaviour that feeds it is :mod:`engine._embedded._durable_shard`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any, Final

import trio

from engine._core._errors import JournalUnavailable
from engine._durable._data_dir import ShardFiles, create_file, fsync_dir
from engine._durable._format import JournalHeader, encode_entry, encode_header, frame
from engine._durable._row_entries import check_row_write, encode_row_entry

__all__ = ["RETRY_INTERVAL", "ShardJournal"]

RETRY_INTERVAL: Final = 1.0
"""Seconds between two attempts to write a failed journal again (as Redis retries a
failed AOF write once a second)."""


class ShardJournal:
    """The append-only journal of one shard, in numbered segment files.

    Only the shard's owner task appends and commits; the ``everysec`` task and
    compaction share the file through a lock.
    """

    def __init__(
        self,
        files: ShardFiles,
        *,
        shards: int,
        seq: int,
        segment: int,
        fsync: str,
        journal_bytes: int,
        snapshot_bytes: int,
        on_segment: Callable[[int], None] | None = None,
    ) -> None:
        self.files = files
        self._on_segment = on_segment
        self.shards = shards
        self.seq = seq
        self.segment = segment
        self.fsync = fsync
        self.journal_bytes = journal_bytes
        self.snapshot_bytes = snapshot_bytes
        self.fsyncs = 0
        self._buffer: list[bytes] = []
        self._fd = -1
        self._dirty = False
        self._lock = trio.Lock()
        #: why the journal cannot be written, while it cannot (writes are refused)
        self.failure: OSError | None = None
        self.failures = 0
        self._unwritten = b""  # committed entries not yet on disk after a failure
        self._retry_at = -float("inf")  # trio time of the next attempt after a failure

    def unavailable(self) -> JournalUnavailable:
        """The error a refused write gets while :attr:`failure` is set."""
        error = self.failure
        assert error is not None
        reason = error.strerror or type(error).__name__
        where = error.filename or self.files.journal(self.segment)
        return JournalUnavailable(
            f"shard {self.files.shard}: its journal cannot be written ({reason}: {where}); "
            "writes to this shard are refused until it can, reads are served; retry later"
        )

    def retry_due(self) -> bool:
        """Whether the next commit may try the disk again after a failure: a write
        is then let through (if the commit still fails, it gets the error)."""
        return trio.current_time() >= self._retry_at

    def _fail(self, error: OSError) -> JournalUnavailable:
        if self.failure is None:
            self.failures += 1
        self.failure = error
        self._retry_at = trio.current_time() + RETRY_INTERVAL
        return self.unavailable()

    def _open_segment(self) -> None:
        path = self.files.journal(self.segment)
        fd = create_file(path, os.O_APPEND)
        header = encode_header(JournalHeader(self.files.shard, self.shards, self.segment))
        try:
            view = memoryview(header)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            fsync_dir(path.parent)
        except BaseException:
            os.close(fd)  # a full disk: leave no headless segment behind to retry over
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        self._fd = fd
        if self._on_segment is not None:
            self._on_segment(self.segment)  # the manifest now knows it must exist
        self.journal_bytes += len(header)

    async def open(self) -> None:
        """Create the first segment of this run (a new file: never append to a
        recovered one). If the disk refuses (full, read-only), the journal starts in
        the failed state: the shard serves reads and refuses writes until a later
        :meth:`commit` can create the segment."""
        try:
            await trio.to_thread.run_sync(self._open_segment)
        except OSError as error:
            self._fail(error)

    def encode(self, now: float, op: str, args: tuple[Any, ...]) -> bytes:
        """The framed entry the next :meth:`append` would add. O(size of args).

        Raises:
            TypeError: if an argument cannot be journaled (e.g. an int beyond 64 bits
                or a string with a lone surrogate, which JSON text cannot hold).
        """
        try:
            return frame(encode_entry(self.seq + 1, now, op, args))
        except (TypeError, ValueError) as error:  # orjson.JSONEncodeError is a TypeError
            raise TypeError(f"{op}: the journal cannot store this request ({error})") from None

    def check_row(self, op: str, args: tuple[Any, ...]) -> None:
        """Refuse, before it is applied, a whole-record write whose row
        :meth:`encode_row` could not hold (see
        :func:`~engine._durable._row_entries.check_row_write`). O(1).

        Raises:
            TypeError: as :meth:`encode` does for a request the journal cannot store.
        """
        try:
            check_row_write(args)
        except (OverflowError, TypeError, ValueError) as error:
            raise TypeError(f"{op}: the journal cannot store this request ({error})") from None

    def encode_row(
        self, now: float, op: str, kind: int, row: tuple[Any, ...], ttl: float | None
    ) -> bytes:
        """The framed row entry (:mod:`engine._durable._row_entries`) the next
        :meth:`append` would add: ``op`` stored ``row`` of ``kind`` with ``ttl``. A
        stored row always encodes. O(size of the row)."""
        return frame(encode_row_entry(self.seq + 1, now, op, kind, row, ttl))

    def append(self, entry: bytes) -> None:
        """Buffer an entry from :meth:`encode` (written at the next :meth:`commit`)."""
        self.seq += 1
        self._buffer.append(entry)

    async def commit(self) -> None:
        """Write the buffered entries with one ``os.write``; fsync if ``always``.

        After a failure, the entries not yet on disk are kept and written first by
        the next commit, at most once per :data:`RETRY_INTERVAL` seconds; a success
        clears :attr:`failure`.

        Raises:
            JournalUnavailable: if the write or the fsync failed (now or still); the
                entries are kept for the next attempt.
        """
        if self._buffer:
            self._unwritten += b"".join(self._buffer)
            self._buffer.clear()
        if not self._unwritten and self.failure is None:
            return
        if self.failure is not None and not self.retry_due():
            raise self.unavailable()
        try:
            if self._fd < 0:
                await trio.to_thread.run_sync(self._open_segment)
            view = memoryview(self._unwritten)
            try:
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                    self.journal_bytes += written
            finally:
                self._unwritten = bytes(view)
            if self.fsync == "always" or self.failure is not None:
                async with self._lock:
                    await trio.to_thread.run_sync(os.fsync, self._fd)
                    self.fsyncs += 1
                    self._dirty = False
            else:
                self._dirty = True
        except OSError as error:
            self._dirty = True  # written or not, not known durable: fsync on recovery
            raise self._fail(error) from error
        self.failure = None

    async def run_everysec(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """fsync the journal once a second when it has unsynced data (``everysec``)."""
        task_status.started()
        while True:
            await trio.sleep(1.0)
            await self.sync()

    async def sync(self) -> None:
        """fsync now if there is unsynced data (a no-op once closed, or while failed:
        the owner's next commit retries). An fsync error puts the journal in the
        failed state instead of stopping the engine."""
        if not self._dirty or self.failure is not None:
            return
        async with self._lock:
            if self._fd < 0:
                return
            self._dirty = False
            try:
                await trio.to_thread.run_sync(os.fsync, self._fd)
            except OSError as error:
                self._dirty = True
                self._fail(error)
                return
            self.fsyncs += 1

    async def rotate(self) -> int:
        """fsync and close the current segment, start the next; return the new one."""
        async with self._lock:
            fd = self._fd

            def switch() -> None:
                os.fsync(fd)
                os.close(fd)
                self.segment += 1
                self.journal_bytes = 0
                self._open_segment()

            await trio.to_thread.run_sync(switch)
            self._dirty = False
        return self.segment

    async def close(self) -> None:
        """Write what a failure held back, fsync and close (on a clean shutdown, every
        policy ends durable).

        Raises:
            JournalUnavailable: if that last write or fsync failed and acknowledged
                writes may be lost with it (``everysec``/``no``: not yet fsynced). With
                ``always`` every acknowledged write is already on disk: what is left
                was refused to its caller, so the failure is not raised. The file is
                closed either way.
        """
        if self._fd < 0:
            return
        async with self._lock:
            fd, self._fd = self._fd, -1
            self._dirty = False
            unwritten, self._unwritten = self._unwritten, b""

            def finish() -> None:
                try:
                    view = memoryview(unwritten)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fsync(fd)
                finally:
                    os.close(fd)

            try:
                await trio.to_thread.run_sync(finish)
            except OSError as error:
                failure = self._fail(error)
                if self.fsync != "always":
                    raise failure from error
                return
            self.fsyncs += 1
