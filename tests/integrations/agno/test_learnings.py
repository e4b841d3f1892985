"""Learnings on ShardmemDb and AsyncShardmemDb, through Agno's own UserProfileStore and
directly, with the row shapes Agno's SQL dbs return; traces and spans stay unsupported."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("agno", reason="install the agno extra: pip install -e '.[agno]'")

from agno.learn.config import UserProfileConfig
from agno.learn.schemas import UserProfile
from agno.learn.stores.user_profile import UserProfileStore

from engine.integrations.agno import AsyncShardmemDb, ShardmemDb


@pytest.fixture
def db() -> Any:
    shard = ShardmemDb()
    yield shard
    shard.close()


def test_agnos_user_profile_store_on_shardmem(db: Any) -> None:
    store = UserProfileStore(config=UserProfileConfig(db=db))
    assert store.get("ann") is None
    store.save("ann", UserProfile(user_id="ann", name="Ann", preferred_name="Annie"))
    store.save("bob", UserProfile(user_id="bob", name="Bob"))
    profile = store.get("ann")
    assert (profile.name, profile.preferred_name) == ("Ann", "Annie")
    store.save("ann", UserProfile(user_id="ann", name="Ann B."), agent_id="helper")
    assert store.get("ann").name == "Ann B."
    assert store.delete("ann") is True and store.get("ann") is None
    assert store.get("bob").name == "Bob"


def test_agnos_user_profile_store_on_the_async_db() -> None:
    db = AsyncShardmemDb()

    async def main() -> None:
        store = UserProfileStore(config=UserProfileConfig(db=db))
        await store.asave("ann", UserProfile(user_id="ann", name="Ann"))
        assert (await store.aget("ann")).name == "Ann"
        assert await store.adelete("ann") is True and await store.aget("ann") is None
        await db.close()

    asyncio.run(main())


def test_learning_rows_scopes_and_updates(db: Any) -> None:
    db.upsert_learning("l1", "session_context", {"s": 1}, user_id="ann", session_id="s1")
    db.upsert_learning("l2", "entity", {"e": 1}, namespace="global", entity_id="acme")
    db.upsert_learning("l3", "session_context", {"s": 3}, user_id="bob", session_id="s2")
    (row,) = db.get_learnings(learning_type="session_context", user_id="ann")
    assert row["learning_id"] == "l1" and row["content"] == {"s": 1}
    assert row["session_id"] == "s1" and row["metadata"] is None
    assert row["created_at"] == row["updated_at"] > 0
    # an upsert changes content and metadata only: type and scope stay
    db.upsert_learning("l1", "other", {"s": 2}, user_id="eve", metadata={"v": 2})
    assert db.get_learning("session_context", user_id="ann") == {"content": {"s": 2}}
    assert db.get_learning("other") is None
    assert db.get_learnings(learning_type="session_context", user_id="ann")[0]["metadata"] == {
        "v": 2
    }
    assert [r["learning_id"] for r in db.get_learnings(entity_id="acme")] == ["l2"]
    assert len(db.get_learnings(limit=2)) == 2 and len(db.get_learnings()) == 3
    assert db.update_learning("l2", {"e": 2}) is True
    assert db.get_learning("entity", namespace="global") == {"content": {"e": 2}}
    assert db.update_learning("missing", {}) is False and db.get_learnings(entity_id="x") == []
    assert db.delete_user_learnings("bob") == 1
    assert db.delete_learning("l2") is True and db.delete_learning("l2") is False
    assert [r["learning_id"] for r in db.get_learnings()] == ["l1"]


def test_traces_and_spans_are_not_held(db: Any) -> None:
    with pytest.raises(NotImplementedError, match="upsert_trace is not supported"):
        db.upsert_trace(object())
    with pytest.raises(NotImplementedError, match="get_spans is not supported"):
        db.get_spans(trace_id="t1")
