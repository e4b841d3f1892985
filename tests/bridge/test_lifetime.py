"""Lifetime: close, collection of an unclosed handle, interpreter exit, a dying thread."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from engine import (
    EngineClosed,
    Session,
    open_blocking_engine,
    start_blocking_engine,
)

ROOT = Path(__file__).resolve().parents[2]


def _engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("shardmem-engine")]


def test_the_engine_thread_is_a_daemon_and_ends_at_close() -> None:
    mem = start_blocking_engine(shards=1)
    (thread,) = [t for t in _engine_threads() if t is mem._thread.thread]
    assert thread.daemon
    mem.close()
    assert not thread.is_alive()
    mem.close()  # idempotent
    with pytest.raises(EngineClosed, match="closed"):
        mem.sessions.get("s1")
    with pytest.raises(EngineClosed):
        mem.statistics()


def test_close_with_blocked_callers_in_other_threads_answers_every_one() -> None:
    mem = start_blocking_engine(shards=2)
    mem.sessions.upsert(Session(session_id="s", user_id="u"))
    outcomes: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(9)

    def caller() -> None:
        go.wait()
        for _ in range(200):
            try:
                mem.sessions.get("s")
                result = "served"
            except EngineClosed:
                result = "closed"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    go.wait()
    mem.close()
    for thread in threads:
        thread.join()
    # every call was answered; once one saw "closed", that thread saw only "closed"
    assert len(outcomes) == 8 * 200
    assert set(outcomes) <= {"served", "closed"}


def test_an_unclosed_handle_warns_when_collected_and_stops_its_engine() -> None:
    mem = start_blocking_engine(shards=1)
    thread = mem._thread.thread
    with pytest.warns(ResourceWarning, match="unclosed BlockingEngine"):
        del mem
        gc.collect()
    thread.join()
    assert not thread.is_alive()


def test_derived_handles_do_not_warn_and_keep_the_engine_alive() -> None:
    mem = start_blocking_engine(shards=1)
    aio = mem.asyncio()
    sessions = mem.sessions
    del aio
    gc.collect()  # a derived handle is not the owner: no warning
    del mem
    gc.collect()  # the facade keeps its handle, so the engine runs on
    assert sessions.get("s1") is None
    sessions._owner.close()


def test_an_engine_left_open_at_exit_is_closed_and_its_journal_flushed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from engine import Session, start_blocking_engine
        mem = start_blocking_engine(data_dir={str(tmp_path)!r}, fsync="no")
        mem.sessions.upsert(Session(session_id="kept", user_id="u"))
        KEEP = mem  # never closed
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" in done.stderr and "never closed" in done.stderr
    with open_blocking_engine(data_dir=tmp_path) as mem:  # the data dir was released
        assert mem.sessions.get("kept") is not None


class Boom(BaseException):
    """Something that kills the engine thread's trio run."""


def _explode() -> None:
    raise Boom("engine thread bug")


def test_a_dying_engine_thread_answers_every_caller_with_a_typed_error() -> None:
    mem = start_blocking_engine(shards=1)
    with pytest.raises(Boom):  # the call that killed the run gets its own error
        mem.call_in_engine_thread(_explode)
    mem._thread.thread.join()
    with pytest.raises(EngineClosed, match="died") as caught:
        mem.sessions.get("s1")
    assert caught.value.__cause__ is not None
    assert mem.closed
    mem.close()  # nothing left to stop; does not raise


def test_hundreds_of_engines_start_and_stop_without_leaking_threads() -> None:
    """Framework test suites build a store (and so an engine) per test."""
    before = set(_engine_threads())
    for n in range(200):
        mem = start_blocking_engine(shards=1)
        mem.sessions.upsert(Session(session_id=f"s{n}", user_id="u"))
        mem.close()
    assert set(_engine_threads()) == before


def test_cancelling_an_asyncio_open_stops_the_engine_thread() -> None:
    import asyncio

    from engine import open_asyncio_engine

    async def main() -> None:
        opening = asyncio.ensure_future(open_asyncio_engine(shards=1).__aenter__())
        await asyncio.sleep(0)  # the engine thread is starting
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening

    before = set(_engine_threads())
    asyncio.run(main())
    for thread in set(_engine_threads()) - before:
        thread.join()  # it stops on its own once open; nothing to close
    assert set(_engine_threads()) == before
