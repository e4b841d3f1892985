"""The Redis bench targets: ``redis``, ``redis-cluster`` and ``redis-naive``.

Against the servers of ``$SHARDMEM_REDIS_URL`` / ``$SHARDMEM_REDIS_CLUSTER_URL`` (the
``redis`` marker; skipped, saying why, when unset): a small replay on each gives the
same logical results as the embedded engine, leaves no keys behind, and the naive
store answers exactly as the engine does. Without a server the targets are skipped
with a one-line reason (that check needs no server).
"""

from __future__ import annotations

import os
import socket
from typing import Any

import attrs
import pytest

from bench import main
from bench._replay._results import BenchOptions
from bench._replay._runner import run_bench
from bench._targets._peers import PeerUnavailable

pytest.importorskip("coredis", reason="install the redis extra: pip install -e '.[redis]'")

from bench._targets._redis import open_redis_engine, open_redis_target
from bench._targets._redis_naive import NaiveRedisStore, open_naive_redis_target

URL = os.environ.get("SHARDMEM_REDIS_URL")
CLUSTER_URL = os.environ.get("SHARDMEM_REDIS_CLUSTER_URL")
needs_server = pytest.mark.skipif(not URL, reason="set SHARDMEM_REDIS_URL to a Redis URL")
needs_cluster = pytest.mark.skipif(
    not CLUSTER_URL, reason="set SHARDMEM_REDIS_CLUSTER_URL to a Redis Cluster node's URL"
)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there any more


@pytest.mark.parametrize("name", ["redis", "redis-cluster", "redis-naive"])
async def test_no_server_means_skipped_with_a_one_line_reason(name: str) -> None:
    url = _closed_port_url()
    with pytest.raises(PeerUnavailable) as caught:
        async with open_redis_target(name, url):
            pytest.fail("opened a target without a server")
    message = str(caught.value)
    assert message.startswith(f"{name}: no Redis server at {url}")
    assert "\n" not in message


