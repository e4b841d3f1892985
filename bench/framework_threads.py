"""Arshai's and Upsonic's store APIs from many threads at once: the frameworks' own
in-memory classes against shardmem's adapters.

``python -m bench.framework_threads [--threads T] [--ops N]``

Each of T threads replays N turns against one shared store through the framework's
API — Arshai: ``store`` then ``retrieve`` of working memory (its own conversation and
one all threads share); Upsonic: ``upsert_session`` then ``get_session`` and
``get_sessions`` — and the line printed is the turns per second, or the first error a
thread raised (Arshai's ``InMemoryManager`` sweeps its dict on every call while other
threads write to it). A framework that is not installed is reported as skipped.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["main"]

Turn = Callable[[Any, int, int], None]


def _arshai() -> tuple[Callable[[], Any], Callable[[], Any], Turn]:
    from arshai.core.interfaces.imemorymanager import (
        ConversationMemoryType,
        IMemoryInput,
        IWorkingMemory,
    )
    from arshai.memory.working_memory.in_memory_manager import InMemoryManager

    from engine.integrations.arshai import ShardmemMemoryManager

    working = ConversationMemoryType.WORKING_MEMORY

    def turn(manager: Any, thread: int, index: int) -> None:
        for conversation in (f"t{thread}-{index % 50}", "shared"):
            item = IWorkingMemory(working_memory=f"{thread}:{index}")
            manager.store(
                IMemoryInput(conversation_id=conversation, memory_type=working, data=[item])
            )
            manager.retrieve(IMemoryInput(conversation_id=conversation, memory_type=working))

    return (lambda: InMemoryManager(ttl=3600)), (lambda: ShardmemMemoryManager(ttl=3600)), turn


def _upsonic() -> tuple[Callable[[], Any], Callable[[], Any], Turn]:
    from upsonic.session.agent import AgentSession
    from upsonic.storage.in_memory import InMemoryStorage

    from engine.integrations.upsonic import ShardmemStorage

    def turn(storage: Any, thread: int, index: int) -> None:
        session_id = f"t{thread}-{index % 50}"
        storage.upsert_session(AgentSession(session_id=session_id, user_id=f"u{thread}"))
        storage.get_session(session_id=session_id)
        storage.get_sessions(user_id=f"u{thread}", limit=5)

    return InMemoryStorage, ShardmemStorage, turn


def hammer(store: Any, turn: Turn, threads: int, ops: int) -> str:
    """Turns per second with ``threads`` threads of ``ops`` turns each, or the first
    error one of them raised."""
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for index in range(ops):
                turn(store, thread, index)
        except BaseException as error:  # reported, not raised: that is the measurement
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        return f"failed: {type(errors[0]).__name__}: {errors[0]}"
    return f"{threads * ops / elapsed:,.0f} turns/s"


def main(argv: list[str] | None = None) -> None:
    """Print one line per framework and store class."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--ops", type=int, default=500)
    args = parser.parse_args(argv)
    for framework, load in (("arshai", _arshai), ("upsonic", _upsonic)):
        try:
            reference, adapter, turn = load()
        except ImportError as error:
            print(f"{framework:18} skipped: {error}", flush=True)
            continue
        for name, build in ((framework, reference), (f"{framework}-shardmem", adapter)):
            store = build()
            try:
                print(f"{name:18} {hammer(store, turn, args.threads, args.ops)}", flush=True)
            finally:
                close = getattr(store, "close", None)
                if close is not None and name.endswith("-shardmem"):
                    close()


if __name__ == "__main__":
    main()
