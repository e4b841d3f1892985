"""Stored rows: records as tuples of atomic values, which CPython's cyclic GC untracks.

A store keeps every record as a *row*: a plain ``tuple`` whose items are ``str``,
``int``, ``float``, ``bytes``, ``None`` or tuples of those. The collector untracks
such a tuple the first time it examines it (``gc.is_tracked(row)`` is then ``False``),
so stored records cost a full collection nothing but the dict slot that holds them.
Payloads (``state``, ``metadata``, runs, a summary) are kept as orjson-encoded bytes.
Strings many rows repeat (user, agent, team and workflow ids, the session type, topics,
a working memory's type, a document's status) are stored as their :func:`shared`
(interned) object: one ``str`` per distinct value, not one copy per row.

Every row starts with ``(expires_at, created_at, updated_at)`` (:data:`EXPIRES`,
:data:`CREATED`, :data:`UPDATED`), so liveness and ordering never decode anything.

The public ``attrs`` records are built from a row on read by :func:`record_of` and
friends *without* re-running validators or converters: every value in a row was
validated when the record it came from was built (or is the engine's own timestamp),
and the payload bytes decode to the same frozen values (``FrozenDict``, tuples) the
record held. Never build a row from anything but a validated record.

Row layouts (after the three timestamps):

- session: ``session_id, user_id, session_type, agent_id, team_id, workflow_id,
  name, state, metadata, run_ids, runs, summary`` (``run_ids`` a tuple of ``str``;
  ``runs`` a tuple of one encoded run each; ``summary`` encoded or ``None``);
- user memory: ``user_id, memory_id, memory, topics, input, agent_id, team_id``;
- working memory: ``conversation_id, memory_type, data, metadata``;
- knowledge doc: ``doc_id, name, description, content_hash, status, metadata``.

An empty payload is ``None`` (no bytes object at all).
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Callable
from typing import Any, Final

from engine._core._encoded import (
    builder,
    decode_payload,
    encode_payload,
    encode_run,
    encode_summary,
    run_of,
    summary_of,
)
from engine._core._records import (
    KnowledgeDoc,
    Run,
    Session,
    UserMemory,
    WorkingMemory,
)

__all__ = [
    "CREATED",
    "EXPIRES",
    "UPDATED",
    "Row",
    "S_RUN_IDS",
    "S_RUNS",
    "doc_of",
    "doc_row",
    "memory_of",
    "memory_row",
    "row_of",
    "shared",
    "session_of",
    "session_row",
    "working_of",
    "working_row",
]

Row = tuple[Any, ...]

# sys.intern'd strings are freed once nobody references them on CPython 3.11, 3.12.6+
# and 3.13+; 3.12.0-3.12.5 and free-threaded builds make them immortal (CPython
# gh-113993), so interning there would keep every user id ever seen alive.
_INTERNS: Final = not (
    (3, 12) <= sys.version_info < (3, 12, 6) or sysconfig.get_config_var("Py_GIL_DISABLED")
)
_intern: Final = sys.intern


def shared(value: str | None) -> str | None:
    """The canonical (interned) object of a string many rows repeat (a user, agent,
    team or workflow id, a session type, a topic), so rows of one user hold one
    ``str`` instead of one copy each; ``None`` as it is. Equal strings, so no result
    changes. Identity where interned strings are immortal (CPython 3.12.0-3.12.5,
    free-threaded builds). O(len)."""
    if _INTERNS and type(value) is str:  # not None, and not a subclass: intern refuses
        return _intern(value)
    return value


def _shared_all(values: tuple[str, ...]) -> tuple[str, ...]:
    if not values or not _INTERNS:
        return values
    return tuple([_intern(value) if type(value) is str else value for value in values])


EXPIRES: Final = 0
CREATED: Final = 1
UPDATED: Final = 2

# session rows
S_ID: Final = 3
S_USER: Final = 4
S_TYPE: Final = 5
S_AGENT: Final = 6
S_TEAM: Final = 7
S_WORKFLOW: Final = 8
S_NAME: Final = 9
S_STATE: Final = 10
S_METADATA: Final = 11
S_RUN_IDS: Final = 12
S_RUNS: Final = 13
S_SUMMARY: Final = 14

# user memory rows
M_USER: Final = 3
M_ID: Final = 4
M_MEMORY: Final = 5
M_TOPICS: Final = 6
M_INPUT: Final = 7
M_AGENT: Final = 8
M_TEAM: Final = 9

# working memory rows
W_CONVERSATION: Final = 3
W_TYPE: Final = 4
W_DATA: Final = 5
W_METADATA: Final = 6

# knowledge rows
K_ID: Final = 3
K_NAME: Final = 4
K_STATUS: Final = 7
K_METADATA: Final = 8


def session_row(session: Session) -> Row:
    """The row of a validated, timestamped session. O(size)."""
    runs = session.runs
    return (
        session.expires_at,
        session.created_at,
        session.updated_at,
        session.session_id,
        shared(session.user_id),
        shared(session.session_type),
        shared(session.agent_id),
        shared(session.team_id),
        shared(session.workflow_id),
        session.name,
        encode_payload(session.state),
        encode_payload(session.metadata),
        tuple([run.run_id for run in runs]),
        tuple([encode_run(run) for run in runs]),
        encode_summary(session.summary),
    )


_session = builder(
    Session,
    (
        "session_id",
        "user_id",
        "session_type",
        "agent_id",
        "team_id",
        "workflow_id",
        "name",
        "state",
        "metadata",
        "runs",
        "summary",
        "created_at",
        "updated_at",
        "expires_at",
    ),
)


def session_of(
    row: Row, runs_limit: int | None = None, decode_run: Callable[[bytes], Run] = run_of
) -> Session:
    """The :class:`Session` of a row (only its last ``runs_limit`` runs if given),
    its runs decoded by ``decode_run`` (e.g. a cache's).

    O(size of the runs built).
    """
    runs = row[S_RUNS]
    if runs_limit is not None and runs_limit < len(runs):
        runs = runs[len(runs) - runs_limit :]
    session: Session = _session(
        *row[S_ID:S_STATE],
        decode_payload(row[S_STATE]),
        decode_payload(row[S_METADATA]),
        tuple(map(decode_run, runs)) if runs else (),
        summary_of(row[S_SUMMARY]),
        row[CREATED],
        row[UPDATED],
        row[EXPIRES],
    )
    return session


def memory_row(memory: UserMemory) -> Row:
    """The row of a validated, timestamped user memory. O(1)."""
    return (
        memory.expires_at,
        memory.created_at,
        memory.updated_at,
        shared(memory.user_id),
        memory.memory_id,
        memory.memory,
        _shared_all(memory.topics),
        memory.input,
        shared(memory.agent_id),
        shared(memory.team_id),
    )


_memory = builder(
    UserMemory,
    (
        "user_id",
        "memory_id",
        "memory",
        "topics",
        "input",
        "agent_id",
        "team_id",
        "created_at",
        "updated_at",
        "expires_at",
    ),
)


def memory_of(row: Row) -> UserMemory:
    """The :class:`UserMemory` of a row. O(1)."""
    memory: UserMemory = _memory(*row[3:], row[CREATED], row[UPDATED], row[EXPIRES])
    return memory


def working_row(record: WorkingMemory) -> Row:
    """The row of a validated, timestamped working memory. O(size of metadata)."""
    return (
        record.expires_at,
        record.created_at,
        record.updated_at,
        record.conversation_id,
        shared(record.memory_type),
        record.data,
        encode_payload(record.metadata),
    )


_working = builder(
    WorkingMemory,
    (
        "conversation_id",
        "memory_type",
        "data",
        "metadata",
        "created_at",
        "updated_at",
        "expires_at",
    ),
)


def working_of(row: Row) -> WorkingMemory:
    """The :class:`WorkingMemory` of a row. O(size of metadata)."""
    record: WorkingMemory = _working(
        row[W_CONVERSATION],
        row[W_TYPE],
        row[W_DATA],
        decode_payload(row[W_METADATA]),
        row[CREATED],
        row[UPDATED],
        row[EXPIRES],
    )
    return record


def doc_row(doc: KnowledgeDoc) -> Row:
    """The row of a validated, timestamped knowledge doc. O(size of metadata)."""
    return (
        doc.expires_at,
        doc.created_at,
        doc.updated_at,
        doc.doc_id,
        doc.name,
        doc.description,
        doc.content_hash,
        shared(doc.status),
        encode_payload(doc.metadata),
    )


_doc = builder(
    KnowledgeDoc,
    (
        "doc_id",
        "name",
        "description",
        "content_hash",
        "status",
        "metadata",
        "created_at",
        "updated_at",
        "expires_at",
    ),
)


def doc_of(row: Row) -> KnowledgeDoc:
    """The :class:`KnowledgeDoc` of a row. O(size of metadata)."""
    doc: KnowledgeDoc = _doc(
        *row[3:8], decode_payload(row[K_METADATA]), row[CREATED], row[UPDATED], row[EXPIRES]
    )
    return doc


_ROW_OF: dict[type, Any] = {
    Session: session_row,
    UserMemory: memory_row,
    WorkingMemory: working_row,
    KnowledgeDoc: doc_row,
}


def row_of(record: Any) -> Row:
    """The row of any stored record kind. Raises ``TypeError`` for anything else."""
    encode = _ROW_OF.get(type(record))
    if encode is None:
        raise TypeError(f"expected a record, got {type(record).__name__}")
    row: Row = encode(record)
    return row
