"""The pure shard store: one shard's records, indexes, TTLs and counters.

No trio, no actors: every method takes ``now`` (epoch seconds) and never reads a
clock. Only the shard's owner task calls it. A method validates everything before it
mutates anything, so a request that raises leaves the store as it was.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator
from typing import Any, Final, TypeVar

from engine._config import KIND_NAMES, EngineConfig
from engine._errors import NotFound, OwnershipError
from engine._expiry import ExpiryIndex
from engine._knowledge_table import KnowledgeTable
from engine._memory_table import MemoryTable
from engine._queries import KnowledgeQuery, MemoryQuery, SessionQuery
from engine._records import (
    KnowledgeDoc,
    Message,
    Run,
    Session,
    SessionSummary,
    UserMemory,
    WorkingMemory,
    replace,
)
from engine._session_table import SessionTable
from engine._statistics import StoreCounts
from engine._validate import DEFAULT, Default

__all__ = ["KNOWLEDGE", "MEMORY", "SESSION", "WORKING", "ShardStore"]

SESSION: Final = 0
MEMORY: Final = 1
WORKING: Final = 2
KNOWLEDGE: Final = 3

R = TypeVar("R")
Ranked = list[tuple[tuple[float, Any], R]]
TTL = float | None


def _stamp_runs(runs: tuple[Run, ...], now: float) -> tuple[Run, ...]:
    if all(
        r.created_at is not None and all(m.created_at is not None for m in r.messages) for r in runs
    ):
        return runs
    return tuple(_stamp_run(run, now) for run in runs)


def _stamp_run(run: Run, now: float) -> Run:
    messages = run.messages
    if any(m.created_at is None for m in messages):
        messages = tuple(
            m if m.created_at is not None else replace(m, created_at=now) for m in messages
        )
    created = now if run.created_at is None else run.created_at
    if messages is run.messages and created == run.created_at:
        return run
    return replace(run, messages=messages, created_at=created)


def _take(
    entries: Iterator[tuple[float, Any, R]], k: int | None, now: float
) -> tuple[Ranked[R], list[Any]]:
    """Up to ``k`` live entries of ``entries`` as ``((timestamp, key), record)``, and
    the keys of the expired records met on the way."""
    taken: Ranked[R] = []
    expired: list[Any] = []
    if k == 0:
        return taken, expired
    for timestamp, key, record in entries:
        expires = record.expires_at  # type: ignore[attr-defined]
        if expires is not None and expires <= now:
            expired.append(key)
            continue
        taken.append(((timestamp, key), record))
        if k is not None and len(taken) >= k:
            break
    return taken, expired


class ShardStore:
    """Everything one shard holds: sessions, user memories, working memory, knowledge.

    Args:
        config: the engine configuration (TTL policies per kind).

    Every record with a deadline is in the :class:`ExpiryIndex`; an expired record is
    invisible at once (checked on access) and removed by :meth:`expire_due`, which
    also cleans every secondary index.
    """

    def __init__(self, config: EngineConfig) -> None:
        self._config = config
        self._policies = tuple(config.policy(name) for name in KIND_NAMES)
        self.sessions = SessionTable()
        self.memories = MemoryTable()
        self.working: dict[tuple[str, str], WorkingMemory] = {}
        self.knowledge = KnowledgeTable()
        self.expiry = ExpiryIndex()
        self._ttls: dict[tuple[int, Hashable], float] = {}
        self._expired = [0, 0, 0, 0]
        #: Reads that restarted a TTL (refresh_on_read): state changes to journal.
        self.touches = 0

    # ----------------------------------------------------------------- TTL plumbing

    def _set_deadline(self, kind: int, key: Hashable, ttl: TTL, expires: float | None) -> None:
        self.expiry.set(kind, key, expires)
        if ttl is None:
            self._ttls.pop((kind, key), None)
        else:
            self._ttls[(kind, key)] = ttl

    def _forget_deadline(self, kind: int, key: Hashable) -> None:
        self.expiry.discard(kind, key)
        self._ttls.pop((kind, key), None)

    def _refreshed(
        self, kind: int, key: Hashable, now: float, current: float | None
    ) -> float | None:
        """The deadline after a partial update: restarted if the policy says so."""
        ttl = self._ttls.get((kind, key))
        if ttl is None or not self._policies[kind].refresh_on_update:
            return current
        return now + ttl

    def _touch(self, kind: int, key: Hashable, record: R, now: float) -> R:
        """Apply ``refresh_on_read``: restart the TTL of a record just read."""
        ttl = self._ttls.get((kind, key))
        if ttl is None or not self._policies[kind].refresh_on_read:
            return record
        expires = now + ttl
        record = replace(record, expires_at=expires)
        self.expiry.set(kind, key, expires)
        self.touches += 1
        table: Any = self._records_of(kind)
        table[key] = record  # sort keys (created/updated) unchanged: no reindexing
        return record

    def _records_of(self, kind: int) -> dict[Any, Any]:
        if kind == SESSION:
            return self.sessions.records
        if kind == MEMORY:
            return self.memories.records
        if kind == WORKING:
            return self.working
        return self.knowledge.records

    def _remove(self, kind: int, key: Any) -> Any:
        self._forget_deadline(kind, key)
        if kind == SESSION:
            return self.sessions.remove(key)
        if kind == MEMORY:
            return self.memories.remove(key)
        if kind == WORKING:
            return self.working.pop(key, None)
        return self.knowledge.remove(key)

    def _expire(self, kind: int, key: Any) -> None:
        if self._remove(kind, key) is not None:
            self._expired[kind] += 1

    @staticmethod
    def _alive(record: Any, now: float) -> bool:
        expires = record.expires_at
        return expires is None or expires > now

    def _live(self, kind: int, key: Any, now: float) -> Any:
        record = self._records_of(kind).get(key)
        if record is not None and record.expires_at is not None and record.expires_at <= now:
            self._expire(kind, key)
            return None
        return record

    def _deadline(self, now: float, ttl: TTL) -> float | None:
        return None if ttl is None else now + ttl

    def next_deadline(self) -> float | None:
        """The earliest deadline (epoch seconds) of any record, or ``None``. O(1)."""
        return self.expiry.next_deadline()

    def expire_due(self, now: float, limit: int | float = math.inf) -> int:
        """Remove up to ``limit`` records whose deadline is <= ``now``; return how many.

        Complexity: O(k log n) for k records removed.
        """
        removed = 0
        while removed < limit:
            due = self.expiry.pop_due(now, int(min(limit - removed, 1024)))
            if not due:
                break
            for kind, key in due:
                self._ttls.pop((kind, key), None)
                if self._remove(kind, key) is not None:
                    self._expired[kind] += 1
            removed += len(due)
        return removed

    # ------------------------------------------------------------------- sessions

    def _session_for(self, now: float, session_id: str, user_id: str | None) -> Session:
        session: Session | None = self._live(SESSION, session_id, now)
        if session is None or (user_id is not None and session.user_id != user_id):
            scope = "" if user_id is None else f" for user {user_id!r}"
            raise NotFound(f"no session {session_id!r}{scope}")
        return session

    def upsert_session(self, now: float, session: Session, ttl: TTL) -> Session:
        """Insert or replace a session; ``created_at`` is kept from the stored one.

        Raises:
            OwnershipError: if the stored session has another ``user_id``.
        """
        sid = session.session_id
        old: Session | None = self._live(SESSION, sid, now)
        if old is not None and old.user_id is not None and session.user_id != old.user_id:
            raise OwnershipError(
                f"session {sid!r} is owned by another user; got user_id={session.user_id!r}"
            )
        if old is not None:
            created = old.created_at
        else:
            created = now if session.created_at is None else session.created_at
        summary = session.summary
        if summary is not None and summary.updated_at is None:
            summary = replace(summary, updated_at=now)
        expires = self._deadline(now, ttl)
        stored = replace(
            session,
            runs=_stamp_runs(session.runs, now),
            summary=summary,
            created_at=created,
            updated_at=now,
            expires_at=expires,
        )
        self.sessions.put(stored)
        self._set_deadline(SESSION, sid, ttl, expires)
        return stored

    def _update_session(self, now: float, old: Session, **changes: Any) -> Session:
        sid = old.session_id
        expires = self._refreshed(SESSION, sid, now, old.expires_at)
        new = replace(old, updated_at=now, expires_at=expires, **changes)
        self.sessions.put(new)
        if expires != old.expires_at:
            self.expiry.set(SESSION, sid, expires)
        return new

    def get_session(
        self, now: float, session_id: str, user_id: str | None, runs_limit: int | None
    ) -> Session | None:
        """The live session, or ``None`` (also when scoped to another user)."""
        session: Session | None = self._live(SESSION, session_id, now)
        if session is None or (user_id is not None and session.user_id != user_id):
            return None
        session = self._touch(SESSION, session_id, session, now)
        if runs_limit is not None and runs_limit < len(session.runs):
            runs = session.runs[len(session.runs) - runs_limit :]
            session = replace(session, runs=runs)
        return session

    def list_sessions(self, now: float, query: SessionQuery, k: int | None) -> Ranked[Session]:
        """The first ``k`` live sessions matching ``query``, with their sort keys."""
        taken, expired = _take(self.sessions.scan(query), k, now)
        for key in expired:
            self._expire(SESSION, key)
        return taken

    def rename_session(
        self, now: float, session_id: str, name: str, user_id: str | None
    ) -> Session:
        """Set a session's name. Raises ``NotFound``."""
        return self._update_session(now, self._session_for(now, session_id, user_id), name=name)

    def delete_sessions(self, now: float, session_ids: tuple[str, ...], user_id: str | None) -> int:
        """Delete the live sessions among ``session_ids`` (scoped); return how many."""
        deleted = 0
        for sid in session_ids:
            session: Session | None = self._live(SESSION, sid, now)
            if session is not None and (user_id is None or session.user_id == user_id):
                self._remove(SESSION, sid)
                deleted += 1
        return deleted

    def append_run(self, now: float, session_id: str, run: Run, user_id: str | None) -> Run:
        """Append ``run``, or replace the run with the same ``run_id`` in place.

        Raises ``NotFound``. O(runs in the session).
        """
        session = self._session_for(now, session_id, user_id)
        run = _stamp_run(run, now)
        runs = session.runs
        for index in range(len(runs) - 1, -1, -1):
            if runs[index].run_id == run.run_id:
                runs = (*runs[:index], run, *runs[index + 1 :])
                break
        else:
            runs = (*runs, run)
        self._update_session(now, session, runs=runs)
        return run

    def get_runs(
        self, now: float, session_id: str, last_n: int | None, user_id: str | None
    ) -> tuple[Run, ...]:
        """The session's runs (the last ``last_n`` if given), oldest first."""
        session = self._touch(SESSION, session_id, self._session_for(now, session_id, user_id), now)
        runs = session.runs
        if last_n is not None:
            runs = runs[len(runs) - last_n :] if last_n < len(runs) else runs
        return runs

    def get_messages(
        self,
        now: float,
        session_id: str,
        last_n_runs: int | None,
        roles: frozenset[str] | None,
        user_id: str | None,
    ) -> list[Message]:
        """The messages of the session's (last ``last_n_runs``) runs, in order."""
        runs = self.get_runs(now, session_id, last_n_runs, user_id)
        if roles is None:
            return [message for run in runs for message in run.messages]
        return [message for run in runs for message in run.messages if message.role in roles]

    def set_summary(
        self, now: float, session_id: str, summary: SessionSummary, user_id: str | None
    ) -> SessionSummary:
        """Set the session's summary (``updated_at`` = now). Raises ``NotFound``."""
        session = self._session_for(now, session_id, user_id)
        summary = replace(summary, updated_at=now)
        self._update_session(now, session, summary=summary)
        return summary

    def get_summary(
        self, now: float, session_id: str, user_id: str | None
    ) -> SessionSummary | None:
        """The session's summary or ``None``. Raises ``NotFound`` if no session."""
        session = self._session_for(now, session_id, user_id)
        return self._touch(SESSION, session_id, session, now).summary

    # ------------------------------------------------------------------- memories

    def upsert_memory(self, now: float, memory: UserMemory, ttl: TTL) -> UserMemory:
        """Insert or replace a user memory (``memory_id`` must be set)."""
        assert memory.memory_id is not None
        key = (memory.user_id, memory.memory_id)
        old: UserMemory | None = self._live(MEMORY, key, now)
        if old is not None:
            created = old.created_at
        else:
            created = now if memory.created_at is None else memory.created_at
        expires = self._deadline(now, ttl)
        stored = replace(memory, created_at=created, updated_at=now, expires_at=expires)
        self.memories.put(stored)
        self._set_deadline(MEMORY, key, ttl, expires)
        return stored

    def get_memory(self, now: float, user_id: str, memory_id: str) -> UserMemory | None:
        """The live memory or ``None``."""
        key = (user_id, memory_id)
        memory: UserMemory | None = self._live(MEMORY, key, now)
        return None if memory is None else self._touch(MEMORY, key, memory, now)

    def list_memories(self, now: float, query: MemoryQuery, k: int | None) -> Ranked[UserMemory]:
        """The first ``k`` live memories matching ``query``, with their sort keys."""
        taken, expired = _take(self.memories.scan(query), k, now)
        for key in expired:
            self._expire(MEMORY, key)
        return taken

    def search_memories(
        self, now: float, user_id: str, query: str, method: str, limit: int
    ) -> list[UserMemory]:
        """A user's memories by ``method``: ``"keyword"`` (BM25-ranked, best first),
        ``"last_n"`` (the newest ``limit`` updates, oldest first) or ``"first_n"``
        (the oldest ``limit``, oldest first)."""
        if method == "keyword":
            while True:
                ranked = self.memories.keywords.search(user_id, query, limit)
                keys = [(user_id, mid) for _, mid in ranked]
                found = [self._live(MEMORY, key, now) for key in keys]
                if all(memory is not None for memory in found):
                    return [
                        self._touch(MEMORY, k, m, now) for k, m in zip(keys, found, strict=True)
                    ]
        scan = MemoryQuery(user_id=user_id, descending=method == "last_n")
        memories = [memory for _, memory in self.list_memories(now, scan, limit)]
        if method == "last_n":
            memories.reverse()
        return [self._touch(MEMORY, (user_id, m.memory_id), m, now) for m in memories]

    def memory_topics(self, now: float, user_id: str | None) -> list[str]:
        """The topics of live memories (of one user, or all), sorted.

        A topic counts if one of its memories is live (checked with an early exit,
        so usually one look-up per topic); nothing is swept here. O(t) for t
        ``(user, topic)`` pairs considered.
        """
        memories = self.memories
        if user_id is None:
            pairs: Iterator[tuple[str, str]] = iter(memories.by_topic)
        else:
            pairs = ((user_id, topic) for topic in memories.topic_counts.get(user_id, ()))
        found = set()
        for user, topic in pairs:
            if topic in found:
                continue
            if any(
                self._alive(memories.records[(user, mid)], now)
                for mid in memories.by_topic[(user, topic)]
            ):
                found.add(topic)
        return sorted(found)

    def delete_memory(self, now: float, user_id: str, memory_id: str) -> bool:
        """Delete one memory; ``False`` if there was no live one."""
        key = (user_id, memory_id)
        if self._live(MEMORY, key, now) is None:
            return False
        self._remove(MEMORY, key)
        return True

    def clear_memories(self, now: float, user_id: str) -> int:
        """Delete every memory of ``user_id``; return how many live ones were deleted."""
        deleted = 0
        for key in self.memories.user_keys(user_id):
            if self._live(MEMORY, key, now) is not None:
                self._remove(MEMORY, key)
                deleted += 1
        return deleted

    # -------------------------------------------------------------- working memory

    def store_working(self, now: float, record: WorkingMemory, ttl: TTL) -> WorkingMemory:
        """Insert or replace working memory; ``created_at`` kept from the stored one."""
        key = (record.conversation_id, record.memory_type)
        old: WorkingMemory | None = self._live(WORKING, key, now)
        created = old.created_at if old is not None else now
        expires = self._deadline(now, ttl)
        stored = replace(record, created_at=created, updated_at=now, expires_at=expires)
        self.working[key] = stored
        self._set_deadline(WORKING, key, ttl, expires)
        return stored

    def retrieve_working(
        self, now: float, conversation_id: str, memory_type: str
    ) -> WorkingMemory | None:
        """The live working memory or ``None``."""
        key = (conversation_id, memory_type)
        record: WorkingMemory | None = self._live(WORKING, key, now)
        return None if record is None else self._touch(WORKING, key, record, now)

    def update_working(
        self,
        now: float,
        conversation_id: str,
        memory_type: str,
        data: str,
        metadata: Any,
        ttl: TTL | Default,
    ) -> WorkingMemory:
        """Replace the data (and metadata, unless ``None``) of existing working memory.

        The TTL: an explicit ``ttl`` sets a new one; ``DEFAULT`` restarts the stored
        TTL if ``refresh_on_update`` (the default for working memory), else keeps the
        deadline. Raises ``NotFound``.
        """
        key = (conversation_id, memory_type)
        old: WorkingMemory | None = self._live(WORKING, key, now)
        if old is None:
            raise NotFound(
                f"no working memory {memory_type!r} for conversation {conversation_id!r}"
            )
        changes: dict[str, Any] = {"data": data, "updated_at": now}
        if metadata is not None:
            changes["metadata"] = metadata
        if ttl is DEFAULT:
            expires = self._refreshed(WORKING, key, now, old.expires_at)
            new = replace(old, expires_at=expires, **changes)
            self.expiry.set(WORKING, key, expires)
        else:
            assert not isinstance(ttl, Default)
            expires = self._deadline(now, ttl)
            new = replace(old, expires_at=expires, **changes)
            self._set_deadline(WORKING, key, ttl, expires)
        self.working[key] = new
        return new

    def delete_working(self, now: float, conversation_id: str, memory_type: str) -> bool:
        """Delete working memory; ``False`` if there was no live one."""
        key = (conversation_id, memory_type)
        if self._live(WORKING, key, now) is None:
            return False
        self._remove(WORKING, key)
        return True

    # ------------------------------------------------------------------ knowledge

    def upsert_doc(self, now: float, doc: KnowledgeDoc, ttl: TTL) -> KnowledgeDoc:
        """Insert or replace a knowledge document."""
        old: KnowledgeDoc | None = self._live(KNOWLEDGE, doc.doc_id, now)
        if old is not None:
            created = old.created_at
        else:
            created = now if doc.created_at is None else doc.created_at
        expires = self._deadline(now, ttl)
        stored = replace(doc, created_at=created, updated_at=now, expires_at=expires)
        self.knowledge.put(stored)
        self._set_deadline(KNOWLEDGE, doc.doc_id, ttl, expires)
        return stored

    def get_doc(self, now: float, doc_id: str) -> KnowledgeDoc | None:
        """The live document or ``None``."""
        doc: KnowledgeDoc | None = self._live(KNOWLEDGE, doc_id, now)
        return None if doc is None else self._touch(KNOWLEDGE, doc_id, doc, now)

    def list_docs(self, now: float, query: KnowledgeQuery, k: int | None) -> Ranked[KnowledgeDoc]:
        """The first ``k`` live documents matching ``query``, with their sort keys."""
        taken, expired = _take(self.knowledge.scan(query), k, now)
        for key in expired:
            self._expire(KNOWLEDGE, key)
        return taken

    def delete_doc(self, now: float, doc_id: str) -> bool:
        """Delete a document; ``False`` if there was no live one."""
        if self._live(KNOWLEDGE, doc_id, now) is None:
            return False
        self._remove(KNOWLEDGE, doc_id)
        return True

    # -------------------------------------------------------- whole-store operations

    def clear(self, now: float) -> int:
        """Remove every record; return how many live records there were. O(n)."""
        count = sum(
            self._alive(record, now)
            for kind in (SESSION, MEMORY, WORKING, KNOWLEDGE)
            for record in self._records_of(kind).values()
        )
        self.sessions.clear()
        self.memories.clear()
        self.working.clear()
        self.knowledge.clear()
        self.expiry.clear()
        self._ttls.clear()
        return count

    def dump(self, now: float) -> dict[str, list[Any]]:
        """Every live record, by kind (``sessions``, ``memories``, ``working``, ``knowledge``).

        O(n); records are immutable, so the lists share them with the store.
        """
        return {
            name: [r for r in self._records_of(kind).values() if self._alive(r, now)]
            for name, kind in (
                ("sessions", SESSION),
                ("memories", MEMORY),
                ("working", WORKING),
                ("knowledge", KNOWLEDGE),
            )
        }

    @staticmethod
    def identity(record: Any) -> tuple[int, Hashable]:
        """The ``(kind, key)`` of a record. Raises ``TypeError`` for a non-record."""
        if isinstance(record, Session):
            return SESSION, record.session_id
        if isinstance(record, UserMemory):
            return MEMORY, (record.user_id, record.memory_id)
        if isinstance(record, WorkingMemory):
            return WORKING, (record.conversation_id, record.memory_type)
        if isinstance(record, KnowledgeDoc):
            return KNOWLEDGE, record.doc_id
        raise TypeError(f"expected a record, got {type(record).__name__}")

    def ttl_of(self, record: Any) -> float | None:
        """The TTL (seconds) the record was last written with, or ``None``. O(1)."""
        return self._ttls.get(self.identity(record))

    def load(self, now: float, record: Any, ttl: float | None = None) -> bool:
        """Put a restored record back as it was (timestamps kept); ``False`` if it
        had already expired at ``now``.

        ``ttl`` is the TTL later refreshes restart; when ``None`` it is taken as
        ``expires_at - updated_at``.
        """
        kind, key = self.identity(record)
        expires = record.expires_at
        if expires is not None and expires <= now:
            return False
        if kind == SESSION:
            self.sessions.put(record)
        elif kind == MEMORY:
            self.memories.put(record)
        elif kind == WORKING:
            self.working[key] = record  # type: ignore[index]
        else:
            self.knowledge.put(record)
        if expires is not None and ttl is None:
            ttl = max(expires - record.updated_at, 1e-9)
        self._set_deadline(kind, key, None if expires is None else ttl, expires)
        return True

    def counts(self) -> StoreCounts:
        """Counts of live records and expirations. O(1)."""
        return StoreCounts(
            sessions=len(self.sessions.records),
            runs=self.sessions.runs,
            memories=len(self.memories.records),
            working=len(self.working),
            knowledge=len(self.knowledge.records),
            expiry_entries=len(self.expiry),
            next_deadline=self.expiry.next_deadline(),
            expired_sessions=self._expired[SESSION],
            expired_memories=self._expired[MEMORY],
            expired_working=self._expired[WORKING],
            expired_knowledge=self._expired[KNOWLEDGE],
        )

    def _check(self) -> None:
        """Assert every invariant of every table and index (for tests)."""
        self.sessions._check()
        self.memories._check()
        self.knowledge._check()
        self.expiry._check()
        for kind in (SESSION, MEMORY, WORKING, KNOWLEDGE):
            for key, record in self._records_of(kind).items():
                assert self.expiry.deadline(kind, key) == record.expires_at
        assert set(self._ttls) <= set(self.expiry._deadlines)