def test_the_cli_reports_an_unreachable_server_as_skipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _closed_port_url()
    status = main(
        ["bench", "--limit", "2", "--agents", "1", "--no-progress", "--target",
         "engine,redis,redis-naive", "--redis-url", url]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0
    assert f"skipped redis: redis: no Redis server at {url}" in err
    assert f"skipped redis-naive: redis-naive: no Redis server at {url}" in err
    assert "engine" in out


def _replay(target: str) -> Any:
    options = BenchOptions(
        target=target, limit=5, agents=1, progress=False, redis_url=URL,
        redis_cluster_url=CLUSTER_URL, working_ttl=3600.0,
    )  # fmt: skip
    return run_bench(options)


@pytest.mark.redis
@needs_server
@pytest.mark.parametrize("pipeline", [True, False], ids=["pipelined", "one-call-per-op"])
def test_a_small_replay_gives_the_engines_results(pipeline: bool) -> None:
    engine = run_bench(
        BenchOptions(limit=5, agents=1, progress=False, working_ttl=3600.0, pipeline=pipeline)
    )
    targets = ["redis", "redis-naive"] + (["redis-cluster"] if CLUSTER_URL else [])
    for name in targets:
        result = run_bench(
            BenchOptions(
                target=name, limit=5, agents=1, progress=False, working_ttl=3600.0,
                pipeline=pipeline, redis_url=URL, redis_cluster_url=CLUSTER_URL,
            )
        )  # fmt: skip
        assert result.history_messages == engine.history_messages, name
        assert result.memory_hits == engine.memory_hits, name
        assert [op.count for op in result.ops] == [op.count for op in engine.ops], name
        store, expected = result.store, engine.store
        assert (store.sessions, store.runs, store.memories, store.working) == (
            expected.sessions, expected.runs, expected.memories, expected.working,
        ), name  # fmt: skip


@pytest.mark.redis
@needs_server
async def test_each_run_starts_from_an_empty_prefix_and_leaves_nothing() -> None:
    from engine._redis._engine import open_redis_memory

    async with open_redis_engine(URL, cluster=False, shards=2) as engine:
        prefix = engine._conn.keys.prefix
        assert prefix.startswith("bench-")
        assert (await engine.server_statistics()).records == 0
        await engine.working.store("c", "x")
    async with open_redis_memory(URL, prefix=prefix, shards=2, sweep_interval=None) as again:
        assert (await again.server_statistics()).records == 0
        await again._conn.command(lambda client: client.delete([f"{prefix}:meta"]))
    async with open_naive_redis_target(URL) as naive:
        store = naive.store
        await store.create_session("s", "u", "a", None, {})
        await store.store_working("s", "x", 60.0)
        assert await store.count("w") == 1
    import coredis

    async with coredis.Redis.from_url(URL, decode_responses=True) as client:
        assert [key async for key in client.scan_iter(match=f"{store.prefix}:*")] == []


@pytest.mark.redis
@needs_server
async def test_the_naive_store_answers_as_the_engine() -> None:
    from engine import Message, Run, Session, UserMemory

    texts = [
        ("m1", "likes green tea in the morning", ("food",)),
        ("m2", "works as a nurse", ("work",)),
        ("m3", "green tea and coffee", ("food", "drinks")),
        ("m4", "has a cat called tea", ("pets",)),
    ]
    async with (
        open_redis_engine(URL, cluster=False, shards=3) as mem,
        open_naive_redis_target(URL) as naive,
    ):
        if True:
            store: NaiveRedisStore = naive.store
            for sid, user in (("s1", "alice"), ("s2", "bob")):
                await mem.sessions.upsert(Session(session_id=sid, user_id=user, agent_id="a"))
                await store.create_session(sid, user, "a", None, {})
            turns = [("s1", "alice", "r1", "hi"), ("s1", "alice", "r2", "tea?"),
                     ("s2", "bob", "r1", "yo"), ("s1", "alice", "r1", "hi again"),
                     ("s1", "alice", "r3", "bye")]  # fmt: skip
            for sid, user, rid, text in turns:
                messages = (("user", text, user), ("assistant", f"re: {text}", "bot"))
                await store.append_run(sid, user, rid, messages)
                await mem.sessions.append_run(
                    sid,
                    Run(run_id=rid, messages=tuple(
                        Message(role=r, content=c, name=n) for r, c, n in messages)),
                    user_id=user,
                )  # fmt: skip
            for mid, text, topics in texts:
                for user in ("alice", "bob"):
                    memory = UserMemory(
                        memory_id=mid, user_id=user, memory=text, topics=topics, agent_id="a"
                    )
                    await mem.memories.upsert(memory)
                    await store.upsert_memory(mid, user, text, topics, "a")
            await mem.memories.upsert(
                UserMemory(memory_id="m2", user_id="bob", memory="tea tea tea", agent_id="a")
            )
            await store.upsert_memory("m2", "bob", "tea tea tea", (), "a")
            for sid, user in (("s1", "alice"), ("s2", "bob")):
                for last_n in (0, 1, 2, 5):
                    engine_messages = await mem.sessions.messages(
                        sid, last_n_runs=last_n, user_id=user
                    )
                    assert await store.messages(sid, user, last_n) == [
                        m.content for m in engine_messages
                    ]
            for user in ("alice", "bob", "nobody"):
                for query in ("tea", "green tea", "nurse", "food", "unknown words"):
                    for limit in (1, 2, 10):
                        found = await mem.memories.search(user, query=query, limit=limit)
                        assert await store.search(user, query, limit) == [
                            m.memory_id for m in found
                        ], (user, query, limit)
            from engine import NotFound

            with pytest.raises(NotFound):
                await store.messages("s1", "bob", 1)
            with pytest.raises(NotFound):
                await mem.sessions.messages("s1", user_id="bob")
            await store.store_working("s1", "scratch", 60.0)
            assert await store.working("s1") == "scratch"


@pytest.mark.redis
@needs_server
@needs_cluster
def test_the_cli_compares_the_redis_targets(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["bench", "--limit", "3", "--agents", "3", "--no-progress", "--target",
         "engine,redis,redis-cluster,redis-naive"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    for name in ("engine", "redis", "redis-cluster", "redis-naive"):
        assert f"\n  {name} " in out or f" {name} " in out
    assert "skipped" not in err


def _micro_options(**changes: Any) -> Any:
    from bench._micro._model import MicroOptions

    base = MicroOptions(
        clients=(1, 4), scaling_records=50, duration=0.05, repeats=1, records=(40,),
        targets=(), samples=3, memory_records=0, pipeline_depth=0, shards=2,
    )  # fmt: skip
    return attrs.evolve(base, **changes)


def test_micro_skips_an_unreachable_redis_target_with_its_reason() -> None:
    from bench._micro._run import run_micro

    url = _closed_port_url()
    options = _micro_options(redis_targets=("redis",), redis_url=url, clients=(1,))
    result = run_micro(options)
    assert result.environment["skipped"]["redis"].startswith(f"redis: no Redis server at {url}")
    assert result.scaling_point("redis", 1) is None
    assert {p.status.split(":")[0] for p in result.growth if p.target == "redis"} == {"skipped"}


@pytest.mark.redis
@needs_server
def test_micro_measures_the_redis_targets() -> None:
    from bench._micro._run import run_micro

    targets = ("redis", "redis-naive") + (("redis-cluster",) if CLUSTER_URL else ())
    options = _micro_options(redis_targets=targets, redis_url=URL, redis_cluster_url=CLUSTER_URL)
    result = run_micro(options)
    assert not result.environment["skipped"]
    for target in targets:
        for clients in (1, 4):
            point = result.scaling_point(target, clients)
            assert point is not None and point.ops_per_second > 0, (target, clients)
        rows = {p.op: p.status for p in result.growth if p.target == target}
        assert rows["get"] == rows["search_memories"] == "ok", (target, rows)
    assert result.growth_point("redis", 40, "expiry").status == "ok"
    assert result.growth_point("redis-naive", 40, "expiry").status.startswith("n/a")
