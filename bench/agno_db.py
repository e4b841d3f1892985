"""Agno's db API driven as an Agent drives it, on ``InMemoryDb`` and on ``ShardmemDb``.

``python -m bench.agno_db [--conversations N] [--sessions M] [--threads T] [--redis]``

Three measurements, each printed for the Agno targets of ``bench._targets._agno``:
``agno`` (``InMemoryDb``), ``agno-shardmem`` (embedded) and, with ``--redis``,
``agno-shardmem-redis`` (on ``$SHARDMEM_REDIS_URL``). The replay of the whole
scenario through the same targets is ``shardmem bench --target agno,agno-shardmem``.

1. replay: every turn of the first N ChitChat conversations as an Agent's turn:
   ``get_session``, ``upsert_session``, ``upsert_run`` (the turn's utterances as
   messages) and ``get_user_memories``; turns per second;
2. listing: M stored sessions over 1,000 users, then ``get_sessions(user_id=...)``
   for 200 users; milliseconds per listing;
3. threads: T threads replaying their own conversations against one db at once;
   turns per second, or the error the db raised.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any

from agno.models.message import Message
from agno.run.agent import RunOutput
from agno.session import AgentSession

from bench._replay._dataset import Conversation, load_chitchat
from bench._targets._agno import AgnoShardmemRedisTarget, AgnoShardmemTarget, AgnoTarget

__all__ = ["main"]


def _turn(db: Any, conversation: Conversation, index: int) -> None:
    sid = conversation.conversation_id
    turn = conversation.turns[index]
    user = turn.sender
    session = db.get_session(sid, user_id=None) or AgentSession(session_id=sid, agent_id="bench")
    db.upsert_session(session)
    messages = [Message(role="user", content=text) for text in turn.texts]
    run = RunOutput(
        run_id=f"{sid}-{index}", agent_id="bench", content=turn.texts[-1], messages=messages
    )
    db.upsert_run(run, session_id=sid, user_id=None, run_index=index)
    db.get_user_memories(user_id=user)


def replay(db: Any, conversations: list[Conversation]) -> float:
    """Turns per second replaying ``conversations`` in order."""
    turns = 0
    start = time.perf_counter()
    for conversation in conversations:
        for index in range(len(conversation.turns)):
            _turn(db, conversation, index)
            turns += 1
    return turns / (time.perf_counter() - start)


def listing(db: Any, sessions: int) -> float:
    """Milliseconds per ``get_sessions(user_id=...)`` with ``sessions`` stored."""
    for number in range(sessions):
        db.upsert_session(
            AgentSession(session_id=f"l{number}", user_id=f"u{number % 1000}", agent_id="bench")
        )
    start = time.perf_counter()
    for user in range(200):
        db.get_sessions(user_id=f"u{user}")
    return (time.perf_counter() - start) / 200 * 1000


def threads(db: Any, conversations: list[Conversation], count: int) -> str:
    """Turns per second with ``count`` threads, or the first error raised."""
    errors: list[BaseException] = []
    turns = [0]
    lock = threading.Lock()

    def work(part: list[Conversation]) -> None:
        try:
            for conversation in part:
                for index in range(len(conversation.turns)):
                    _turn(db, conversation, index)
                    db.get_sessions(user_id=conversation.turns[index].sender)
                    with lock:
                        turns[0] += 1
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work, args=(conversations[n::count],)) for n in range(count)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        return f"failed: {type(errors[0]).__name__}: {errors[0]}"
    return f"{turns[0] / elapsed:,.0f} turns/s"


def main(argv: list[str] | None = None) -> None:
    """Run the three measurements and print one line per target and measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--redis", action="store_true", help="also on $SHARDMEM_REDIS_URL")
    args = parser.parse_args(argv)
    corpus = load_chitchat(limit=args.conversations)
    kinds = [AgnoTarget, AgnoShardmemTarget] + ([AgnoShardmemRedisTarget] if args.redis else [])
    measures: list[tuple[str, Callable[[Any], str]]] = [
        ("replay", lambda db: f"{replay(db, corpus):,.0f} turns/s"),
        ("listing", lambda db: f"{listing(db, args.sessions):.3f} ms per user listing"),
        ("threads", lambda db: threads(db, corpus, args.threads)),
    ]
    for kind in kinds:
        for label, measure in measures:
            target = kind()  # a fresh db per measurement
            try:
                print(f"{kind.name:22} {label:8} {measure(target.db)}", flush=True)
            finally:
                if hasattr(target, "close"):
                    target.close()


if __name__ == "__main__":
    main()
