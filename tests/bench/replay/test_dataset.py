"""Loading and validating the ChitChat corpus (bench/_dataset.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from bench._replay._dataset import (
    Conversation,
    DatasetError,
    Turn,
    default_dataset_path,
    load_chitchat,
)


def _utterance(
    text: Any = "hi", sender: Any = "u1", timestamp: Any = "2018-05-02T19:38:15Z"
) -> dict[str, Any]:
    return {"text": text, "timestamp": timestamp, "sender": sender}


def _write(tmp_path: Path, data: object, name: str = "corpus.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _good() -> dict[str, Any]:
    return {
        "c1": {
            "messages": [
                [_utterance("Hello", "alice"), _utterance("How are you?", "alice")],
                [_utterance("fine", "bob")],
                [_utterance("", "alice")],
            ],
            "prompt": "Favourite food?",
            "start": "2018-05-02T19:38:01Z",
            "ratings": {"witty": 3},
        },
        "c2": {"messages": [[_utterance("yo", "bob")]], "prompt": None},
    }


def test_small_file_converts_to_frozen_values(tmp_path: Path) -> None:
    conversations = load_chitchat(_write(tmp_path, _good()))

    assert [c.conversation_id for c in conversations] == ["c1", "c2"]
    first = conversations[0]
    assert first.prompt == "Favourite food?"
    assert first.start == "2018-05-02T19:38:01Z"
    assert first.owner == "alice"
    assert first.turns == (
        Turn(sender="alice", texts=("Hello", "How are you?")),
        Turn(sender="bob", texts=("fine",)),
        Turn(sender="alice", texts=("",)),
    )
    assert first.turns[0].text == "Hello How are you?"
    assert first.message_count == 4
    assert conversations[1].prompt is None
    assert conversations[1].start is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.prompt = "changed"  # type: ignore[misc]


def test_limit_takes_the_first_conversations_in_file_order(tmp_path: Path) -> None:
    conversations = load_chitchat(_write(tmp_path, _good()), limit=1)
    assert [c.conversation_id for c in conversations] == ["c1"]


def test_limit_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="limit"):
        load_chitchat(_write(tmp_path, _good()), limit=0)


def test_the_real_corpus_has_the_documented_size() -> None:
    conversations = load_chitchat()

    assert len(conversations) == 7_168
    assert sum(len(c.turns) for c in conversations) == 138_737
    assert len({t.sender for c in conversations for t in c.turns}) == 1_315
    assert all(isinstance(c, Conversation) for c in conversations)
    assert default_dataset_path().name == "dataset.json"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(DatasetError, match=r"nope\.json: no such file"):
        load_chitchat(missing)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"c1": {"messages": [', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.json: not valid JSON: .* line 1 column"):
        load_chitchat(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"c1": "\xff"}')
    with pytest.raises(DatasetError, match=r"latin\.json"):
        load_chitchat(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object of conversations, got array"),
        ({}, "holds no conversations"),
        ({"c1": []}, "conversation 'c1': expected an object, got array"),
        ({"c1": {}}, "conversation 'c1': 'messages': expected an array of turns, got nothing"),
        ({"c1": {"messages": {}}}, "'messages': expected an array of turns, got object"),
        ({"c1": {"messages": []}}, "'messages': expected at least one turn"),
        ({"c1": {"messages": [[]]}}, "conversation 'c1': turn 0: expected at least one utterance"),
        ({"c1": {"messages": ["hi"]}}, "turn 0: expected an array of utterances, got string"),
        ({"c1": {"messages": [["hi"]]}}, "turn 0: utterance 0: expected an object, got string"),
        (
            {"c1": {"messages": [[_utterance(text=3)]]}},
            "turn 0: utterance 0: 'text': expected a string, got number 3",
        ),
        (
            {"c1": {"messages": [[{"sender": "a", "timestamp": "t"}]]}},
            "'text': expected a string, got nothing \\(missing\\)",
        ),
        (
            {"c1": {"messages": [[_utterance(sender="")]]}},
            "'sender': expected a non-empty string",
        ),
        (
            {"c1": {"messages": [[_utterance(timestamp=None)]]}},
            "'timestamp': expected a string, got null",
        ),
        (
            {"c1": {"messages": [[_utterance()], [_utterance("a", "x"), _utterance("b", "y")]]}},
            "turn 1: utterance 1: 'sender': expected one sender per turn \\('x'\\), got 'y'",
        ),
        (
            {"c1": {"messages": [[_utterance()]], "prompt": 7}},
            "'prompt': expected a string or null, got number",
        ),
    ],
)
def test_malformed_files_name_the_problem(tmp_path: Path, data: object, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(DatasetError, match=message) as caught:
        load_chitchat(path)
    assert str(caught.value).startswith(str(path))


def test_a_problem_past_the_limit_is_not_looked_at(tmp_path: Path) -> None:
    data: dict[str, Any] = _good()
    data["broken"] = {"messages": []}
    assert len(load_chitchat(_write(tmp_path, data), limit=2)) == 2
    with pytest.raises(DatasetError, match="conversation 'broken'"):
        load_chitchat(_write(tmp_path, data, "again.json"))
