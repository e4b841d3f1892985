"""A pipeline's parts and results (``engine._api._batch``): one list of values per
shard, results that index into it, errors by position, queued order kept."""

from __future__ import annotations

import pytest

from engine import MemoryEngine, NotFound, OwnershipError, PipelineResult, Session
from engine._api._batch import NO_VALUE, BatchPart
from engine._core import _ops as ops
from engine._core._routing import shard_of


def _ids_on_two_shards(shards: int) -> tuple[str, str]:
    """Two ids on different shards."""
    first = "a0"
    other = next(
        f"a{i}" for i in range(1, 100) if shard_of(f"a{i}", shards) != shard_of(first, shards)
    )
    return first, other


async def test_the_first_error_in_queued_order_not_in_shard_order(mem: MemoryEngine) -> None:
    one, two = _ids_on_two_shards(mem.shards)
    await mem.sessions.upsert(Session(session_id=two, user_id="alice"))
    with pytest.raises(OwnershipError):
        async with mem.pipeline() as p:
            ok = p.working.store(one, "x")  # opens one's part first
            stolen = p.sessions.upsert(Session(session_id=two, user_id="mallory"))
            missing = p.sessions.rename(one, "x")  # fails too, in the first part
    assert ok.result().data == "x"
    assert ok.done and stolen.done and missing.done
    with pytest.raises(NotFound):
        missing.result()


async def test_results_read_their_own_position(mem: MemoryEngine) -> None:
    ids = [f"s{i}" for i in range(40)]
    for sid in ids:
        await mem.sessions.upsert(Session(session_id=sid, user_id=f"u-{sid}"))
    async with mem.pipeline(raise_on_error=False) as p:
        got = [p.sessions.get(sid) for sid in ids]
        renamed = [p.sessions.rename(f"missing-{sid}", "x") for sid in ids[:5]]
    assert [r.result().user_id for r in got] == [f"u-{sid}" for sid in ids]
    assert len({id(r._part) for r in got}) == mem.shards  # one part per shard
    for result in renamed:
        with pytest.raises(NotFound, match="missing-"):
            result.result()


async def test_a_result_says_what_it_is(mem: MemoryEngine) -> None:
    await mem.working.store("c1", "kept")
    p = mem.pipeline(raise_on_error=False)
    got = p.working.retrieve("c1")
    failing = p.working.update("nope", "x")
    assert isinstance(got, PipelineResult) and not got.done
    assert repr(got) == "<PipelineResult working retrieve_working: pending>"
    with pytest.raises(RuntimeError, match=r"^working update_working: the pipeline has not run"):
        failing.result()
    async with p:
        pass
    assert repr(got).startswith("<PipelineResult working retrieve_working: value WorkingMemory(")
    assert repr(failing).startswith("<PipelineResult working update_working: error NotFound(")


def test_a_part_reports_results_one_by_one() -> None:
    # As the Redis backend does: each result as it is known; the others not run yet.
    part = BatchPart(2)
    part.calls.extend((ops.GET_DOC, (f"d{i}",), f"d{i}") for i in range(3))
    assert repr(part) == "<BatchPart shard 2: 3 calls, pending>"
    values = part.pending()
    assert values == [NO_VALUE] * 3 and part.values is values
    values[0] = None
    part.set_error(2, NotFound("d2"))
    results = []
    for position in range(3):
        result: PipelineResult[object] = object.__new__(PipelineResult)
        result._part, result._position = part, position
        results.append(result)
    assert [r.done for r in results] == [True, False, True]
    assert results[0].result() is None
    with pytest.raises(RuntimeError, match="has not run"):
        results[1].result()
    with pytest.raises(NotFound, match="d2"):
        results[2].result()
    assert repr(part) == "<BatchPart shard 2: 3 calls, 1 errors>"
    assert repr(NO_VALUE) == "NO_VALUE"
