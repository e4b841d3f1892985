"""``mem.memories.search(method="semantic" | "hybrid")`` with the engine's embedder: a
deterministic offline embedder (a bag of hashed words with a few synonyms folded)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest

from engine import EngineConfig, InvalidArgument, UserMemory, open_memory_engine

DIMS = 64
SYNONYMS = {"beverage": "drink", "drinks": "drink", "tea": "drink", "coffee": "drink"}


def embed(texts: list[str]) -> list[list[float]]:
    vectors = []
    for text in texts:
        vector = [0.0] * DIMS
        for word in text.lower().split():
            word = SYNONYMS.get(word, word)
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMS] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        vectors.append([x / norm for x in vector])
    return vectors


CONFIG = EngineConfig(embedder=embed)


async def _fill(mem: object) -> None:
    for mid, text in [
        ("m1", "likes green tea"),
        ("m2", "drives a red car"),
        ("m3", "prefers coffee in the morning"),
        ("m4", "the car is green"),
    ]:
        await mem.memories.upsert(UserMemory(user_id="u", memory_id=mid, memory=text))  # type: ignore[attr-defined]


async def test_semantic_finds_meaning_without_shared_words() -> None:
    async with open_memory_engine(config=CONFIG) as mem:
        await _fill(mem)
        found = await mem.memories.search("u", "favourite beverage", method="semantic", limit=2)
        assert {m.memory_id for m in found} == {"m1", "m3"}
        assert await mem.memories.search("u", "favourite beverage", method="keyword") == []


async def test_hybrid_fuses_keyword_and_vector_rankings() -> None:
    async with open_memory_engine(config=CONFIG) as mem:
        await _fill(mem)
        found = await mem.memories.search("u", "green beverage", method="hybrid", limit=None)
        assert found[0].memory_id == "m1"  # first in both rankings
        assert {m.memory_id for m in found} == {"m1", "m2", "m3", "m4"}
        assert found.index(next(m for m in found if m.memory_id == "m4")) < 3  # keyword "green"


async def test_updates_reembed_and_deletes_drop_vectors() -> None:
    async with open_memory_engine(config=CONFIG) as mem:
        await _fill(mem)
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m1", memory="owns a bicycle"))
        assert await mem.memories.delete("m3", user_id="u")
        found = await mem.memories.search("u", "bicycle", method="semantic", limit=None)
        assert found[0].memory_id == "m1"  # embedded again with its new text
        assert {m.memory_id for m in found} == {"m1", "m2", "m4"}
        assert await mem.items.list_namespaces() == []  # the vectors stay out of sight
        await mem.memories.clear("u")
        assert await mem.memories.search("u", "beverage", method="semantic") == []


async def test_vectors_survive_a_restart_and_resharding(tmp_path: Path) -> None:
    async with open_memory_engine(config=CONFIG, data_dir=str(tmp_path), shards=2) as mem:
        await _fill(mem)
        await mem.compact()
    async with open_memory_engine(config=CONFIG, data_dir=str(tmp_path), shards=3) as mem:
        found = await mem.memories.search("u", "beverage", method="semantic", limit=2)
        assert {m.memory_id for m in found} == {"m1", "m3"}


async def test_semantic_needs_an_embedder_and_a_query() -> None:
    async with open_memory_engine() as mem:
        with pytest.raises(InvalidArgument, match="embedder"):
            await mem.memories.search("u", "tea", method="semantic")
    async with open_memory_engine(config=CONFIG) as mem:
        with pytest.raises(TypeError, match="query"):
            await mem.memories.search("u", None, method="hybrid")
        with pytest.raises(InvalidArgument, match="reserved"):
            await mem.items.put(("__shardmem__", "x"), "k", {})
    with pytest.raises(TypeError, match="embedder"):
        EngineConfig(embedder="not callable")
