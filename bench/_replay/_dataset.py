"""The ChitChat corpus: loading, validation and the frozen values the workload replays.

The corpus ships in the ``chitchat-dataset`` package as ``chitchat_dataset/dataset.json``:
a JSON object mapping a conversation id to ``{"messages": [...], "prompt": ..., "start":
...}``. ``messages`` is a list of *turns*; a turn is a non-empty list of utterances
``{"text", "timestamp", "sender"}`` all by the same sender. Everything else (ratings, ...)
is ignored.

Loading checks the structure of every conversation it converts and reports the first
problem with its location (``conversation 'abc': turn 3: utterance 1: ...``), so a
truncated or hand-edited file fails at load time with a clear :class:`DatasetError`
instead of somewhere inside a benchmark run.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "Conversation",
    "DatasetError",
    "Turn",
    "default_dataset_path",
    "load_chitchat",
]


class DatasetError(ValueError):
    """The corpus file is missing, is not JSON, or does not have the expected shape."""


@attrs.frozen(kw_only=True)
class Turn:
    """One turn of a conversation: consecutive utterances by one sender.

    Attributes:
        sender: The user id of the speaker.
        texts: The utterances' texts, in order (an utterance's text may be empty: the
            corpus has a handful).
    """

    sender: str
    texts: tuple[str, ...]

    @property
    def text(self) -> str:
        """The utterances joined with a space, e.g. to use as a query or a memory."""
        return " ".join(self.texts)


@attrs.frozen(kw_only=True)
class Conversation:
    """One conversation of the corpus, replayed as one session.

    Attributes:
        conversation_id: The corpus key (a UUID string); used as the session id.
        prompt: The conversation starter shown to the participants, or ``None``.
        start: When the conversation started (ISO-8601 string as in the corpus), or
            ``None``.
        turns: The turns, in order; never empty.
    """

    conversation_id: str
    prompt: str | None
    start: str | None
    turns: tuple[Turn, ...] = attrs.field(validator=attrs.validators.min_len(1))

    @property
    def owner(self) -> str:
        """The session's owner: the first sender."""
        return self.turns[0].sender

    @property
    def message_count(self) -> int:
        """The number of utterances over all turns."""
        return sum(len(turn.texts) for turn in self.turns)


def default_dataset_path() -> Path:
    """Return the path of ``dataset.json`` inside the installed ``chitchat-dataset`` package.

    Raises:
        DatasetError: if the package is not installed.
    """
    try:
        root = importlib.resources.files("chitchat_dataset")
    except ModuleNotFoundError as exc:
        raise DatasetError(
            "the ChitChat corpus needs the 'chitchat-dataset' package "
            "(pip install 'shardmem[bench]'), or pass --dataset PATH"
        ) from exc
    return Path(str(root.joinpath("dataset.json")))


def load_chitchat(
    path: Path | str | None = None, *, limit: int | None = None
) -> list[Conversation]:
    """Load and validate the ChitChat corpus.

    Args:
        path: The JSON file; ``None`` for the one in the ``chitchat-dataset`` package.
        limit: Convert (and validate) only the first ``limit`` conversations in file order;
            ``None`` for all. Must be >= 1.

    Returns:
        The conversations in file order.

    Raises:
        DatasetError: if the file is missing or unreadable, is not valid JSON, is empty,
            or any converted conversation has the wrong shape. The message names the file
            and the conversation/turn/utterance at fault.
        ValueError: if ``limit`` is < 1.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit: expected an int >= 1 or None, got {limit!r}")
    file = Path(path) if path is not None else default_dataset_path()
    try:
        with file.open("rb") as stream:
            raw = json.load(stream)
    except FileNotFoundError:
        raise DatasetError(f"{file}: no such file") from None
    except OSError as exc:
        raise DatasetError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{file}: not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{file}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(raw, dict):
        raise DatasetError(
            f"{file}: expected a JSON object of conversations, got {_json_type(raw)}"
        )
    if not raw:
        raise DatasetError(f"{file}: the file holds no conversations")
    conversations: list[Conversation] = []
    for conversation_id, value in raw.items():
        if limit is not None and len(conversations) >= limit:
            break
        try:
            conversations.append(_conversation(conversation_id, value))
        except _ShapeError as exc:
            raise DatasetError(f"{file}: conversation {conversation_id!r}: {exc}") from None
    return conversations


class _ShapeError(Exception):
    """A shape problem inside one conversation; the caller adds the file and the id."""


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _conversation(conversation_id: str, value: object) -> Conversation:
    if not conversation_id or conversation_id.isspace():
        raise _ShapeError("expected a non-empty conversation id")
    if not isinstance(value, dict):
        raise _ShapeError(f"expected an object, got {_json_type(value)}")
    turns_raw = value.get("messages")
    if not isinstance(turns_raw, list):
        got = "nothing" if "messages" not in value else _json_type(turns_raw)
        raise _ShapeError(f"'messages': expected an array of turns, got {got}")
    if not turns_raw:
        raise _ShapeError("'messages': expected at least one turn, got an empty array")
    turns = tuple(_turn(index, turn) for index, turn in enumerate(turns_raw))
    return Conversation(
        conversation_id=conversation_id,
        prompt=_optional_str(value, "prompt"),
        start=_optional_str(value, "start"),
        turns=turns,
    )


def _optional_str(value: Mapping[str, Any], key: str) -> str | None:
    item = value.get(key)
    if item is not None and not isinstance(item, str):
        raise _ShapeError(f"{key!r}: expected a string or null, got {_json_type(item)}")
    return item


def _turn(index: int, raw: object) -> Turn:
    where = f"turn {index}"
    if not isinstance(raw, list):
        raise _ShapeError(f"{where}: expected an array of utterances, got {_json_type(raw)}")
    if not raw:
        raise _ShapeError(f"{where}: expected at least one utterance, got an empty array")
    sender: str | None = None
    texts: list[str] = []
    for position, utterance in enumerate(raw):
        at = f"{where}: utterance {position}"
        if not isinstance(utterance, dict):
            raise _ShapeError(f"{at}: expected an object, got {_json_type(utterance)}")
        text = utterance.get("text")
        who = utterance.get("sender")
        stamp = utterance.get("timestamp")
        if not isinstance(text, str):
            raise _ShapeError(
                f"{at}: 'text': expected a string, got {_describe(utterance, 'text')}"
            )
        if not isinstance(who, str) or not who or who.isspace():
            raise _ShapeError(
                f"{at}: 'sender': expected a non-empty string, got {_describe(utterance, 'sender')}"
            )
        if not isinstance(stamp, str):
            raise _ShapeError(
                f"{at}: 'timestamp': expected a string, got {_describe(utterance, 'timestamp')}"
            )
        if sender is None:
            sender = who
        elif who != sender:
            raise _ShapeError(
                f"{at}: 'sender': expected one sender per turn ({sender!r}), got {who!r}"
            )
        texts.append(text)
    assert sender is not None  # raw is non-empty
    return Turn(sender=sender, texts=tuple(texts))


def _describe(mapping: Mapping[str, Any], key: str) -> str:
    if key not in mapping:
        return "nothing (missing)"
    value = mapping[key]
    return f"{_json_type(value)} {value!r:.40}" if value is not None else "null"
