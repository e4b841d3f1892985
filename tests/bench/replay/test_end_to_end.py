"""``shardmem bench`` end to end: real corpus, real engine, JSON results checked.

Expected counts are computed here from the raw JSON file, independently of the bench's
own loader and workload code.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import attrs

from bench import main
from bench._replay._dataset import default_dataset_path
from bench._replay._results import RESULT_SCHEMA
from bench._targets._protocol import OPERATIONS


@attrs.frozen(kw_only=True)
class Expected:
    conversations: int
    turns: int
    messages: int
    users: int
    memories: int
    history_messages: int


@functools.cache
def _raw_conversations() -> tuple[Any, ...]:
    with default_dataset_path().open(encoding="utf-8") as stream:
        raw: dict[str, Any] = json.load(stream)
    return tuple(raw.values())


def _expected(limit: int, memory_every: int, history_runs: int = 5) -> Expected:
    chosen = _raw_conversations()[:limit]
    turns = memories = history = messages = 0
    users: set[str] = set()
    for conversation in chosen:
        sizes = [len(turn) for turn in conversation["messages"]]
        for index, turn in enumerate(conversation["messages"]):
            turns += 1
            messages += len(turn)
            users.update(utterance["sender"] for utterance in turn)
            history += sum(sizes[max(0, index - history_runs) : index])
            text = " ".join(utterance["text"] for utterance in turn)
            if index % memory_every == 0 and text.strip():
                memories += 1
    return Expected(
        conversations=len(chosen),
        turns=turns,
        messages=messages,
        users=len(users),
        memories=memories,
        history_messages=history,
    )


def _run(tmp_path: Path, *options: str) -> dict[str, Any]:
    path = tmp_path / "results" / "run.json"
    assert main(["bench", *options, "--no-progress", "--json", str(path)]) == 0
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def _check_common(result: dict[str, Any], expected: Expected) -> None:
    assert result["schema"] == RESULT_SCHEMA
    assert result["target"] == "engine"
    assert result["dataset"]["conversations"] == expected.conversations
    assert result["dataset"]["turns"] == expected.turns
    assert result["dataset"]["messages"] == expected.messages
    assert result["dataset"]["users"] == expected.users

    ops = result["ops"]
    assert list(ops) == list(OPERATIONS)
    counts = {name: op["count"] for name, op in ops.items()}
    assert counts == {
        "create_session": expected.conversations,
        "read_history": expected.turns,
        "search_memories": expected.turns,
        "append_run": expected.turns,
        "store_working": expected.turns,
        "upsert_memory": expected.memories,
        "set_summary": expected.conversations,
    }
    assert result["total"]["ops"] == sum(counts.values())
    for op in ops.values():
        assert 1 <= op["p50_us"] <= op["p95_us"] <= op["p99_us"] <= op["max_us"]
        assert op["ops_per_second"] > 0
    assert result["wall_seconds"] > 0
    assert result["reads"]["history_messages"] == expected.history_messages
    assert 0 <= result["reads"]["memory_hits"] <= 5 * expected.turns

    store = result["store"]
    assert store["sessions"] == expected.conversations
    assert store["runs"] == expected.turns
    assert store["memories"] == expected.memories
    assert store["records"] == store["sessions"] + store["memories"] + store["working"]
    assert result["process"]["peak_rss_bytes"] > 0

    engine = result["target_details"]
    assert len(engine["shards"]) == result["options"]["shards"]
    assert sum(shard["errors"] for shard in engine["shards"]) == 0
    assert sum(shard["store"]["sessions"] for shard in engine["shards"]) == store["sessions"]
    ops = result["total"]["ops"]
    if result["options"]["pipeline"]:
        # A turn's reads and its writes are one pipeline each: one request per shard
        # involved, so at least one per pipeline (plus create and summary), at most
        # one per operation.
        assert 2 * (expected.turns + expected.conversations) <= engine["requests"] <= ops
    else:
        assert engine["requests"] == ops  # one request per operation


def test_twenty_conversations_with_the_defaults(tmp_path: Path) -> None:
    result = _run(tmp_path, "--limit", "20", "--agents", "5")
    expected = _expected(limit=20, memory_every=4)
    assert expected.conversations == 20

    _check_common(result, expected)
    assert result["options"]["agents"] == 5
    assert result["options"]["working_ttl"] == 5.0
    # Each session has one working-memory record: still live, or removed by its TTL.
    store = result["store"]
    assert store["working"] + store["expired"] == 20


def test_memory_every_turn_and_a_long_ttl(tmp_path: Path) -> None:
    options = ("--limit", "12", "--agents", "1", "--memory-every", "1", "--working-ttl", "3600")
    result = _run(tmp_path, *options, "--seed", "7", "--shards", "3")
    expected = _expected(limit=12, memory_every=1)

    _check_common(result, expected)
    assert result["options"]["shards"] == 3
    store = result["store"]
    assert (store["working"], store["expired"]) == (12, 0)
    assert expected.memories > 12  # every non-blank turn, not every 4th


def test_one_shard_holds_the_same_records(tmp_path: Path) -> None:
    options = ("--limit", "10", "--agents", "4", "--working-ttl", "3600", "--shards", "1")
    result = _run(tmp_path, *options)
    _check_common(result, _expected(limit=10, memory_every=4))
    assert result["store"]["working"] == 10
    # One shard: each pipeline is exactly one request.
    expected = _expected(limit=10, memory_every=4)
    assert result["target_details"]["requests"] == 2 * (expected.turns + expected.conversations)


def test_without_pipelining_each_operation_is_one_request(tmp_path: Path) -> None:
    options = ("--limit", "10", "--agents", "4", "--working-ttl", "3600", "--no-pipeline")
    result = _run(tmp_path, *options)
    assert result["options"]["pipeline"] is False
    _check_common(result, _expected(limit=10, memory_every=4))
    assert result["store"]["working"] == 10
