"""``TTLs``: the store's ``(kind, key) -> ttl`` map, kept per kind."""

from __future__ import annotations

import pytest

from engine._store._ttls import TTLs


def test_ttls_behave_as_a_dict_keyed_by_kind_and_key() -> None:
    ttls = TTLs()
    assert not ttls and ttls.get((0, "a")) is None and (0, "a") not in ttls
    ttls[(0, "a")] = 5.0
    ttls[(1, ("u", "m"))] = 7.0
    ttls[(0, "a")] = 6.0
    assert len(ttls) == 2 and ttls[(0, "a")] == 6.0
    assert dict(ttls) == {(0, "a"): 6.0, (1, ("u", "m")): 7.0}
    assert (1, ("u", "m")) in ttls and (1, "a") not in ttls and "a" not in ttls
    assert ttls.get((1, "a")) is None  # the kind is part of the identity
    assert ttls.pop((0, "a")) == 6.0 and ttls.pop((0, "a")) is None
    assert ttls.pop((9, "x")) is None
    del ttls[(1, ("u", "m"))]
    with pytest.raises(KeyError):
        del ttls[(1, ("u", "m"))]
    with pytest.raises(KeyError):
        ttls[(2, "z")]
    ttls[(2, "z")] = 1.0
    ttls.clear()
    assert len(ttls) == 0 and dict(ttls) == {}


def test_a_ttl_stores_no_tuple_per_record() -> None:
    ttls = TTLs()
    key = ("conv", "default")
    ttls[(3, key)] = 60.0
    (stored,) = ttls._by_kind[3]
    assert stored is key  # the table's own key object, not a new (kind, key) tuple
