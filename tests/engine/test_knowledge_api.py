"""``mem.knowledge``: the knowledge registry."""

from __future__ import annotations

import trio
from trio.testing import MockClock

from engine import KnowledgeDoc, MemoryEngine

from .conftest import START


async def test_knowledge_crud_and_list(mem: MemoryEngine, autojump_clock: MockClock) -> None:
    for i in range(6):
        await mem.knowledge.upsert(
            KnowledgeDoc(
                doc_id=f"d{i}",
                name=f"Doc {i}",
                status="ready" if i % 2 else "processing",
                metadata={"pages": i},
            )
        )
        await trio.sleep(1)
    got = await mem.knowledge.get("d3")
    assert got is not None and got.metadata == {"pages": 3} and got.created_at == START + 3
    assert [d.doc_id for d in await mem.knowledge.list()] == [f"d{i}" for i in range(5, -1, -1)]
    ready = await mem.knowledge.list(status="ready", descending=False, limit=2)
    assert [d.doc_id for d in ready] == ["d1", "d3"]
    await mem.knowledge.upsert(KnowledgeDoc(doc_id="d0", name="Doc 0 v2", status="ready"))
    assert [d.doc_id for d in await mem.knowledge.list(limit=1)] == ["d0"]
    assert [d.doc_id for d in await mem.knowledge.list(order_by="created_at", limit=1)] == ["d5"]
    assert await mem.knowledge.delete("d0") is True
    assert await mem.knowledge.delete("d0") is False
    assert await mem.knowledge.get("d0") is None
    await mem.knowledge.upsert(KnowledgeDoc(doc_id="tmp", name="t"), ttl=1)
    await trio.sleep(1)
    assert await mem.knowledge.get("tmp") is None
    assert len(await mem.knowledge.list()) == 5
