"""The pipelined gets' fast path (``engine._api._fast_gets``): on a plain id it queues
exactly the call its builder would build, to the shard ``shard_of`` names; anything
else goes through the builder, with the builder's errors."""

from __future__ import annotations

from typing import Any

import pytest

from engine import InvalidArgument, KnowledgeDoc, MemoryEngine, Run, Session, open_memory_engine
from engine._api._fast_gets import FAST_GETS
from engine._core._routing import shard_of
from engine._core._validate import MAX_ID_LENGTH

PLAIN_IDS = ["s1", "a", "x" * MAX_ID_LENGTH, "user 42/conv:7", "~!@#$%^&*()", "  padded  "]
NOT_PLAIN = ["é-unicode", "日本"]  # valid ids that need the full check
BAD = [("", InvalidArgument), ("   ", InvalidArgument), ("a\x00b", InvalidArgument),
       ("x" * (MAX_ID_LENGTH + 1), InvalidArgument), (42, TypeError), (None, TypeError),
       ("\ud83d", InvalidArgument)]  # fmt: skip


def _queued(pipeline: Any) -> list[tuple[int, tuple[Any, ...]]]:
    """Each queued call as ``(shard, (op, args, key))``, in queued order per shard."""
    return [(shard, tuple(call)) for shard, part in pipeline._parts.items() for call in part.calls]


@pytest.mark.parametrize(("kind", "name"), sorted(FAST_GETS))
@pytest.mark.parametrize("key", PLAIN_IDS + NOT_PLAIN)
async def test_the_fast_path_queues_what_the_builder_builds(
    mem: MemoryEngine, kind: str, name: str, key: str
) -> None:
    fast = mem.pipeline()
    getattr(getattr(fast, kind), name)(key)
    builder = type(getattr(fast, kind)).__mro__[1]  # the *Requests class
    call = getattr(builder, name)(builder(mem.config), key)
    assert _queued(fast) == [(shard_of(key, mem.shards), tuple(call))]


@pytest.mark.parametrize(("kind", "name"), sorted(FAST_GETS))
@pytest.mark.parametrize(("key", "error"), BAD)
async def test_a_bad_id_raises_the_builders_error(
    mem: MemoryEngine, kind: str, name: str, key: object, error: type[Exception]
) -> None:
    p = mem.pipeline()
    with pytest.raises(error, match="_id: expected"):
        getattr(getattr(p, kind), name)(key)
    assert len(p) == 0


async def test_options_go_through_the_builder(mem: MemoryEngine) -> None:
    await mem.sessions.upsert(Session(session_id="s1", user_id="alice"))
    await mem.sessions.append_run("s1", Run(run_id="r1"))
    async with mem.pipeline() as p:
        scoped = p.sessions.get("s1", user_id="bob")
        limited = p.sessions.get("s1", runs_limit=0)
        by_name = p.sessions.get(session_id="s1")
        typed = p.working.retrieve("c1", memory_type="scratch")
        with pytest.raises(InvalidArgument, match="runs_limit"):
            p.sessions.get("s1", runs_limit=-1)
        with pytest.raises(TypeError):
            p.sessions.get("s1", "alice")  # user_id is keyword-only
        with pytest.raises(InvalidArgument, match="memory_type"):
            p.working.retrieve("c1", memory_type="")
    assert scoped.result() is None
    assert limited.result().runs == ()
    assert [r.run_id for r in by_name.result().runs] == ["r1"]
    assert typed.result() is None


async def test_results_of_fast_and_direct_gets_agree() -> None:
    async with open_memory_engine(shards=3) as mem:
        ids = [f"s{i}" for i in range(20)]
        for sid in ids[::2]:
            await mem.sessions.upsert(Session(session_id=sid, user_id="u"))
            await mem.working.store(sid, f"data {sid}")
            await mem.knowledge.upsert(KnowledgeDoc(doc_id=sid, name=sid))
        async with mem.pipeline() as p:
            got = [
                (p.sessions.get(sid), p.working.retrieve(sid), p.knowledge.get(sid)) for sid in ids
            ]
        for sid, (session, working, doc) in zip(ids, got, strict=True):
            assert session.result() == await mem.sessions.get(sid)
            assert working.result() == await mem.working.retrieve(sid)
            assert doc.result() == await mem.knowledge.get(sid)


@pytest.mark.parametrize("key", ["w1", "é-unicode", "x" * 300])
async def test_direct_and_pipelined_calls_route_as_shard_of(key: str) -> None:
    # The router and the pipeline hash keys inline (no shard_of frame per request).
    async with open_memory_engine(shards=5) as mem:
        await mem.working.store(key, "direct")
        async with mem.pipeline() as p:
            p.working.store(f"{key}-p", "pipelined")
            got = p.working.retrieve(key)
        assert got.result().data == "direct"
        working = [shard.store.working for shard in mem.statistics().shards]
        expected = [0] * mem.shards
        for stored in (key, f"{key}-p"):
            expected[shard_of(stored, mem.shards)] += 1
        assert working == expected
