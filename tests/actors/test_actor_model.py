"""Property test: concurrent clients of one actor agree with a plain-dict model.

Each client works on its own keys, so its results depend on its own requests only and a
per-client dict predicts every answer; all clients also increment one shared counter, whose
returned values must be a permutation of 1..N. Hypothesis picks the requests, the number
of clients, the mailbox size and whether each request is pipelined (``send``) or not
(``ask``). Runs on trio's autojump mock clock.
"""

from __future__ import annotations

from typing import Any

import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import ActorRef, open_actor
from tests.actors._behaviours import KV

KEYS = ("a", "b", "c")

requests = st.one_of(
    st.tuples(st.just("get"), st.sampled_from(KEYS)),
    st.tuples(st.just("set"), st.sampled_from(KEYS), st.integers(-5, 5)),
    st.tuples(st.just("incr"), st.sampled_from(KEYS)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
    st.tuples(st.just("incr"), st.just("shared")),
    st.just(("bogus",)),
)
client_plans = st.lists(st.tuples(requests, st.booleans()), max_size=25)


def expected(model: dict[object, Any], request: tuple[Any, ...]) -> tuple[str, object]:
    """What the actor must answer, as ``("value", v)`` or ``("error", type name)``."""
    match request:
        case ("get", key):
            return "value", model.get(key)
        case ("set", key, value):
            model[key] = value
            return "value", value
        case ("incr", key):
            current = model.get(key, 0)
            if not isinstance(current, int):  # pragma: no cover  (values are ints)
                raise AssertionError(current)
            model[key] = current + 1
            return "value", current + 1
        case ("delete", key):
            return "value", model.pop(key, None) is not None
        case _:
            return "error", "ValueError"


@settings(max_examples=60, deadline=None)
@given(plans=st.lists(client_plans, min_size=1, max_size=6), mailbox_size=st.integers(1, 8))
def test_concurrent_clients_agree_with_a_dict_model(
    plans: list[list[tuple[tuple[Any, ...], bool]]], mailbox_size: int
) -> None:
    def scoped(client: int, request: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(request) >= 2 and request[1] in KEYS:
            return (request[0], (client, request[1]), *request[2:])
        return request

    got: dict[int, list[tuple[str, object]]] = {}
    shared: list[object] = []

    async def client(ref: ActorRef, index: int) -> None:
        answers: list[tuple[str, object]] = []
        pending = []
        for request, pipelined in plans[index]:
            reply = await ref.send(scoped(index, request))
            if pipelined:
                pending.append((request, reply))
                continue
            for _, earlier in pending:
                answers.append(await settle(earlier.wait()))
            pending.clear()
            answers.append(await settle(reply.wait()))
        for _, earlier in pending:
            answers.append(await settle(earlier.wait()))
        got[index] = answers

    async def settle(wait: Any) -> tuple[str, object]:
        try:
            return "value", await wait
        except ValueError as exc:
            return "error", type(exc).__name__

    async def main() -> None:
        async with open_actor(KV(), mailbox_size=mailbox_size) as ref:
            async with trio.open_nursery() as nursery:
                for index in range(len(plans)):
                    nursery.start_soon(client, ref, index)
            stats = ref.statistics()
        total = sum(len(plan) for plan in plans)
        assert stats.requests == total
        assert stats.errors == sum(r == ("bogus",) for plan in plans for r, _ in plan)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

    for index, plan in enumerate(plans):
        model: dict[object, Any] = {}
        for (request, _), answer in zip(plan, got[index], strict=True):
            if request == ("incr", "shared"):
                assert answer[0] == "value"
                shared.append(answer[1])
            else:
                assert answer == expected(model, request), (index, request)
    assert sorted(shared) == list(range(1, len(shared) + 1))  # type: ignore[type-var]
