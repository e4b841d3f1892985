"""The records the engine stores: frozen, keyword-only ``attrs`` values.

Timestamps are epoch seconds filled in by the engine (``created_at`` kept from the
first write, ``updated_at`` set at every write); ``expires_at`` is ``None`` for
"never". Payloads (``state``, ``metadata``) are frozen copies (see ``engine._core._codec``).
Every record converts to and from a JSON-safe dict with ``to_dict``/``from_dict``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, TypeVar

import attrs

from engine._core._codec import EMPTY, FrozenDict, freeze_mapping, thaw
from engine._core._errors import InvalidArgument
from engine._core._fields import (
    field_choice,
    field_id,
    field_optional_id,
    field_optional_str,
    field_str,
    field_timestamp,
)
from engine._core._validate import check_str_tuple

__all__ = [
    "MESSAGE_ROLES",
    "replace",
    "SESSION_TYPES",
    "KnowledgeDoc",
    "Message",
    "Run",
    "Session",
    "SessionSummary",
    "UserMemory",
    "WorkingMemory",
]

MESSAGE_ROLES: Final = ("system", "user", "assistant", "tool")
SESSION_TYPES: Final = ("agent", "team", "workflow")

R = TypeVar("R")

# The field validators (also used by ``engine._core._items``' records).
_choice = field_choice
_id = field_id
_opt_id = field_optional_id
_opt_str = field_optional_str
_str = field_str
_time = field_timestamp


def _tuple_of(value: Any, kind: type, name: str) -> tuple[Any, ...]:
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name}: expected a tuple of {kind.__name__}, got {type(value).__name__}")
    items = tuple(value)
    for index, item in enumerate(items):
        if not isinstance(item, kind):
            raise TypeError(
                f"{name}[{index}]: expected {kind.__name__}, got {type(item).__name__} {item!r:.60}"
            )
    return items


def _conv_message_metadata(value: Any) -> FrozenDict:
    return value if type(value) is FrozenDict else freeze_mapping(value, "Message.metadata")


def _conv_run_metadata(value: Any) -> FrozenDict:
    return value if type(value) is FrozenDict else freeze_mapping(value, "Run.metadata")


def _conv_sessionsummary_topics(value: Any) -> tuple[str, ...]:
    return check_str_tuple("SessionSummary.topics", value)


def _conv_session_state(value: Any) -> FrozenDict:
    return value if type(value) is FrozenDict else freeze_mapping(value, "Session.state")


def _conv_session_metadata(value: Any) -> FrozenDict:
    return value if type(value) is FrozenDict else freeze_mapping(value, "Session.metadata")


def _conv_usermemory_topics(value: Any) -> tuple[str, ...]:
    return check_str_tuple("UserMemory.topics", value)


def _conv_workingmemory_metadata(value: Any) -> FrozenDict:
    return value if type(value) is FrozenDict else freeze_mapping(value, "WorkingMemory.metadata")


def _conv_knowledgedoc_metadata(value: Any) -> FrozenDict:
    return value if type(value) is FrozenDict else freeze_mapping(value, "KnowledgeDoc.metadata")


def _conv_run_messages(value: Any) -> tuple[Any, ...]:
    return _tuple_of(value, Message, "Run.messages")


def _conv_session_runs(value: Any) -> tuple[Any, ...]:
    return _tuple_of(value, Run, "Session.runs")


def _from_dict(cls: type[R], data: object, nested: Mapping[str, Callable[[Any], Any]]) -> R:
    """Build ``cls`` from a dict, rejecting unknown fields by name."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__}.from_dict: expected a dict, got {type(data).__name__}")
    names = {field.name for field in attrs.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise InvalidArgument(
            f"{cls.__name__}.from_dict: unknown fields {unknown}; expected some of {sorted(names)}"
        )
    values = {key: nested[key](value) if key in nested else value for key, value in data.items()}
    try:
        return cls(**values)
    except TypeError as error:
        if "missing" in str(error) and "required" in str(error):
            raise InvalidArgument(f"{cls.__name__}.from_dict: {error}") from None
        raise


def _to_dict(record: Any) -> dict[str, Any]:
    return {field.name: _plain(getattr(record, field.name)) for field in attrs.fields(type(record))}


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return _to_dict(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return thaw(value)
    return value


class _Convertible:
    """``to_dict``/``from_dict`` for the records."""

    __slots__ = ()
    _nested: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field (payloads thawed, tuples as lists)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """Build the record from :meth:`to_dict`'s output.

        Raises:
            InvalidArgument: for unknown or missing fields, or an invalid value.
            TypeError: for a field of the wrong type.
        """
        return _from_dict(cls, data, cls._nested)  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class Message(_Convertible):
    """One message of a run.

    Attributes:
        role: ``"system"``, ``"user"``, ``"assistant"`` or ``"tool"``.
        content: the text.
        name: an optional author or tool name.
        metadata: a JSON object (frozen).
        created_at: epoch seconds; filled by the engine when ``None``.
    """

    role: str = attrs.field(validator=_choice(MESSAGE_ROLES))
    content: str = attrs.field(validator=_str)
    name: str | None = attrs.field(default=None, validator=_opt_str)
    metadata: FrozenDict = attrs.field(default=EMPTY, converter=_conv_message_metadata)
    created_at: float | None = attrs.field(default=None, validator=_time)


@attrs.frozen(kw_only=True)
class Run(_Convertible):
    """One agent run (a turn): its messages, in order.

    Attributes:
        run_id: unique within its session; appending a run with an existing id
            replaces that run in place.
        messages: tuple of :class:`Message` (a list is accepted and converted).
        status: free-form status, ``"completed"`` by default.
        metadata: a JSON object (frozen).
        created_at: epoch seconds; filled by the engine when ``None``.
    """

    run_id: str = attrs.field(validator=_id)
    messages: tuple[Message, ...] = attrs.field(default=(), converter=_conv_run_messages)
    status: str = attrs.field(default="completed", validator=_str)
    metadata: FrozenDict = attrs.field(default=EMPTY, converter=_conv_run_metadata)
    created_at: float | None = attrs.field(default=None, validator=_time)

    _nested: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "messages": lambda items: tuple(Message.from_dict(item) for item in items)
    }


@attrs.frozen(kw_only=True)
class SessionSummary(_Convertible):
    """A session's running summary.

    Attributes:
        summary: the text.
        topics: tuple of topic strings.
        updated_at: epoch seconds; set by the engine.
    """

    summary: str = attrs.field(validator=_str)
    topics: tuple[str, ...] = attrs.field(default=(), converter=_conv_sessionsummary_topics)
    updated_at: float | None = attrs.field(default=None, validator=_time)


def _check_unique_runs(instance: Session, attribute: attrs.Attribute[Any], runs: Any) -> None:
    if len({run.run_id for run in runs}) != len(runs):
        raise InvalidArgument("Session.runs: expected unique run_id values, got duplicates")


def _check_summary(instance: Session, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, SessionSummary):
        raise TypeError(
            f"Session.summary: expected SessionSummary or None, got {type(value).__name__}"
        )


@attrs.frozen(kw_only=True)
class Session(_Convertible):
    """A conversation session with its runs and summary; sharded by ``session_id``.

    Attributes:
        session_id: the key.
        user_id: the owner; once set, writes by another user raise ``OwnershipError``
            and reads scoped to another user see "not found".
        session_type: ``"agent"``, ``"team"`` or ``"workflow"``.
        agent_id, team_id, workflow_id: the component that runs the session.
        name: a display name (see ``sessions.rename``).
        state, metadata: JSON objects (frozen).
        runs: tuple of :class:`Run`, oldest first.
        summary: the :class:`SessionSummary` or ``None``.
        created_at, updated_at, expires_at: epoch seconds (``expires_at`` ``None``
            = never); filled by the engine.
    """

    session_id: str = attrs.field(validator=_id)
    user_id: str | None = attrs.field(default=None, validator=_opt_id)
    session_type: str = attrs.field(default="agent", validator=_choice(SESSION_TYPES))
    agent_id: str | None = attrs.field(default=None, validator=_opt_id)
    team_id: str | None = attrs.field(default=None, validator=_opt_id)
    workflow_id: str | None = attrs.field(default=None, validator=_opt_id)
    name: str | None = attrs.field(default=None, validator=_opt_str)
    state: FrozenDict = attrs.field(default=EMPTY, converter=_conv_session_state)
    metadata: FrozenDict = attrs.field(default=EMPTY, converter=_conv_session_metadata)
    runs: tuple[Run, ...] = attrs.field(
        default=(), converter=_conv_session_runs, validator=_check_unique_runs
    )
    summary: SessionSummary | None = attrs.field(default=None, validator=_check_summary)
    created_at: float | None = attrs.field(default=None, validator=_time)
    updated_at: float | None = attrs.field(default=None, validator=_time)
    expires_at: float | None = attrs.field(default=None, validator=_time)

    _nested: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "runs": lambda items: tuple(Run.from_dict(item) for item in items),
        "summary": lambda item: None if item is None else SessionSummary.from_dict(item),
    }


