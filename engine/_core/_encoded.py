"""The bytes a stored row holds, and building records without re-validation.

Payloads (``state``, ``metadata``), runs and a session summary are kept in rows as
orjson-encoded bytes copied to their exact size (an empty payload is ``None``); the
records they decode to are built by :func:`builder`'s generated constructors, which
skip validators and converters: only for values validated before. See
:mod:`engine._core._rows` for the row layouts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from engine._core._codec import EMPTY, FrozenDict, _trusted
from engine._core._records import Message, Run, SessionSummary

__all__ = [
    "builder",
    "decode_payload",
    "encode_payload",
    "encode_run",
    "encode_summary",
    "frozen",
    "frozen_object",
    "run_of",
    "summary_of",
]


def builder(cls: type[Any], names: tuple[str, ...]) -> Callable[..., Any]:
    """A function ``make(*values)`` that builds an ``attrs`` record of ``cls`` with
    ``names`` set to ``values`` *without* running its validators or converters: only
    for values validated before (a row's).

    Generated like ``attrs`` generates ``__init__``: one call of each slot's setter,
    unrolled (about 4x faster than a loop of ``object.__setattr__``).
    """
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for name in names:
        namespace["set_" + name] = cls.__dict__[name].__set__  # the slot's descriptor
    body = "".join(f"    set_{name}(record, {name})\n" for name in names)
    source = f"def make({', '.join(names)}):\n    record = new(cls)\n{body}    return record\n"
    exec(source, namespace)
    make: Callable[..., Any] = namespace["make"]
    return make


def frozen(value: Any) -> Any:
    """A decoded JSON value as the frozen value it was encoded from (no validation)."""
    kind = type(value)
    if kind is dict:
        return _trusted({key: frozen(item) for key, item in value.items()})
    if kind is list:
        return tuple([frozen(item) for item in value])
    return value


def _dumps(value: Any) -> bytes:
    """``orjson.dumps(value)`` copied into a ``bytes`` of its exact size: orjson's own
    result keeps the 4 KiB buffer it was written into (``tracemalloc``: 4,097 bytes
    for a 43-byte result), which a store holding millions of them cannot afford."""
    return memoryview(orjson.dumps(value)).tobytes()


def encode_payload(payload: FrozenDict) -> bytes | None:
    """A frozen JSON object as bytes; ``None`` for an empty one. O(size)."""
    return _dumps(payload) if payload else None


def decode_payload(data: bytes | None) -> FrozenDict:
    """The frozen JSON object :func:`encode_payload` encoded. O(size)."""
    if data is None:
        return EMPTY
    payload: FrozenDict = frozen(orjson.loads(data))
    return payload


def frozen_object(value: dict[str, Any] | None) -> FrozenDict:
    if not value:  # None or {}: the shared empty payload
        return EMPTY
    payload: FrozenDict = frozen(value)
    return payload


_message = builder(Message, ("role", "content", "name", "metadata", "created_at"))
_run = builder(Run, ("run_id", "messages", "status", "metadata", "created_at"))
_summary = builder(SessionSummary, ("summary", "topics", "updated_at"))


def encode_run(run: Run) -> bytes:
    """One run (with its messages) as bytes. O(size of the run)."""
    return _dumps(  # an empty payload (falsy) is written as null
        (
            run.run_id,
            run.status,
            run.metadata or None,
            run.created_at,
            [(m.role, m.content, m.name, m.metadata or None, m.created_at) for m in run.messages],
        )
    )


def _messages(encoded: list[list[Any]]) -> tuple[Message, ...]:
    return tuple(
        [
            _message(role, content, name, frozen_object(meta), created)
            for role, content, name, meta, created in encoded
        ]
    )


def run_of(data: bytes) -> Run:
    """The :class:`Run` :func:`encode_run` encoded. O(size of the run)."""
    run_id, status, meta, created, messages = orjson.loads(data)
    run: Run = _run(run_id, _messages(messages), status, frozen_object(meta), created)
    return run


def encode_summary(summary: SessionSummary | None) -> bytes | None:
    if summary is None:
        return None
    return _dumps((summary.summary, summary.topics, summary.updated_at))


def summary_of(data: bytes | None) -> SessionSummary | None:
    """The session summary of a row's summary field."""
    if data is None:
        return None
    text, topics, updated = orjson.loads(data)
    summary: SessionSummary = _summary(text, tuple(topics), updated)
    return summary
