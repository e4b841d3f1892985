"""The lock store and the peers as replay targets: a small real replay, counts checked.

Peers that are not installed are skipped (``pytest.importorskip``); one that is missing
must fail to open with a one-line :class:`PeerUnavailable`, never be faked.
"""

from __future__ import annotations

import functools
import importlib.util

import attrs
import pytest
import trio

from bench._measure._latency import LatencyRecorder
from bench._replay._dataset import Conversation, default_dataset_path, load_chitchat
from bench._replay._workload import WorkloadConfig, WorkloadTally, run_agents
from bench._targets._engine import open_engine_target
from bench._targets._lock import open_lock_store, open_lock_target
from bench._targets._peer_targets import (
    PEER_OPERATIONS,
    PEERS,
    PeerUnavailable,
    open_peer_target,
    register_peer_targets,
)
from bench._targets._protocol import Target, TargetCounts
from engine import ShardStore, WorkingMemory

LIMIT = 4
CONFIG = WorkloadConfig(agents=3, working_ttl=60.0)


@functools.cache
def _conversations() -> tuple[Conversation, ...]:
    return tuple(load_chitchat(default_dataset_path(), limit=LIMIT))


def _expected() -> dict[str, int]:
    conversations = _conversations()
    memories = sum(
        1
        for c in conversations
        for index, turn in enumerate(c.turns)
        if index % CONFIG.memory_every == 0 and turn.text.strip()
    )
    return {
        "sessions": len(conversations),
        "runs": sum(len(c.turns) for c in conversations),
        "memories": memories,
    }


async def _replay(
    target: Target, config: WorkloadConfig = CONFIG
) -> tuple[LatencyRecorder, WorkloadTally, TargetCounts]:
    recorder, tally = LatencyRecorder(), WorkloadTally()
    await run_agents(target, _conversations(), config, recorder, tally)
    return recorder, tally, target.counts()


@pytest.mark.parametrize("pipeline", [True, False], ids=["pipelined", "one-call-per-op"])
async def test_lock_target_holds_what_the_engine_holds(pipeline: bool) -> None:
    config = attrs.evolve(CONFIG, pipeline=pipeline)
    async with open_engine_target(shards=2) as engine:
        _, engine_tally, engine_counts = await _replay(engine, config)
    async with open_lock_target() as lock:
        recorder, tally, counts = await _replay(lock, config)
        assert lock.name == "lock"
        assert lock.details()["requests"] == sum(
            recorder.count(op) for op in PEER_OPERATIONS["langgraph"]
        )
    assert counts == engine_counts
    assert counts.sessions == _expected()["sessions"]
    assert counts.runs == _expected()["runs"]
    assert counts.memories == _expected()["memories"]
    assert counts.working == _expected()["sessions"]
    assert tally.history_messages == engine_tally.history_messages
    assert tally.turns == _expected()["runs"]


async def test_lock_store_sweeps_expired_records_at_their_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_lock_store() as store:
        record = WorkingMemory(conversation_id="c1", data="x")
        await store.call(ShardStore.store_working, record, 10.0)
        await store.call(
            ShardStore.store_working, WorkingMemory(conversation_id="c2", data="y"), 5.0
        )
        await trio.sleep(6)
        assert store.store.counts().working == 1
        await trio.sleep(5)
        assert store.store.counts().working == 0
        assert store.store.counts().expired == 2
        store.store._check()


def _installed(peer: str) -> bool:
    return importlib.util.find_spec(PEERS[peer]) is not None


@pytest.mark.parametrize("peer", ["agno", "upsonic", "langgraph"])
async def test_session_peers_replay_and_hold_the_records(peer: str) -> None:
    pytest.importorskip(PEERS[peer], reason=f"{peer} is not installed")
    try:
        opener = open_peer_target(peer, working_ttl=CONFIG.working_ttl)
        async with opener as target:
            recorder, tally, counts = await _replay(target)
    except PeerUnavailable as exc:  # e.g. an upsonic without InMemoryStorage
        pytest.skip(str(exc))
    expected = _expected()
    assert target.name == peer
    assert counts.sessions == expected["sessions"]
    assert counts.runs == expected["runs"]
    assert tally.turns == expected["runs"]
    assert tally.history_messages > 0
    if peer == "upsonic":  # one profile record per (user, agent)
        assert 0 < counts.memories <= expected["memories"]
    else:
        assert counts.memories == expected["memories"]
    assert recorder.count("append_run") == expected["runs"]
    details = target.details()
    assert details["package"] == peer
    assert details["version"]


async def test_arshai_replays_working_memory_only() -> None:
    pytest.importorskip("arshai", reason="arshai is not installed")
    async with open_peer_target("arshai", working_ttl=CONFIG.working_ttl) as target:
        recorder, tally, counts = await _replay(target)
    expected = _expected()
    assert counts.working == expected["sessions"]
    assert counts.sessions == counts.memories == counts.runs == 0
    assert recorder.count("store_working") == expected["runs"]
    # Every turn but a session's first finds the working memory stored by the previous one.
    assert tally.history_messages == expected["runs"] - expected["sessions"]
    assert PEER_OPERATIONS["arshai"] == {"read_history", "store_working"}


@pytest.mark.parametrize("peer", sorted(PEERS))
async def test_a_missing_peer_is_a_one_line_skip(peer: str) -> None:
    if _installed(peer):
        pytest.skip(f"{peer} is installed")
    with pytest.raises(PeerUnavailable) as info:
        async with open_peer_target(peer):
            pass  # pragma: no cover
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"{peer}:")


def test_register_peer_targets_names_every_peer() -> None:
    factories = register_peer_targets()
    assert set(factories) == set(PEERS)


def test_registry_holds_every_target_once() -> None:
    from bench._targets._registry import TARGETS

    assert {"engine", "lock", *PEERS, "redis", "redis-cluster", "redis-naive"} == set(TARGETS)


async def test_the_arshai_adapter_replays_what_arshai_replays() -> None:
    """``arshai-shardmem``: the same calls through ``ShardmemMemoryManager`` hold the
    same working memory and find the same history as Arshai's own manager."""
    pytest.importorskip("arshai", reason="arshai is not installed")
    results = {}
    for peer in ("arshai", "arshai-shardmem"):
        async with open_peer_target(peer, working_ttl=CONFIG.working_ttl) as target:
            recorder, tally, counts = await _replay(target)
        results[peer] = (counts.working, recorder.count("store_working"), tally.history_messages)
    assert results["arshai-shardmem"] == results["arshai"]
    assert PEER_OPERATIONS["arshai-shardmem"] == PEER_OPERATIONS["arshai"]


async def test_the_langgraph_adapter_replays_what_langgraph_replays() -> None:
    """``langgraph-shardmem``: the same calls through ``ShardmemStore`` hold the same
    sessions, runs and memories and find the same history as ``InMemoryStore``."""
    pytest.importorskip("langgraph", reason="langgraph is not installed")
    results = {}
    for peer in ("langgraph", "langgraph-shardmem"):
        async with open_peer_target(peer, working_ttl=CONFIG.working_ttl) as target:
            recorder, tally, counts = await _replay(target)
        runs = recorder.count("append_run")
        results[peer] = (
            counts.sessions,
            counts.runs,
            counts.memories,
            tally.history_messages,
            runs,
        )
    assert results["langgraph-shardmem"] == results["langgraph"]
    assert results["langgraph"][1] > 0
