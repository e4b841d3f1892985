"""A durable engine keeps serving when its disk is full (Redis' MISCONF rule).

On a real full filesystem — a small tmpfs this test mounts (root only; skipped
otherwise) — the write that hits ENOSPC gets ``JournalUnavailable``, later writes are
refused at once with it, reads keep working on every shard, writes resume once the
disk has room, and nothing acknowledged is ever lost, across a reopen on a disk that
is full again.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from engine import JournalUnavailable, Session, UserMemory, open_memory_engine
from engine._durable._journal import RETRY_INTERVAL

DISK = 512 * 1024  # bytes


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs: a disk that really fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(path: Path) -> None:
    """Take every free byte of the disk ``path`` is on (ENOSPC ends it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


async def test_a_full_disk_refuses_writes_serves_reads_and_recovers(
    small_disk: Path, autojump_clock: trio.testing.MockClock
) -> None:
    data = small_disk / "data"
    acknowledged: list[str] = []
    async with open_memory_engine(shards=4, data_dir=data, fsync="always") as mem:
        for index in range(20):
            session_id = f"s{index}"
            await mem.sessions.upsert(Session(session_id=session_id, user_id="u"))
            acknowledged.append(session_id)
        fill(small_disk / "ballast")
        with pytest.raises(JournalUnavailable, match=r"journal cannot be written \(No space"):
            for index in range(20, 10_000):  # the first write of a shard hits ENOSPC...
                await mem.sessions.upsert(Session(session_id=f"s{index}", user_id="u"))
                acknowledged.append(f"s{index}")
        # ...and writes to every shard are refused from then on, before they apply
        for index in range(40):
            try:
                await mem.memories.upsert(UserMemory(user_id=f"u{index}", memory="x"))
            except JournalUnavailable:
                continue
            pytest.fail("a write was acknowledged on a full disk")  # pragma: no cover
        # reads keep working, on every shard
        assert set(acknowledged) <= {s.session_id for s in await mem.sessions.list(user_id="u")}
        for session_id in acknowledged:
            assert (await mem.sessions.get(session_id)) is not None
        # room again: after the retry interval, writes are accepted and durable
        (small_disk / "ballast").unlink()
        await trio.sleep(RETRY_INTERVAL)  # the next write of each shard tries the disk
        await mem.sessions.upsert(Session(session_id="after", user_id="u"))
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="after"))
        acknowledged.append("after")
        fill(small_disk / "ballast")  # full again before the engine closes
    async with open_memory_engine(shards=4, data_dir=data) as mem:  # reopen on a full disk
        stored = {s.session_id for s in await mem.sessions.list(user_id="u")}
        assert set(acknowledged) <= stored
        with pytest.raises(JournalUnavailable):
            await mem.sessions.upsert(Session(session_id="still full", user_id="u"))
        assert (await mem.sessions.get("after")).user_id == "u"
        assert (await mem.memories.get("m", user_id="u")).memory == "after"
