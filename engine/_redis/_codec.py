"""Records to Redis hash fields and back (pure: no I/O, no coredis).

Timestamps travel as ``repr(float)`` strings, which round-trip exactly; payloads as
JSON made by :func:`json.dumps` (``float`` reprs, so exact too). Each record hash also
holds ``ix``: the JSON description of its index entries that Lua needs to remove
them (also kept in ``B:xm`` for records with a TTL, so the sweep can clean the
indexes after the server has evicted the record itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from engine._core._codec import thaw
from engine._core._records import (
    KnowledgeDoc,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
)
from engine._core._text import memory_terms
from engine._redis._keys import NUL

__all__ = [
    "decode_doc",
    "decode_memory",
    "decode_run",
    "decode_session",
    "decode_working",
    "doc_fields",
    "dumps",
    "fields_of",
    "memory_fields",
    "num",
    "session_fields",
    "ts",
    "working_fields",
]

_SESSION_BODY = ("session_type", "agent_id", "team_id", "workflow_id", "state", "metadata")
_TIMES = ("created_at", "updated_at", "expires_at")


def dumps(value: Any) -> str:
    """Compact JSON (exact floats, ``allow_nan`` off: payloads are already checked)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def ts(value: float | None) -> str:
    """A timestamp or TTL as the exact string Lua receives; ``''`` for ``None``."""
    return "" if value is None else repr(float(value))


def num(value: str | None) -> float | None:
    """The inverse of :func:`ts`."""
    return None if value is None or value == "" else float(value)


def fields_of(flat: Sequence[Any] | Mapping[str, Any]) -> dict[str, str]:
    """An ``HGETALL`` reply (flat list from Lua, or a dict) as a dict."""
    if isinstance(flat, Mapping):
        return dict(flat)
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def _flat(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


def _times(fields: Mapping[str, str]) -> dict[str, float | None]:
    return {
        "created_at": num(fields.get("c")),
        "updated_at": num(fields.get("u")),
        "expires_at": num(fields.get("e")),
    }


# ------------------------------------------------------------------------ sessions


def session_groups(session: Session) -> list[str]:
    """The ordered index groups of a session (as ``engine._store._session_table``)."""
    groups = ["all"]
    for name, value in (
        ("user", session.user_id),
        ("agent", session.agent_id),
        ("team", session.team_id),
        ("workflow", session.workflow_id),
    ):
        if value is not None:
            groups.append(f"{name}{NUL}{value}")
    return groups


def session_fields(session: Session) -> tuple[list[str], str, list[str]]:
    """(flat body fields, ``ix`` JSON, flat ``run_id, run JSON`` pairs) of a session."""
    body = {name: _plain(getattr(session, name)) for name in _SESSION_BODY}
    fields = {"d": dumps(body)}
    if session.user_id is not None:
        fields["uid"] = session.user_id
    if session.name is not None:
        fields["n"] = session.name
    if session.summary is not None:
        fields["sm"] = dumps(session.summary.to_dict())
    ix = dumps({"k": "s", "id": session.session_id, "g": session_groups(session)})
    runs = [item for run in session.runs for item in (run.run_id, dumps(run.to_dict()))]
    return _flat(fields), ix, runs


def _plain(value: Any) -> Any:
    return thaw(value) if isinstance(value, dict) else value


def decode_run(blob: str) -> Run:
    """A run from its JSON."""
    return Run.from_dict(orjson.loads(blob))


def decode_session(session_id: str, flat: Any, runs: Sequence[str]) -> Session:
    """A session from its hash and its run JSONs (oldest first)."""
    fields = fields_of(flat)
    data: dict[str, Any] = orjson.loads(fields["d"])
    summary = fields.get("sm")
    return Session(
        session_id=session_id,
        user_id=fields.get("uid"),
        name=fields.get("n"),
        summary=None if summary is None else SessionSummary.from_dict(orjson.loads(summary)),
        runs=tuple(decode_run(blob) for blob in runs),
        created_at=num(fields.get("c")),
        updated_at=num(fields.get("u")),
        expires_at=num(fields.get("e")),
        **data,
    )


# ------------------------------------------------------------------------ memories


def memory_fields(memory: UserMemory) -> tuple[list[str], str]:
    """(flat body fields, ``ix`` JSON) of a user memory (``memory_id`` set)."""
    body = memory.to_dict()
    for name in _TIMES:
        del body[name]
    terms = memory_terms(memory.memory, memory.topics)
    ix = {
        "k": "m",
        "u": memory.user_id,
        "m": memory.memory_id,
        "t": sorted(set(memory.topics)),
        "w": [[term, count] for term, count in terms.items()],
        "l": sum(terms.values()),
    }
    return ["d", dumps(body)], dumps(ix)


def decode_memory(flat: Any) -> UserMemory:
    """A user memory from its hash."""
    fields = fields_of(flat)
    return UserMemory.from_dict({**orjson.loads(fields["d"]), **_times(fields)})


# ------------------------------------------------------------------ working memory


def working_fields(record: WorkingMemory) -> tuple[list[str], str]:
    """(flat body fields, ``ix`` JSON) of working memory."""
    fields = {
        "cid": record.conversation_id,
        "mt": record.memory_type,
        "data": record.data,
        "metadata": dumps(thaw(record.metadata)),
    }
    ix = dumps({"k": "w", "id": f"{record.conversation_id}{NUL}{record.memory_type}"})
    return _flat(fields), ix


def decode_working(flat: Any) -> WorkingMemory:
    """Working memory from its hash."""
    fields = fields_of(flat)
    return WorkingMemory(
        conversation_id=fields["cid"],
        memory_type=fields["mt"],
        data=fields["data"],
        metadata=orjson.loads(fields["metadata"]),
        **_times(fields),
    )


# ----------------------------------------------------------------------- knowledge


def doc_fields(doc: KnowledgeDoc) -> tuple[list[str], str]:
    """(flat body fields, ``ix`` JSON) of a knowledge document."""
    body = doc.to_dict()
    for name in _TIMES:
        del body[name]
    return ["d", dumps(body)], dumps({"k": "k", "id": doc.doc_id})


def decode_doc(flat: Any) -> KnowledgeDoc:
    """A knowledge document from its hash."""
    fields = fields_of(flat)
    return KnowledgeDoc.from_dict({**orjson.loads(fields["d"]), **_times(fields)})