@attrs.frozen(kw_only=True)
class UserMemory(_Convertible):
    """A fact remembered about a user; sharded by ``user_id``.

    Identity is ``(user_id, memory_id)``: two users may use the same ``memory_id``.

    Attributes:
        user_id: the user (required).
        memory: the text.
        memory_id: the key within the user; generated (32 hex digits) when ``None``.
        topics: tuple of topic strings (searchable, listable).
        input: the input the memory was derived from.
        agent_id, team_id: the component that wrote it.
        created_at, updated_at, expires_at: epoch seconds; filled by the engine.
    """

    user_id: str = attrs.field(validator=_id)
    memory: str = attrs.field(validator=_str)
    memory_id: str | None = attrs.field(default=None, validator=_opt_id)
    topics: tuple[str, ...] = attrs.field(default=(), converter=_conv_usermemory_topics)
    input: str | None = attrs.field(default=None, validator=_opt_str)
    agent_id: str | None = attrs.field(default=None, validator=_opt_id)
    team_id: str | None = attrs.field(default=None, validator=_opt_id)
    created_at: float | None = attrs.field(default=None, validator=_time)
    updated_at: float | None = attrs.field(default=None, validator=_time)
    expires_at: float | None = attrs.field(default=None, validator=_time)


@attrs.frozen(kw_only=True)
class WorkingMemory(_Convertible):
    """Short-lived working memory of a conversation; sharded by ``conversation_id``.

    Identity is ``(conversation_id, memory_type)``.

    Attributes:
        conversation_id: the conversation.
        data: the content (text).
        memory_type: the slot, ``"working"`` by default (Arshai's memory types).
        metadata: a JSON object (frozen).
        created_at, updated_at, expires_at: epoch seconds; filled by the engine.
    """

    conversation_id: str = attrs.field(validator=_id)
    data: str = attrs.field(validator=_str)
    memory_type: str = attrs.field(default="working", validator=_id)
    metadata: FrozenDict = attrs.field(default=EMPTY, converter=_conv_workingmemory_metadata)
    created_at: float | None = attrs.field(default=None, validator=_time)
    updated_at: float | None = attrs.field(default=None, validator=_time)
    expires_at: float | None = attrs.field(default=None, validator=_time)


