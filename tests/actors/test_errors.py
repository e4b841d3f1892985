"""The runtime's errors, and `unwrap_single_error` (how they cross a nursery)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors import ActorClosed, open_actor, unwrap_single_error
from tests.actors._behaviours import KV


def test_actor_closed_is_a_runtime_error() -> None:
    assert issubclass(ActorClosed, RuntimeError)


async def test_actor_closed_says_what_happened(autojump_clock: trio.testing.MockClock) -> None:
    async with open_actor(KV()) as ref:
        ref.close()
        with pytest.raises(RuntimeError, match="the actor's mailbox is closed") as excinfo:
            await ref.ask(("echo", 1))
    assert type(excinfo.value) is ActorClosed
    assert excinfo.value.__suppress_context__  # the trio channel error is not chained


def test_unwrap_single_error_reraises_a_lone_exception_as_itself() -> None:
    cause = OSError("the root cause")
    error = KeyError("alone")
    error.__cause__ = cause
    with pytest.raises(KeyError, match="alone") as excinfo, unwrap_single_error():
        raise ExceptionGroup("from a nursery", [error])
    assert excinfo.value is error
    assert excinfo.value.__cause__ is cause


def test_unwrap_single_error_keeps_a_group_of_several() -> None:
    group = ExceptionGroup("from a nursery", [KeyError("a"), ValueError("b")])
    with pytest.raises(ExceptionGroup) as excinfo, unwrap_single_error():
        raise group
    assert excinfo.value is group


def test_unwrap_single_error_unwraps_nested_lone_groups() -> None:
    # Nested nurseries nest groups: the single leaf is what the caller gets.
    leaf = KeyError("a")
    with pytest.raises(KeyError) as excinfo, unwrap_single_error():
        raise ExceptionGroup("outer", [ExceptionGroup("inner", [leaf])])
    assert excinfo.value is leaf


def test_unwrap_single_error_keeps_a_nested_group_of_several() -> None:
    group = ExceptionGroup("outer", [ExceptionGroup("inner", [KeyError("a"), KeyError("b")])])
    with pytest.raises(ExceptionGroup) as excinfo, unwrap_single_error():
        raise group
    assert excinfo.value is group


def test_unwrap_single_error_lets_plain_errors_and_success_through() -> None:
    with pytest.raises(KeyError, match="plain"), unwrap_single_error():
        raise KeyError("plain")
    with unwrap_single_error():
        done = True
    assert done
