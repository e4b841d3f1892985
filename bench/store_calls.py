"""CPU time per call of the store operations an agent's turn makes, on one shard's
store directly (no trio, no request path): the store side of the replay's hot path.

``python -m bench.store_calls [--sessions N] [--runs R] [--repeat K]``

Loads N sessions of R runs (two messages each) into an ``engine.lowlevel.ShardStore``,
then times each operation once per session, K times, and prints the best pass in
microseconds of CPU time per call (``time.process_time``: robust on a shared machine).
The garbage collector is off while timing (what a call allocates, not when the
collector happens to run). Operations: the history read of a turn (``get_messages``
of the last 3 runs, and of every run), ``get_session``, ``store_working`` and
``retrieve_working``, ``upsert_memory``, ``append_run`` (replacing the last run in
place, and appending to a session without runs) and ``upsert_session``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence

# ``engine.ShardStore`` (also ``engine.lowlevel.ShardStore``): the script then runs
# on older trees too (``PYTHONPATH=<tree> python bench/store_calls.py``).
from engine import EngineConfig, Message, Run, Session, ShardStore, UserMemory, WorkingMemory

__all__ = ["main", "measure"]

NOW = 1_000.0


def _run(run_id: str) -> Run:
    return Run(
        run_id=run_id,
        messages=(
            Message(role="user", content="hello there, how are you today? " * 3),
            Message(role="assistant", content="fine, thanks, and you? " * 4),
        ),
    )


def measure(sessions: int = 1_000, runs: int = 20, repeat: int = 5) -> dict[str, float]:
    """CPU microseconds per call of each operation (best of ``repeat`` passes over
    ``sessions`` sessions of ``runs`` runs), by operation name."""
    store = ShardStore(EngineConfig())
    users = [f"u{i % 50}" for i in range(sessions)]
    ids = [f"s{i}" for i in range(sessions)]
    for sid, user in zip(ids, users, strict=True):
        store.upsert_session(NOW, Session(session_id=sid, user_id=user, agent_id="a"), None)
        for j in range(runs):
            store.append_run(NOW, sid, _run(f"r{j}"), user)
    last = [_run(f"r{runs - 1}") for _ in ids]  # replaces the last run in place
    empty = [
        Session(session_id=sid, user_id=user, agent_id="a")
        for sid, user in zip(ids, users, strict=True)
    ]
    working = [WorkingMemory(conversation_id=sid, data="working memory " * 6) for sid in ids]
    memories = [
        UserMemory(user_id=user, memory_id=sid, memory="likes green tea", topics=("food",))
        for sid, user in zip(ids, users, strict=True)
    ]

    s = store
    cases: list[tuple[str, Callable[[int], object], int]] = [
        (
            "get_messages, last 3 runs",
            lambda i: s.get_messages(NOW, ids[i], 3, None, users[i]),
            repeat,
        ),
        (
            "get_messages, every run",
            lambda i: s.get_messages(NOW, ids[i], None, None, users[i]),
            repeat,
        ),
        ("get_session", lambda i: s.get_session(NOW, ids[i], users[i], None), repeat),
        ("store_working", lambda i: s.store_working(NOW, working[i], 5.0), repeat),
        ("retrieve_working", lambda i: s.retrieve_working(NOW, ids[i], "working"), repeat),
        ("upsert_memory", lambda i: s.upsert_memory(NOW, memories[i], None), repeat),
        (
            "append_run, replacing the last",
            lambda i: s.append_run(NOW, ids[i], last[i], users[i]),
            repeat,
        ),
        ("upsert_session (drops the runs)", lambda i: s.upsert_session(NOW, empty[i], None), 1),
        (
            "append_run, to a session without runs",
            lambda i: s.append_run(NOW, ids[i], last[i], users[i]),
            1,
        ),
    ]
    results: dict[str, float] = {}
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for name, call, passes in cases:
            best = float("inf")
            for _ in range(passes):
                start = time.process_time()
                for i in range(sessions):
                    call(i)
                best = min(best, time.process_time() - start)
            results[name] = best / sessions * 1e6
    finally:
        if enabled:
            gc.enable()
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_calls", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1_000, help="sessions (default 1000)")
    parser.add_argument("--runs", type=int, default=20, help="runs per session (default 20)")
    parser.add_argument("--repeat", type=int, default=5, help="passes, best kept (default 5)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.runs < 1 or args.repeat < 1:
        parser.error("--sessions, --runs and --repeat must be >= 1")
    for name, micros in measure(args.sessions, args.runs, args.repeat).items():
        print(f"{name:40s} {micros:8.2f} µs")


if __name__ == "__main__":
    main()
