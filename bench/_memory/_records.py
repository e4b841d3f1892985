"""The mixed records ``shardmem bench memory`` stores, and what their payload is."""

from __future__ import annotations

import random
from typing import Any, Final

import attrs
import orjson

from engine import (
    FrozenDict,
    KnowledgeDoc,
    Message,
    Run,
    Session,
    UserMemory,
    WorkingMemory,
)

__all__ = ["MIX", "WORKING_TTL", "payload_bytes", "record_at"]

#: Out of every 20 records: 5 sessions (3 runs of 2 messages each), 8 user memories
#: (2 topics), 4 working memories (with a TTL) and 3 knowledge documents.
MIX: Final = "25% sessions with 3 runs of 2 messages, 40% user memories, 20% working, 15% docs"
#: The working memories' TTL (seconds): longer than any run of the benchmark.
WORKING_TTL: Final = 86_400.0
_WORDS: Final = tuple(
    f"{a}{b}"
    for a in ("ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze")
    for b in ("bar", "cod", "dim", "fen", "gul", "hox", "jip", "kem", "lun", "mor")
)
_USERS: Final = 5_000


def _text(rnd: random.Random, words: int) -> str:
    return " ".join(rnd.choice(_WORDS) for _ in range(words))


def record_at(index: int) -> tuple[Any, float | None]:
    """The ``index``-th record of the mix and its TTL (deterministic)."""
    rnd = random.Random(index)
    slot = index % 20
    user = f"u{index % _USERS}"
    if slot < 5:
        runs = tuple(
            Run(
                run_id=f"r{turn}",
                messages=(
                    Message(role="user", content=_text(rnd, 8)),
                    Message(role="assistant", content=_text(rnd, 12)),
                ),
            )
            for turn in range(3)
        )
        session = Session(
            session_id=f"s{index}",
            user_id=user,
            agent_id="bench",
            name=f"chat {index}",
            state={"step": index, "tags": ["a", "b"]},
            runs=runs,
        )
        return session, None
    if slot < 13:
        words = _text(rnd, 6)
        topics = tuple(words.split()[:2])
        return UserMemory(user_id=user, memory_id=f"m{index}", memory=words, topics=topics), None
    if slot < 17:
        working = WorkingMemory(
            conversation_id=f"c{index}", data=_text(rnd, 10), metadata={"turn": index}
        )
        return working, WORKING_TTL
    doc = KnowledgeDoc(
        doc_id=f"d{index}",
        name=f"doc {index}",
        description=_text(rnd, 5),
        metadata={"source": "bench", "page": index},
    )
    return doc, None


def payload_bytes(value: Any) -> int:
    """What a record carries for its user: the UTF-8 bytes of its text and id fields
    and the JSON bytes of its payloads (timestamps, numbers and ``None`` count 0)."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, FrozenDict):
        return len(orjson.dumps(value)) if value else 0
    if isinstance(value, tuple):
        return sum(payload_bytes(item) for item in value)
    if attrs.has(type(value)):
        return sum(payload_bytes(getattr(value, f.name)) for f in attrs.fields(type(value)))
    return 0
