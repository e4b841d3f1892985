"""The ``Behaviour`` protocol, and the test behaviour's own contract."""

from __future__ import annotations

import math

import pytest

from actors import Behaviour
from tests.actors._behaviours import KV


def test_a_class_with_the_three_methods_is_a_behaviour() -> None:
    assert isinstance(KV(), Behaviour)


class NoTimers:
    def handle(self, message: object) -> object:
        return message


@pytest.mark.parametrize("value", [NoTimers(), object(), {"handle": None}])
def test_a_value_missing_a_method_is_not_a_behaviour(value: object) -> None:
    assert not isinstance(value, Behaviour)


def test_kv_fires_at_most_limit_due_timers_in_deadline_order() -> None:
    kv = KV()
    assert kv.next_deadline() == math.inf
    for when, key in [(3.0, "c"), (1.0, "a"), (2.0, "b"), (9.0, "z")]:
        kv.data[key] = 0
        kv.add_timer(when, key)
    assert kv.next_deadline() == 1.0
    assert kv.fire_timers(5.0, 2) == 2
    assert [key for _, key in kv.fired] == ["a", "b"]
    assert kv.fire_timers(5.0, 10) == 1
    assert kv.fire_timers(5.0, 10) == 0
    assert kv.next_deadline() == 9.0
    assert kv.data == {"z": 0}


def test_kv_validates_before_mutating() -> None:
    kv = KV()
    with pytest.raises(ValueError, match="unknown message"):
        kv.handle(("set", "only-a-key"))
    assert kv.data == {}
