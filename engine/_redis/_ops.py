"""Memories, working memory, knowledge and whole-store operations of the Redis engine.

Same names, arguments (minus ``now``, plus the partition) and semantics as
:class:`engine.ShardStore`; sessions are in ``engine._redis._ops_sessions``.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import attrs

from engine._core import _ops as ops
from engine._core._config import EngineConfig
from engine._core._errors import NotFound
from engine._core._ops import Op
from engine._core._queries import KnowledgeQuery, MemoryQuery
from engine._core._records import KnowledgeDoc, UserMemory, WorkingMemory
from engine._core._statistics import StoreCounts
from engine._core._text import K1, B, tokenize
from engine._core._validate import DEFAULT, Default
from engine._redis._codec import (
    decode_doc,
    decode_memory,
    decode_session,
    decode_working,
    doc_fields,
    dumps,
    fields_of,
    memory_fields,
    num,
    ts,
    working_fields,
)
from engine._redis._conn import Connection
from engine._redis._keys import NUL
from engine._redis._ops_langgraph import LangGraphOps
from engine._redis._ops_sessions import Ranked, SessionOps, scan_index

__all__ = ["RedisOps"]

_CLEAR_BATCH = "500"


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _memory_entry(by_created: bool) -> Any:
    def entry(value: Any) -> tuple[tuple[float, Any], UserMemory]:
        memory = decode_memory(value)
        stamp = memory.created_at if by_created else memory.updated_at
        assert stamp is not None
        return (stamp, (memory.user_id, memory.memory_id)), memory

    return entry


def _doc_entry(by_created: bool) -> Any:
    def entry(value: Any) -> tuple[tuple[float, Any], KnowledgeDoc]:
        doc = decode_doc(value)
        stamp = doc.created_at if by_created else doc.updated_at
        assert stamp is not None
        return (stamp, doc.doc_id), doc

    return entry


class RedisOps(SessionOps, LangGraphOps):
    """Every store operation on Redis: one method per :class:`Op`, of the op's name
    (``tests/engine/test_ops.py`` checks it), looked up once by :meth:`by_op`."""

    #: The operations that may make more than one script call (the others make
    #: exactly one): a pipeline holds back later operations of their partition.
    SEVERAL_CALLS: ClassVar[frozenset[Op]] = frozenset(
        {ops.LIST_SESSIONS, ops.LIST_MEMORIES, ops.SEARCH_MEMORIES, ops.LIST_DOCS, ops.CLEAR,
         ops.EXPORT, ops.SEARCH_ITEMS, ops.PRUNE_CHECKPOINTS, ops.IMPORT_CHECKPOINT_THREAD}
    )  # fmt: skip

    def __init__(self, conn: Connection, config: EngineConfig) -> None:
        super().__init__(conn, config)
        self._read = {
            kind: _flag(config.policy(kind).refresh_on_read)
            for kind in ("memories", "working", "knowledge")
        }
        self._update_working = _flag(config.policy("working").refresh_on_update)

    def by_op(self) -> dict[Op, Callable[..., Awaitable[Any]]]:
        """This object's method for each operation: ``method(partition, now, *args)``."""
        return {op: getattr(self, op.name) for op in ops.OPS.values()}

    # -------------------------------------------------------------------- memories

    async def upsert_memory(
        self, p: int, now: float, memory: UserMemory, ttl: float | None
    ) -> UserMemory:
        assert memory.memory_id is not None
        expires = None if ttl is None else now + ttl
        stored = attrs.evolve(memory, updated_at=now, expires_at=expires)
        fields, ix = memory_fields(stored)
        created = await self._conn.run(
            "upsert_memory", p, now, f"{memory.user_id}{NUL}{memory.memory_id}", ts(ttl),
            ts(expires), ts(memory.created_at), ix, str(len(fields) // 2), *fields,
        )  # fmt: skip
        return attrs.evolve(stored, created_at=float(created))

    async def _get_memories(self, p: int, now: float, ids: list[str]) -> list[UserMemory | None]:
        if not ids:
            return []
        values = await self._conn.run("get_memories", p, now, self._read["memories"], *ids)
        return [None if value is None else decode_memory(value) for value in values]

    async def get_memory(
        self, p: int, now: float, user_id: str, memory_id: str
    ) -> UserMemory | None:
        return (await self._get_memories(p, now, [f"{user_id}{NUL}{memory_id}"]))[0]

    async def list_memories(self, p: int, now: float, query: MemoryQuery, k: int | None) -> Ranked:
        by_created = query.order_by == "created_at"
        needle = None if query.text is None else query.text.casefold()
        wanted = None if query.topics is None else set(query.topics)

        def accept(memory: UserMemory) -> bool:
            if wanted is not None and wanted.isdisjoint(memory.topics):
                return False
            if query.agent_id is not None and memory.agent_id != query.agent_id:
                return False
            if query.team_id is not None and memory.team_id != query.team_id:
                return False
            return needle is None or needle in memory.memory.casefold()

        entry = _memory_entry(by_created)
        if query.user_id is not None and query.topics is not None:
            if not query.topics:
                return []
            values = await self._conn.run("topic_members", p, now, query.user_id, *query.topics)
            found = sorted((entry(value) for value in values), reverse=query.descending)
            taken = [item for item in found if accept(item[1])]
            return taken if k is None else taken[:k]
        group = "all" if query.user_id is None else f"user{NUL}{query.user_id}"
        index = f"mi:{'c' if by_created else 'u'}:{group}"
        return await scan_index(
            self._conn, p, now, index, "m", ("-inf", "+inf"), query.descending, k, entry, accept
        )

    async def search_memories(
        self, p: int, now: float, user_id: str, query: str, method: str, limit: int | None
    ) -> list[UserMemory]:
        if method != "keyword":
            scan = MemoryQuery(user_id=user_id, descending=method == "last_n")
            found = [m for _, m in await self.list_memories(p, now, scan, limit)]
            if method == "last_n":
                found.reverse()
            if self._read["memories"] == "1" and found:
                ids = [f"{user_id}{NUL}{m.memory_id}" for m in found]
                touched = await self._get_memories(p, now, ids)
                found = [m for m in touched if m is not None]
            return found
        while True:
            ranked = await self._rank(p, now, user_id, query, limit)
            ids = [f"{user_id}{NUL}{mid}" for _, mid in ranked]
            memories = await self._get_memories(p, now, ids)
            if all(memory is not None for memory in memories):
                return memories  # type: ignore[return-value]

    async def _rank(
        self, p: int, now: float, user_id: str, query: str, limit: int | None
    ) -> list[tuple[float, str]]:
        """BM25 exactly as :class:`engine._store._keyword.KeywordIndex`, over the user's
        postings fetched in one script call; ``limit=None``: every match."""
        terms = list(set(tokenize(query)))
        if limit is not None and limit <= 0:
            return []
        docs_s, total_s, postings, docs, lengths = await self._conn.run(
            "keyword_stats", p, now, user_id, *terms
        )
        docs_n = int(docs_s)
        if not docs_n:
            return []
        average = int(total_s) / docs_n
        length_of = {doc: int(length) for doc, length in zip(docs, lengths, strict=True)}
        scores: dict[str, float] = {}
        for flat in postings:
            posting = fields_of(flat)
            if not posting:
                continue
            idf = math.log(1.0 + (docs_n - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, frequency_s in posting.items():
                frequency = int(frequency_s)
                norm = K1 * (1.0 - B + B * length_of[doc] / average)
                scores[doc] = scores.get(doc, 0.0) + idf * frequency * (K1 + 1.0) / (
                    frequency + norm
                )
        ranked = ((score, doc) for doc, score in scores.items())
        return sorted(ranked, reverse=True) if limit is None else heapq.nlargest(limit, ranked)

    async def memory_topics(self, p: int, now: float, user_id: str | None) -> list[str]:
        topics: list[str] = await self._conn.run("memory_topics", p, now, user_id or "")
        return sorted(topics)

    async def delete_memory(self, p: int, now: float, user_id: str, memory_id: str) -> bool:
        return bool(await self._conn.run("delete_memory", p, now, f"{user_id}{NUL}{memory_id}"))

    async def clear_memories(self, p: int, now: float, user_id: str) -> int:
        deleted: int = await self._conn.run("clear_memories", p, now, user_id)
        return deleted

    # -------------------------------------------------------------- working memory

    async def store_working(
        self, p: int, now: float, record: WorkingMemory, ttl: float | None
    ) -> WorkingMemory:
        expires = None if ttl is None else now + ttl
        stored = attrs.evolve(record, updated_at=now, expires_at=expires)
        fields, ix = working_fields(stored)
        created = await self._conn.run(
            "store_working", p, now, f"{record.conversation_id}{NUL}{record.memory_type}",
            ts(ttl), ts(expires), ts(record.created_at), ix, str(len(fields) // 2), *fields,
        )  # fmt: skip
        return attrs.evolve(stored, created_at=float(created))

    async def retrieve_working(
        self, p: int, now: float, conversation_id: str, memory_type: str
    ) -> WorkingMemory | None:
        value = await self._conn.run(
            "retrieve_working",
            p,
            now,
            f"{conversation_id}{NUL}{memory_type}",
            self._read["working"],
        )
        return None if value is None else decode_working(value)

    async def update_working(
        self,
        p: int,
        now: float,
        conversation_id: str,
        memory_type: str,
        data: str,
        metadata: Any,
        ttl: float | Default | None,
    ) -> WorkingMemory:
        if ttl is DEFAULT:
            mode, ttl_s, expires_s = "keep", "", ""
        else:
            assert not isinstance(ttl, Default)
            mode, ttl_s, expires_s = "set", ts(ttl), ts(None if ttl is None else now + ttl)
        value = await self._conn.run(
            "update_working", p, now, f"{conversation_id}{NUL}{memory_type}", data,
            _flag(metadata is not None), "" if metadata is None else dumps(dict(metadata)),
            mode, ttl_s, expires_s, self._update_working,
        )  # fmt: skip
        if value is None:
            raise NotFound(
                f"no working memory {memory_type!r} for conversation {conversation_id!r}"
            )
        return decode_working(value)

    async def delete_working(
        self, p: int, now: float, conversation_id: str, memory_type: str
    ) -> bool:
        return bool(
            await self._conn.run("delete_working", p, now, f"{conversation_id}{NUL}{memory_type}")
        )

    # ------------------------------------------------------------------- knowledge

    async def upsert_doc(
        self, p: int, now: float, doc: KnowledgeDoc, ttl: float | None
    ) -> KnowledgeDoc:
        expires = None if ttl is None else now + ttl
        stored = attrs.evolve(doc, updated_at=now, expires_at=expires)
        fields, ix = doc_fields(stored)
        created = await self._conn.run(
            "upsert_doc", p, now, doc.doc_id, ts(ttl), ts(expires), ts(doc.created_at), ix,
            str(len(fields) // 2), *fields,
        )  # fmt: skip
        return attrs.evolve(stored, created_at=float(created))

    async def get_doc(self, p: int, now: float, doc_id: str) -> KnowledgeDoc | None:
        value = await self._conn.run("get_doc", p, now, doc_id, self._read["knowledge"])
        return None if value is None else decode_doc(value)

    async def list_docs(self, p: int, now: float, query: KnowledgeQuery, k: int | None) -> Ranked:
        by_created = query.order_by == "created_at"
        return await scan_index(
            self._conn, p, now, f"ki:{'c' if by_created else 'u'}", "k", ("-inf", "+inf"),
            query.descending, k, _doc_entry(by_created),
            lambda doc: query.status is None or doc.status == query.status,
        )  # fmt: skip

    async def delete_doc(self, p: int, now: float, doc_id: str) -> bool:
        return bool(await self._conn.run("delete_doc", p, now, doc_id))

    # ------------------------------------------------------- whole-partition operations

    async def clear(self, p: int, now: float) -> int:
        total = await self._clear_langgraph(p, now)
        while True:
            reply = await self._conn.run("clear", p, now, _CLEAR_BATCH)
            removed, done = int(reply[0]), int(reply[1])
            total += removed
            if done:
                return total

    async def export(self, p: int, now: float) -> dict[str, list[Any]]:
        """Every live record of the partition with the TTL it was last written with
        (``(record, ttl or None)`` pairs, as ``ShardStore.export``)."""
        everything = ("-inf", "+inf")
        sessions = await scan_index(
            self._conn, p, now, "si:u:all", "s", everything, False, None, _session_entry, _any
        )  # fmt: skip
        memories = await scan_index(
            self._conn, p, now, "mi:u:all", "m", everything, False, None,
            _timed(decode_memory), _any,
        )  # fmt: skip
        docs = await scan_index(
            self._conn, p, now, "ki:u", "k", everything, False, None, _timed(decode_doc), _any
        )  # fmt: skip
        working = await self._conn.run("dump_working", p, now)
        return {
            "sessions": [pair for _, pair in sessions],
            "memories": [pair for _, pair in memories],
            "working": [(decode_working(value), _ttl(value)) for value in working],
            "knowledge": [pair for _, pair in docs],
        }

    async def counts(self, p: int, now: float) -> StoreCounts:
        flat, entries, first = await self._conn.run("counts", p, now)
        n = {key: int(value) for key, value in fields_of(flat).items()}
        return StoreCounts(
            sessions=n.get("sessions", 0),
            runs=n.get("runs", 0),
            memories=n.get("memories", 0),
            working=n.get("working", 0),
            knowledge=n.get("knowledge", 0),
            expiry_entries=int(entries),
            next_deadline=num(first),
            expired_sessions=n.get("expired_sessions", 0),
            expired_memories=n.get("expired_memories", 0),
            expired_working=n.get("expired_working", 0),
            expired_knowledge=n.get("expired_knowledge", 0),
        )

    async def sweep(self, p: int, now: float, limit: int) -> int:
        removed: int = await self._conn.run("sweep", p, now, str(limit))
        return removed + await self._sweep_langgraph(p, now, limit)


def _any(_: Any) -> bool:
    return True


def _ttl(flat: Any) -> float | None:
    """The TTL (seconds) a record's hash says it was last written with."""
    return num(fields_of(flat).get("t"))


def _timed(decode: Any) -> Any:
    """An index entry ``((updated_at, ...), (record, ttl))`` for :meth:`RedisOps.dump`."""

    def entry(value: Any) -> tuple[tuple[float, Any], tuple[Any, float | None]]:
        record = decode(value)
        return (record.updated_at, ""), (record, _ttl(value))

    return entry


def _session_entry(value: Any) -> tuple[tuple[float, Any], Any]:
    flat, runs = value
    fields = fields_of(flat)
    session = decode_session(json.loads(fields["ix"])["id"], fields, runs)
    assert session.updated_at is not None
    return (session.updated_at, session.session_id), (session, num(fields.get("t")))
