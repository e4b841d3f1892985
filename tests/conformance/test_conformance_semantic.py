"""Semantic and hybrid memory search with an embedder: the same on every backend."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pytest

from engine import EngineConfig, UserMemory


def _embed(texts: list[str]) -> list[list[float]]:
    out = []
    for text in texts:
        vector = [0.0] * 32
        for word in text.lower().split():
            word = {"tea": "drink", "coffee": "drink", "beverage": "drink"}.get(word, word)
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 32] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        out.append([x / norm for x in vector])
    return out


@pytest.fixture
def engine_config() -> EngineConfig:
    return EngineConfig(embedder=_embed)


async def test_semantic_and_hybrid_memory_search(mem: Any) -> None:
    for mid, text in [("m1", "green tea"), ("m2", "red car"), ("m3", "black coffee")]:
        await mem.memories.upsert(UserMemory(user_id="u", memory_id=mid, memory=text))
    semantic = await mem.memories.search("u", "a beverage", method="semantic", limit=2)
    assert {m.memory_id for m in semantic} == {"m1", "m3"}
    hybrid = await mem.memories.search("u", "green beverage", method="hybrid", limit=1)
    assert [m.memory_id for m in hybrid] == ["m1"]
    await mem.memories.delete("m1", user_id="u")
    again = await mem.memories.search("u", "a beverage", method="semantic", limit=1)
    assert [m.memory_id for m in again] == ["m3"]
    assert await mem.items.list_namespaces() == []
