"""Random programs of good and bad calls, on every backend (hypothesis; ``slow``).

Each program is a list of facade calls whose arguments are drawn from small pools of
good values (so calls meet each other's records) and bad ones (wrong types, empty or
NUL ids, lone surrogates, NaN, negative or huge limits, sets in payloads, ints
beyond 64 bits). It runs on the embedded engine (the reference), on a durable engine, through
the blocking facades of the thread bridge, and on Redis and Redis Cluster when their
URLs are set, all on a frozen clock (trio's
``MockClock(rate=0)``) so timestamps agree. Checked:

- no untyped error: every call returns, or raises ``TypeError`` or an
  ``EngineError`` (``InvalidArgument``, ``NotFound``, ``OwnershipError``);
- no divergence: every backend gives every call the same outcome (the same value, or
  the same error class) as the reference;
- no loss: the durable engine reopens with exactly the snapshot it closed with.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.testing
from conformance_helpers import START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    EngineError,
    InvalidArgument,
    KnowledgeDoc,
    Message,
    NotFound,
    OwnershipError,
    Run,
    Session,
    UserMemory,
    open_memory_engine,
)

pytestmark = pytest.mark.slow

SURROGATE = json.loads('"\\ud83d"')
TYPED = (TypeError, InvalidArgument, NotFound, OwnershipError)


def pool(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly good values, sometimes bad ones."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(bad))


ID = pool(["s1", "s2", "s3"], ["", "   ", "s\0", "s" + SURROGATE, 7, None])
USER = pool(["u1", "u2"], ["", "u\0", 3])
OPT_USER = st.one_of(st.none(), USER)
TEXT = pool(
    ["green tea", "black tea and cake", "hello", "😀 emoji", "NUL \0 inside"], [SURROGATE, 5, b"x"]
)
TTL = pool(["default", None, 3600, 7200.5], [-1, 0, math.nan, math.inf, "60", True])
LIMIT = pool([None, 0, 1, 2, 10], [-1, 2**64, 1.5, "2"])
OFFSET = pool([0, 1, 3], [-1, 2**63, None])
PAYLOAD = pool(
    [None, {}, {"k": 1}, {"k": [1, "x", {"n": None}]}, {"π": 3.14}],
    [{"s": {1}}, {"n": math.nan}, {"big": 2**64}, {1: "int key"}, [1, 2], {"k": SURROGATE}],
)
TOPICS = pool([(), ("drinks",), ("drinks", "food")], [("",), ("a\0",), "drinks", (3,)])


def ttl_kwargs(ttl: Any) -> dict[str, Any]:
    return {} if ttl == "default" else {"ttl": ttl}


# A call is (description, function of the engine returning an awaitable).
Call = tuple[str, Callable[[Any], Any]]


@st.composite
def calls(draw: st.DrawFn) -> Call:
    kind = draw(st.integers(0, 17))
    i, u, t = draw(ID), draw(USER), draw(TEXT)
    if kind == 0:
        payload, ttl, agent = draw(PAYLOAD), draw(TTL), draw(st.sampled_from([None, "a1"]))
        return f"sessions.upsert({i!r}, {u!r}, {payload!r}, {ttl!r})", lambda m: m.sessions.upsert(
            Session(session_id=i, user_id=u, agent_id=agent, state=payload), **ttl_kwargs(ttl)
        )
    if kind == 1:
        ou = draw(OPT_USER)
        return f"sessions.get({i!r}, {ou!r})", lambda m: m.sessions.get(i, user_id=ou)
    if kind == 2:
        ou, limit, offset = draw(OPT_USER), draw(LIMIT), draw(OFFSET)
        return f"sessions.list({ou!r}, {limit!r}, {offset!r})", lambda m: m.sessions.list(
            user_id=ou, limit=limit, offset=offset
        )
    if kind == 3:
        run_id, role = (
            draw(st.sampled_from(["r1", "r2", "", 1])),
            draw(st.sampled_from(["user", "assistant", "robot"])),
        )
        ou = draw(OPT_USER)
        return (
            f"sessions.append_run({i!r}, {run_id!r}, {role!r}, {t!r}, {ou!r})",
            lambda m: m.sessions.append_run(
                i, Run(run_id=run_id, messages=(Message(role=role, content=t),)), user_id=ou
            ),
        )
    if kind == 4:
        ou = draw(OPT_USER)
        return f"sessions.rename({i!r}, {t!r}, {ou!r})", lambda m: m.sessions.rename(
            i, t, user_id=ou
        )
    if kind == 5:
        ou = draw(OPT_USER)
        return f"sessions.delete({i!r}, {ou!r})", lambda m: m.sessions.delete(i, user_id=ou)
    if kind == 6:
        limit = draw(LIMIT)
        return f"sessions.messages({i!r}, {limit!r})", lambda m: m.sessions.messages(
            i, last_n_runs=limit
        )
    if kind == 7:
        return f"sessions.set_summary({i!r}, {t!r})", lambda m: m.sessions.set_summary(i, t)
    if kind == 8:
        topics, ttl = draw(TOPICS), draw(TTL)
        return (
            f"memories.upsert({u!r}, {i!r}, {t!r}, {topics!r}, {ttl!r})",
            lambda m: m.memories.upsert(
                UserMemory(user_id=u, memory_id=i, memory=t, topics=topics), **ttl_kwargs(ttl)
            ),
        )
    if kind == 9:
        return f"memories.get({i!r}, {u!r})", lambda m: m.memories.get(i, user_id=u)
    if kind == 10:
        limit = draw(LIMIT)
        return f"memories.search({u!r}, {t!r}, {limit!r})", lambda m: m.memories.search(
            u, t, limit=limit
        )
    if kind == 11:
        ou, limit, offset = draw(OPT_USER), draw(LIMIT), draw(OFFSET)
        return f"memories.list({ou!r}, {limit!r}, {offset!r})", lambda m: m.memories.list(
            user_id=ou, limit=limit, offset=offset
        )
    if kind == 12:
        ou = draw(OPT_USER)
        return f"memories.topics({ou!r})", lambda m: m.memories.topics(user_id=ou)
    if kind == 13:
        return f"memories.delete({i!r}, {u!r})", lambda m: m.memories.delete(i, user_id=u)
    if kind == 14:
        payload, ttl = draw(PAYLOAD), draw(TTL)
        return f"working.store({i!r}, {t!r}, {payload!r}, {ttl!r})", lambda m: m.working.store(
            i, t, metadata=payload, **ttl_kwargs(ttl)
        )
    if kind == 15:
        payload = draw(PAYLOAD)
        return f"working.update({i!r}, {t!r}, {payload!r})", lambda m: m.working.update(
            i, t, metadata=payload
        )
    if kind == 16:
        return f"working.retrieve({i!r})", lambda m: m.working.retrieve(i)
    status = draw(st.sampled_from([None, "ready", 3]))
    return f"knowledge.upsert({i!r}, {t!r}, {status!r})", lambda m: m.knowledge.upsert(
        KnowledgeDoc(doc_id=i, name=t, status=status)
    )


#: A memory id the engine generates: ``uuid.uuid4().hex`` (never in the drawn id pool).
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def normal(value: Any, call: str) -> Any:
    """A comparable form of a call's result: records as dicts; search results as a
    set (equal BM25 scores may tie in any order); a memory id the engine generated
    (``memory_id=None``: a random uuid4, different on each backend) as ``<generated>``."""
    if hasattr(value, "to_dict"):
        found = value.to_dict()
        if GENERATED_ID.fullmatch(str(found.get("memory_id"))):
            found["memory_id"] = "<generated>"
        return found
    if isinstance(value, list):
        items = [normal(item, call) for item in value]
        if call.startswith("memories.search"):
            return sorted(json.dumps(item, sort_keys=True) for item in items)
        return items
    return value


async def run_program(mem: Any, program: list[Call]) -> list[Any]:
    outcomes = []
    for description, call in program:
        try:
            value = await call(mem)
        except TYPED as error:
            outcomes.append(("error", type(error).__name__))
            continue
        except EngineError as error:  # any other engine error is a finding
            pytest.fail(f"{description}: unexpected {type(error).__name__}: {error}")
        except Exception as error:
            pytest.fail(f"{description}: untyped {type(error).__name__}: {error!r}")
        outcomes.append(normal(value, description))
    return outcomes


def frozen_run(fn: Callable[[], Any]) -> Any:
    """``trio.run`` on a clock that never moves: every backend stamps the same times."""
    return trio.run(fn, clock=trio.testing.MockClock(rate=0))


def on_embedded(program: list[Call]) -> list[Any]:
    async def main() -> list[Any]:
        async with open_memory_engine(shards=3, start_time=START) as mem:
            return await run_program(mem, program)

    return frozen_run(main)


def on_durable(program: list[Call]) -> list[Any]:
    with tempfile.TemporaryDirectory() as directory:

        async def write() -> tuple[list[Any], dict[str, Any]]:
            async with open_memory_engine(
                shards=3, start_time=START, data_dir=directory, fsync="no"
            ) as mem:
                outcomes = await run_program(mem, program)
                return outcomes, await mem.snapshot()

        async def reopen() -> dict[str, Any]:
            async with open_memory_engine(shards=3, start_time=START, data_dir=directory) as mem:
                return await mem.snapshot()

        outcomes, before = frozen_run(write)
        after = frozen_run(reopen)
        assert after == before, "the durable engine reopened with another state"
        return outcomes


def on_redis(program: list[Call], url: str, cluster: bool) -> list[Any]:
    from engine._redis._engine import open_redis_memory

    async def main() -> list[Any]:
        async with open_redis_memory(
            url,
            cluster=cluster,
            shards=6 if cluster else 3,
            prefix=f"fz{uuid.uuid4().hex[:10]}",
            start_time=START,
            sweep_interval=None,
        ) as mem:
            try:
                return await run_program(mem, program)
            finally:
                await mem.drop(forget=True)

    return frozen_run(main)


def on_blocking(program: list[Call]) -> list[Any]:
    """The program through the blocking facades, from this (non-trio) thread."""
    from engine import start_blocking_engine

    mem = start_blocking_engine(shards=3, start_time=START, clock=trio.testing.MockClock(rate=0))
    outcomes: list[Any] = []
    try:
        for description, call in program:
            try:
                value = call(mem)
            except TYPED as error:
                outcomes.append(("error", type(error).__name__))
                continue
            except Exception as error:
                pytest.fail(f"{description}: untyped {type(error).__name__}: {error!r}")
            outcomes.append(normal(value, description))
    finally:
        mem.close()
    return outcomes


def backends() -> list[tuple[str, Callable[[list[Call]], list[Any]]]]:
    found: list[tuple[str, Callable[[list[Call]], list[Any]]]] = [
        ("durable", on_durable),
        ("embedded-blocking", on_blocking),
    ]
    for name, variable, cluster in (
        ("redis", "SHARDMEM_REDIS_URL", False),
        ("redis-cluster", "SHARDMEM_REDIS_CLUSTER_URL", True),
    ):
        url = os.environ.get(variable)
        if url:
            found.append((name, lambda p, url=url, cluster=cluster: on_redis(p, url, cluster)))
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(calls(), min_size=1, max_size=40))
def test_random_programs_agree_on_every_backend(program: list[Call]) -> None:
    reference = on_embedded(program)
    for name, run in backends():
        outcomes = run(program)
        for (description, _), expected, got in zip(program, reference, outcomes, strict=True):
            assert got == expected, f"{name}: {description}: {got!r} != embedded {expected!r}"
