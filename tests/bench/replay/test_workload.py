"""The replay of conversations by agents (bench/_workload.py), against a recording target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest
import trio

from bench import MemoryWrite, PipelinedTarget, Target, TargetCounts
from bench._measure._latency import LatencyRecorder
from bench._replay._dataset import Conversation, Turn
from bench._replay._workload import (
    WorkloadConfig,
    WorkloadTally,
    keywords,
    replay_conversation,
    run_agents,
    summary_text,
)
from bench._targets._protocol import OPERATIONS


@attrs.define(eq=False)
class RecordingTarget:
    """A dict-backed target that logs every call, to check what the workload asks for."""

    calls: list[tuple[str, dict[str, Any]]] = attrs.Factory(list)
    runs: dict[str, list[int]] = attrs.Factory(dict)  # session -> message count per run
    fail_on: str | None = None

    @property
    def name(self) -> str:
        return "recording"

    async def _call(self, op: str, **kwargs: Any) -> None:
        await trio.lowlevel.checkpoint()
        self.calls.append((op, kwargs))
        if op == self.fail_on:
            raise RuntimeError(f"{op} failed on purpose")

    async def create_session(
        self,
        *,
        session_id: str,
        user_id: str,
        agent_id: str,
        name: str | None,
        metadata: Mapping[str, str],
    ) -> None:
        await self._call(
            "create_session",
            session_id=session_id,
            user_id=user_id,
            agent_id=agent_id,
            name=name,
            metadata=dict(metadata),
        )
        self.runs[session_id] = []

    async def read_history(self, *, session_id: str, user_id: str, last_n_runs: int) -> int:
        await self._call("read_history", session_id=session_id, last_n_runs=last_n_runs)
        return sum(self.runs[session_id][-last_n_runs:])

    async def search_memories(self, *, user_id: str, query: str, limit: int) -> int:
        await self._call("search_memories", user_id=user_id, query=query, limit=limit)
        return 1

    async def append_run(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
    ) -> None:
        await self._call(
            "append_run", session_id=session_id, user_id=user_id, run_id=run_id, messages=messages
        )
        self.runs[session_id].append(len(messages))

    async def store_working(self, *, session_id: str, data: str, ttl: float) -> None:
        await self._call("store_working", session_id=session_id, data=data, ttl=ttl)

    async def upsert_memory(
        self,
        *,
        memory_id: str,
        user_id: str,
        memory: str,
        topics: tuple[str, ...],
        agent_id: str,
    ) -> None:
        await self._call(
            "upsert_memory",
            memory_id=memory_id,
            user_id=user_id,
            memory=memory,
            topics=topics,
            agent_id=agent_id,
        )

    async def set_summary(
        self, *, session_id: str, user_id: str, summary: str, topics: tuple[str, ...]
    ) -> None:
        await self._call("set_summary", session_id=session_id, summary=summary, topics=topics)

    def counts(self) -> TargetCounts:
        runs = sum(len(r) for r in self.runs.values())
        return TargetCounts(
            sessions=len(self.runs), runs=runs, memories=0, working=0, records=0, expired=0
        )

    def details(self) -> dict[str, object]:
        return {}


def _conversation(
    conversation_id: str = "c1", prompt: str | None = "Favourite food?"
) -> Conversation:
    return Conversation(
        conversation_id=conversation_id,
        prompt=prompt,
        start="2018-05-02T19:38:01Z",
        turns=(
            Turn(sender="alice", texts=("Hello", "How are you?")),
            Turn(sender="bob", texts=("fine",)),
            Turn(sender="alice", texts=("",)),
            Turn(sender="bob", texts=("Pizza, pasta and gelato!",)),
            Turn(sender="alice", texts=("wow", "nice")),
        ),
    )


def test_recording_target_satisfies_the_protocol() -> None:
    target: Target = RecordingTarget()  # mypy checks the structural match
    assert target.name == "recording"


async def test_one_conversation_is_replayed_turn_by_turn() -> None:
    target = RecordingTarget()
    recorder = LatencyRecorder()
    tally = WorkloadTally()
    config = WorkloadConfig(agents=1, memory_every=2, working_ttl=7.5)

    await replay_conversation(target, _conversation(), config, recorder, tally)

    ops = [op for op, _ in target.calls]
    per_turn = ["read_history", "search_memories", "append_run", "store_working"]
    assert ops == [
        "create_session",
        *per_turn,
        "upsert_memory",  # turn 0
        *per_turn,
        *per_turn,  # turn 2: memory due but its text is blank
        *per_turn,
        *per_turn,
        "upsert_memory",  # turn 4
        "set_summary",
    ]
    created = target.calls[0][1]
    assert created == {
        "session_id": "c1",
        "user_id": "alice",
        "agent_id": "chitchat-agent",
        "name": "Favourite food?",
        "metadata": {"dataset": "chitchat", "start": "2018-05-02T19:38:01Z"},
    }
    appended = [kw for op, kw in target.calls if op == "append_run"]
    assert [kw["run_id"] for kw in appended] == ["c1:0", "c1:1", "c1:2", "c1:3", "c1:4"]
    assert {kw["user_id"] for kw in appended} == {"alice"}
    assert appended[0]["messages"] == (
        ("user", "Hello", "alice"),
        ("user", "How are you?", "alice"),
    )
    assert appended[1]["messages"] == (("assistant", "fine", "bob"),)
    searches = [kw for op, kw in target.calls if op == "search_memories"]
    assert [kw["query"] for kw in searches] == [
        "Hello How are you?",
        "fine",
        "",
        "Pizza, pasta and gelato!",
        "wow nice",
    ]
    assert {(kw["user_id"], kw["limit"]) for kw in searches} == {("alice", 5)}
    assert {kw["ttl"] for op, kw in target.calls if op == "store_working"} == {7.5}
    memories = [kw for op, kw in target.calls if op == "upsert_memory"]
    assert memories == [
        {
            "memory_id": "c1:0",
            "user_id": "alice",
            "memory": "Hello How are you?",
            "topics": ("hello", "how", "are"),
            "agent_id": "chitchat-agent",
        },
        {
            "memory_id": "c1:4",
            "user_id": "alice",
            "memory": "wow nice",
            "topics": ("nice", "wow"),
            "agent_id": "chitchat-agent",
        },
    ]
    summary = target.calls[-1][1]
    assert summary["summary"] == "Favourite food? | Hello How are you?"
    assert summary["topics"] == ("favourite", "food")

    # History before each turn: messages of the previous (at most 5) runs: 0, 2, 3, 4, 5.
    assert tally.history_messages == 0 + 2 + 3 + 4 + 5
    assert tally.memory_hits == 5
    assert (tally.turns, tally.conversations) == (5, 1)
    assert {op.op: op.count for op in recorder.summary()} == {
        "create_session": 1,
        "read_history": 5,
        "search_memories": 5,
        "append_run": 5,
        "store_working": 5,
        "upsert_memory": 2,
        "set_summary": 1,
    }


@attrs.define(eq=False)
class BatchingTarget(RecordingTarget):
    """A :class:`bench.PipelinedTarget`: each batch logs a marker, then its operations."""

    async def read_turn(
        self, *, session_id: str, user_id: str, last_n_runs: int, query: str, limit: int
    ) -> tuple[int, int]:
        self.calls.append(("read_turn", {}))
        read = await self.read_history(
            session_id=session_id, user_id=user_id, last_n_runs=last_n_runs
        )
        found = await self.search_memories(user_id=user_id, query=query, limit=limit)
        return read, found

    async def write_turn(
        self,
        *,
        session_id: str,
        user_id: str,
        run_id: str,
        messages: tuple[tuple[str, str, str], ...],
        working: str,
        working_ttl: float,
        memory: MemoryWrite | None,
    ) -> None:
        self.calls.append(("write_turn", {}))
        await self.append_run(
            session_id=session_id, user_id=user_id, run_id=run_id, messages=messages
        )
        await self.store_working(session_id=session_id, data=working, ttl=working_ttl)
        if memory is not None:
            await self.upsert_memory(**attrs.asdict(memory))


@pytest.mark.parametrize("pipeline", [True, False])
async def test_a_pipelined_target_gets_each_turn_as_two_batches(pipeline: bool) -> None:
    single, batching = RecordingTarget(), BatchingTarget()
    assert isinstance(batching, PipelinedTarget)
    assert not isinstance(single, PipelinedTarget)
    config = WorkloadConfig(agents=1, memory_every=2, working_ttl=7.5, pipeline=pipeline)
    tallies, recorders = [WorkloadTally(), WorkloadTally()], [LatencyRecorder(), LatencyRecorder()]
    for target, tally, recorder in zip((single, batching), tallies, recorders, strict=True):
        await replay_conversation(target, _conversation(), config, recorder, tally)

    batches = [op for op, _ in batching.calls if op.endswith("_turn")]
    assert batches == (["read_turn", "write_turn"] * 5 if pipeline else [])
    # The same operations with the same arguments, in the same order, either way.
    assert [c for c in batching.calls if not c[0].endswith("_turn")] == single.calls
    assert attrs.asdict(tallies[0]) == attrs.asdict(tallies[1])
    counts = [{op.op: op.count for op in r.summary()} for r in recorders]
    assert counts[0] == counts[1]


async def test_history_window_is_the_last_runs() -> None:
    target = RecordingTarget()
    tally = WorkloadTally()
    turns = tuple(Turn(sender="a", texts=("x",) * (i + 1)) for i in range(8))
    conversation = Conversation(conversation_id="long", prompt=None, start=None, turns=turns)
    config = WorkloadConfig(history_runs=3)

    await replay_conversation(target, conversation, config, LatencyRecorder(), tally)

    sizes = [i + 1 for i in range(8)]
    expected = sum(sum(sizes[max(0, i - 3) : i]) for i in range(8))
    assert tally.history_messages == expected
    assert {kw["last_n_runs"] for op, kw in target.calls if op == "read_history"} == {3}


async def test_agents_replay_every_conversation_exactly_once() -> None:
    target = RecordingTarget()
    recorder = LatencyRecorder()
    tally = WorkloadTally()
    conversations = [_conversation(f"c{i}") for i in range(10)]

    await run_agents(target, conversations, WorkloadConfig(agents=3), recorder, tally)

    created = sorted(kw["session_id"] for op, kw in target.calls if op == "create_session")
    assert created == sorted(f"c{i}" for i in range(10))
    assert target.counts().runs == 50
    assert (tally.conversations, tally.turns) == (10, 50)
    assert [op.op for op in recorder.summary(OPERATIONS)] == list(OPERATIONS)


async def test_more_agents_than_conversations() -> None:
    target = RecordingTarget()
    tally = WorkloadTally()
    await run_agents(target, [_conversation()], WorkloadConfig(agents=50), LatencyRecorder(), tally)
    assert tally.conversations == 1


async def test_a_target_error_stops_the_run() -> None:
    target = RecordingTarget(fail_on="append_run")
    tally = WorkloadTally()
    conversations = [_conversation(f"c{i}") for i in range(4)]
    with pytest.raises(ExceptionGroup) as caught:
        await run_agents(target, conversations, WorkloadConfig(agents=2), LatencyRecorder(), tally)
    assert caught.group_contains(RuntimeError, match="append_run failed on purpose")
    assert tally.conversations == 0


def test_keywords_are_the_longest_distinct_words() -> None:
    assert keywords("I love the Sketch app, sketch it!", 3) == ("sketch", "love", "the")
    assert keywords("don't stop", 1) == ("don't",)
    assert keywords("12 ?? !!", 3) == ()
    assert keywords("anything", 0) == ()


def test_summary_without_prompt_uses_the_first_words() -> None:
    conversation = _conversation(prompt=None)
    assert summary_text(conversation) == "Hello How are you?"
    words = " ".join(f"w{i}" for i in range(30))
    long = Conversation(
        conversation_id="c", prompt=None, start=None, turns=(Turn(sender="a", texts=(words,)),)
    )
    assert summary_text(long) == " ".join(f"w{i}" for i in range(12))


@pytest.mark.parametrize(
    "bad",
    [
        {"agents": 0},
        {"history_runs": 0},
        {"search_limit": 0},
        {"memory_every": 0},
        {"working_ttl": 0.0},
        {"topics_per_memory": -1},
    ],
)
def test_config_rejects_out_of_range_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WorkloadConfig(**bad)
