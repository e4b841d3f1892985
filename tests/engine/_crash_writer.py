"""The writer process of ``test_crash.py``: a durable engine under concurrent load.

Usage::

    python _crash_writer.py DATA_DIR FSYNC ROUND SYNC_LOG COMPACT_MIN_BYTES [WRITERS]

Opens ``open_memory_engine(data_dir=DATA_DIR, fsync=FSYNC)`` (recovering what the
previous, killed, round left), prints ``ready``, then runs WRITERS concurrent tasks
that write until the process is killed. Writer ``w``'s ``i``-th write goes to one of
a few keys of its own, cycling through sessions, user memories and working memory,
and carries the version ``ROUND * 10**9 + i``; once acknowledged it prints one line,
written with a single ``os.write`` so that it is complete before the next write::

    <kind> <key> <version> <time.monotonic() after the acknowledgement>

Every ``os.fsync`` is wrapped to append ``<path> <size>`` to SYNC_LOG once it
returns, ``size`` being the file's size when the fsync was called: the parent uses
it to model a power loss (everything after the last fsync of a file is lost).
"""

from __future__ import annotations

import os
import stat
import sys
import time

import trio

from engine import EngineConfig, Session, UserMemory, open_memory_engine

KEYS = 8  # keys per writer and kind: the data set stays small, recovery stays fast
SHARDS = 4


def record_fsyncs(log_path: str) -> None:
    """Make every ``os.fsync`` log how much of a regular file it made durable."""
    real = os.fsync
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        real(fd)
        if stat.S_ISREG(info.st_mode):
            path = os.readlink(f"/proc/self/fd/{fd}")
            os.write(log, f"{path} {info.st_size}\n".encode())

    os.fsync = fsync


async def main(root: str, fsync: str, round_: int, compact_min: int, writers: int) -> None:
    config = EngineConfig(
        shards=SHARDS,
        fsync=fsync,
        mailbox_size=4096,
        compact_factor=2.0,
        compact_min_bytes=compact_min,  # small: compactions under load, and get killed
    )
    async with open_memory_engine(config=config, data_dir=root) as mem:
        os.write(1, f"ready {mem.statistics().records}\n".encode())

        async def writer(w: int) -> None:
            user = f"u{w}"
            i = 0
            while True:
                version = round_ * 10**9 + i
                key = f"w{w}-{(i // 3) % KEYS}"
                kind = i % 3
                if kind == 0:
                    state = {"version": version, "pad": "x" * 40}
                    await mem.sessions.upsert(Session(session_id=key, user_id=user, state=state))
                    line = f"session {key} {version}"
                elif kind == 1:
                    memory = UserMemory(user_id=user, memory_id=key, memory=str(version))
                    await mem.memories.upsert(memory)
                    line = f"memory {key} {version}"
                else:
                    await mem.working.store(key, str(version), ttl=None)
                    line = f"working {key} {version}"
                os.write(1, f"{line} {time.monotonic():.6f}\n".encode())
                i += 1

        async with trio.open_nursery() as nursery:
            for w in range(writers):
                nursery.start_soon(writer, w)


if __name__ == "__main__":
    root, fsync, round_, sync_log, compact_min = sys.argv[1:6]
    writers = int(sys.argv[6]) if len(sys.argv) > 6 else 64
    record_fsyncs(sync_log)
    trio.run(main, root, fsync, int(round_), int(compact_min), writers)