@attrs.frozen(kw_only=True)
class KnowledgeDoc(_Convertible):
    """An entry of the knowledge registry (a document's metadata, not its vectors).

    Attributes:
        doc_id: the key.
        name: display name.
        description: optional description.
        content_hash: optional hash of the content, for change detection.
        status: free-form status, ``"ready"`` by default.
        metadata: a JSON object (frozen).
        created_at, updated_at, expires_at: epoch seconds; filled by the engine.
    """

    doc_id: str = attrs.field(validator=_id)
    name: str = attrs.field(validator=_str)
    description: str | None = attrs.field(default=None, validator=_opt_str)
    content_hash: str | None = attrs.field(default=None, validator=_opt_str)
    status: str = attrs.field(default="ready", validator=_str)
    metadata: FrozenDict = attrs.field(default=EMPTY, converter=_conv_knowledgedoc_metadata)
    created_at: float | None = attrs.field(default=None, validator=_time)
    updated_at: float | None = attrs.field(default=None, validator=_time)
    expires_at: float | None = attrs.field(default=None, validator=_time)


_COPIERS: dict[type, Callable[[Any, dict[str, Any]], Any]] = {}


def _copier(cls: type[Any]) -> Callable[[Any, dict[str, Any]], Any]:
    """``copy(record, changes)`` for ``cls``: one unrolled slot write per field (as
    ``attrs`` generates ``__init__``), each value from ``changes`` if there, else
    from ``record``; no validators, no converters."""
    names = tuple(field.name for field in attrs.fields(cls))
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = ["def copy(record, changes):", "    new_record = new(cls)"]
    for name in names:
        slot = next(k.__dict__[name] for k in cls.__mro__ if name in k.__dict__)
        namespace["set_" + name] = slot.__set__  # the slot's descriptor
        lines.append(
            f"    set_{name}(new_record, "
            f"changes[{name!r}] if {name!r} in changes else record.{name})"
        )
    lines.append("    return new_record")
    exec("\n".join(lines) + "\n", namespace)
    copy: Callable[[Any, dict[str, Any]], Any] = namespace["copy"]
    return copy


def replace(record: R, **changes: Any) -> R:
    """A copy of ``record`` with ``changes``, *without* running validators or converters.

    For the engine's own updates only: ``record`` was validated when it was built and
    every value in ``changes`` has been validated (or built by the engine). Unlike
    ``attrs.evolve`` it costs O(fields), not O(size of the record's tuples): a copier
    generated once per record class.
    """
    cls = type(record)
    copy = _COPIERS.get(cls)
    if copy is None:
        copy = _COPIERS[cls] = _copier(cls)
    new: R = copy(record, changes)
    return new
