"""A LangGraph graph with a shardmem store and checkpointer: ``invoke`` (checkpoints
written from LangGraph's executor threads) and ``ainvoke``, with offline nodes."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip(
    "langgraph", reason="install the langgraph extra: pip install -e '.[langgraph]'"
)

from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph

from engine.integrations.langgraph import ShardmemSaver, ShardmemStore


class State(TypedDict):
    user: str
    said: Annotated[list[str], operator.add]


def remember(state: State) -> dict[str, Any]:
    store = get_store()
    turn = len(state["said"])
    store.put(("memories", state["user"]), f"turn-{turn}", {"text": f"turn {turn}"})
    return {"said": [f"remembered {turn}"]}


def recall(state: State) -> dict[str, Any]:
    found = get_store().search(("memories", state["user"]), limit=100)
    return {"said": [f"{len(found)} memories"]}


def build(store: ShardmemStore, saver: ShardmemSaver) -> Any:
    graph = StateGraph(State)
    graph.add_node("remember", remember)
    graph.add_node("recall", recall)
    graph.add_edge(START, "remember")
    graph.add_edge("remember", "recall")
    graph.add_edge("recall", END)
    return graph.compile(store=store, checkpointer=saver)


def test_invoke_and_ainvoke_keep_state_and_memories() -> None:
    with ShardmemStore(shards=2) as store, ShardmemSaver(engine=store.engine) as saver:
        app = build(store, saver)
        config = {"configurable": {"thread_id": "alice-1"}}
        first = app.invoke({"user": "alice", "said": []}, config)
        assert first["said"] == ["remembered 0", "1 memories"]
        second = asyncio.run(app.ainvoke({"user": "alice", "said": []}, config))
        assert second["said"] == ["remembered 0", "1 memories", "remembered 2", "2 memories"]
        history = list(app.get_state_history(config))
        assert len(history) == len(list(saver.list(config))) >= 6
        assert app.get_state(config).values["said"] == second["said"]
        other = app.invoke({"user": "bob", "said": []}, {"configurable": {"thread_id": "bob-1"}})
        assert other["said"] == ["remembered 0", "1 memories"]
        assert store.list_namespaces(prefix=("memories",)) == [
            ("memories", "alice"),
            ("memories", "bob"),
        ]
