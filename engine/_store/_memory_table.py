"""The user memories of one shard: ordered per user, by topic, and keyword-searchable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterator

from engine._core._queries import MemoryQuery
from engine._core._rows import (
    CREATED,
    M_AGENT,
    M_ID,
    M_MEMORY,
    M_TEAM,
    M_TOPICS,
    M_USER,
    UPDATED,
    Row,
)
from engine._core._text import memory_terms
from engine._store._keyword import KeywordIndex
from engine._store._ordered import OrderedGroups

__all__ = ["MemoryTable", "members"]

_ALL = ("all",)
MemoryKey = tuple[str, str]  # (user_id, memory_id)


#: A topic's ids are a tuple up to this many (atomic: the cyclic GC untracks it), a
#: set beyond (O(1) add and remove for a topic most of a user's memories share).
SMALL_TOPIC = 64

TopicIds = str | tuple[str, ...] | set[str]


def members(ids: TopicIds | None) -> Collection[str]:
    """The memory ids of a ``by_topic`` entry: an inline id, a tuple, a set, or none.

    O(1)."""
    if ids is None:
        return ()
    return (ids,) if isinstance(ids, str) else ids


def _with(ids: TopicIds | None, mid: str) -> TopicIds:
    """``ids`` with ``mid`` added (a new value, or the same set grown)."""
    if ids is None:
        return mid  # inline: the topic's only memory
    if isinstance(ids, str):
        return ids if ids == mid else (ids, mid)
    if isinstance(ids, tuple):
        if mid in ids:
            return ids
        return (*ids, mid) if len(ids) < SMALL_TOPIC else {*ids, mid}
    ids.add(mid)
    return ids


def _without(ids: TopicIds, mid: str) -> TopicIds | None:
    """``ids`` with ``mid`` removed (``None`` when none is left; a lone id inline)."""
    if isinstance(ids, str):
        return None if ids == mid else ids
    if isinstance(ids, tuple):
        rest = tuple([other for other in ids if other != mid])
    else:
        ids.discard(mid)
        if len(ids) > SMALL_TOPIC // 2:  # hysteresis: no flip-flop at the boundary
            return ids
        rest = tuple(sorted(ids))
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else rest


class MemoryTable:
    """User memory rows (``engine._core._rows``) keyed by ``(user_id, memory_id)``, with
    indexes that hold ids:

    - ordered by ``updated_at`` and ``created_at``, per user and over all users;
    - per user, per topic, the memory ids (``by_topic[user][topic]``): the id itself
      when one memory has the topic (most topics, in a user's memories), a tuple of
      up to :data:`SMALL_TOPIC`, a set beyond (see :func:`members`);
    - a BM25 keyword index per user (:class:`KeywordIndex`).

    Complexity: put/remove O(log n + terms + topics).
    """

    __slots__ = (
        "by_created",
        "by_topic",
        "by_updated",
        "keywords",
        "records",
    )

    def __init__(self) -> None:
        self.records: dict[MemoryKey, Row] = {}
        self.by_updated = OrderedGroups()
        self.by_created = OrderedGroups()
        self.by_topic: dict[str, dict[str, TopicIds]] = {}
        self.keywords = KeywordIndex()

    def put(self, memory: Row) -> None:
        """Insert or replace a memory row (``memory_id`` and timestamps must be set).

        All or nothing: if an index update fails part-way (e.g. ``MemoryError``), the
        previous memory is back in every index and the error propagates.
        """
        key = (memory[M_USER], memory[M_ID])
        terms = memory_terms(memory[M_MEMORY], memory[M_TOPICS])  # before anything changes
        old = self.records.get(key)
        if old is not None:
            self.remove(key)
        try:
            self._add(memory, terms)
        except BaseException:
            self._scrub(memory)
            if old is not None:
                self._add(old, memory_terms(old[M_MEMORY], old[M_TOPICS]))
            raise

    def _add(self, memory: Row, terms: Counter[str]) -> None:
        user, mid = memory[M_USER], memory[M_ID]
        key = (user, mid)
        self.records[key] = memory
        groups = (_ALL, ("user", user))
        self.by_updated.add_to(groups, memory[UPDATED], key)
        self.by_created.add_to(groups, memory[CREATED], key)
        if memory[M_TOPICS]:
            topics = self.by_topic.get(user)
            if topics is None:
                topics = self.by_topic[user] = {}
            for topic in memory[M_TOPICS]:
                topics[topic] = _with(topics.get(topic), mid)
        self.keywords.add(user, mid, terms)

    def load_many(self, rows: list[Row]) -> None:
        """Insert rows of memories not stored yet, building the indexes in bulk: each
        memory tokenized once and each user's postings packed once
        (:meth:`KeywordIndex.add_many`, given each user's memories together, in
        order), each ordered group sorted once. For recovery: not all or nothing."""
        records, by_topic = self.records, self.by_topic
        by_user: dict[str, list[Row]] = {}  # each user's rows, in order: one run each
        user_groups: dict[str, tuple[Hashable, ...]] = {}
        entries: list[tuple[tuple[Hashable, ...], MemoryKey, Row]] = []  # key: as in records
        for memory in rows:
            user, mid = memory[M_USER], memory[M_ID]
            key = (user, mid)
            if key in records:
                raise ValueError(f"load_many: memory {key!r} is already stored")
            records[key] = memory
            if memory[M_TOPICS]:
                topics = by_topic.get(user)
                if topics is None:
                    topics = by_topic[user] = {}
                for topic in memory[M_TOPICS]:
                    topics[topic] = _with(topics.get(topic), mid)
            batch = by_user.get(user)
            groups: tuple[Hashable, ...]
            if batch is None:
                by_user[user] = [memory]
                groups = user_groups[user] = (_ALL, ("user", user))
            else:
                batch.append(memory)
                groups = user_groups[user]
            entries.append((groups, key, memory))
        self.keywords.add_many(
            (m[M_USER], m[M_ID], memory_terms(m[M_MEMORY], m[M_TOPICS]))
            for batch in by_user.values()
            for m in batch
        )
        self.by_updated.add_many((groups, m[UPDATED], key) for groups, key, m in entries)
        self.by_created.add_many((groups, m[CREATED], key) for groups, key, m in entries)

    def _scrub(self, memory: Row) -> None:
        """Remove every trace of ``memory`` from every index, tolerating a half-done
        add or remove (the rollback path)."""
        user, mid = memory[M_USER], memory[M_ID]
        key = (user, mid)
        if self.records.get(key) is memory:
            del self.records[key]
        groups = (_ALL, ("user", user))
        self.by_updated.discard_from(groups, memory[UPDATED], key)
        self.by_created.discard_from(groups, memory[CREATED], key)
        topics = self.by_topic.get(user)
        if topics is not None:
            for topic in set(memory[M_TOPICS]):
                ids = topics.get(topic)
                if ids is None:
                    continue
                rest = _without(ids, mid)
                if rest is None:
                    del topics[topic]
                else:
                    topics[topic] = rest
            if not topics:
                del self.by_topic[user]
        self.keywords.discard(user, mid)

    def remove(self, key: MemoryKey) -> Row | None:
        """Remove and return the row at ``(user_id, memory_id)``, or ``None``.

        All or nothing, as :meth:`put`.
        """
        memory = self.records.get(key)
        if memory is None:
            return None
        try:
            self._remove(memory)
        except BaseException:
            self._scrub(memory)
            self._add(memory, memory_terms(memory[M_MEMORY], memory[M_TOPICS]))
            raise
        return memory

    def _remove(self, memory: Row) -> None:
        user, mid = memory[M_USER], memory[M_ID]
        key = (user, mid)
        del self.records[key]
        groups = (_ALL, ("user", user))
        self.by_updated.remove_from(groups, memory[UPDATED], key)
        self.by_created.remove_from(groups, memory[CREATED], key)
        if memory[M_TOPICS]:
            topics = self.by_topic[user]
            for topic in set(memory[M_TOPICS]):  # a topic may be repeated
                rest = _without(topics[topic], mid)
                if rest is None:
                    del topics[topic]
                else:
                    topics[topic] = rest
            if not topics:
                del self.by_topic[user]
        self.keywords.remove(user, mid, memory_terms(memory[M_MEMORY], memory[M_TOPICS]))

    def user_keys(self, user: str) -> list[MemoryKey]:
        """Every ``(user, memory_id)`` of ``user``, oldest update first. O(k)."""
        return [key for _, key in self.by_updated.scan(("user", user), descending=False)]

    def scan(self, query: MemoryQuery) -> Iterator[tuple[float, MemoryKey, Row]]:
        """Memory rows matching ``query`` in its order, as ``(timestamp, key, row)``.

        With a user and topics, the candidates come from the topic sets and are
        sorted (O(c log c) for c candidates); otherwise the ordered index of the user
        (or of all users) is walked lazily and filtered. Expired memories are
        included; the caller filters them.
        """
        by_created = query.order_by == "created_at"
        group: Hashable = _ALL if query.user_id is None else ("user", query.user_id)
        if query.user_id is not None and query.topics is not None:
            ids: set[str] = set()
            topics = self.by_topic.get(query.user_id, {})
            for topic in query.topics:
                ids.update(members(topics.get(topic)))
            candidates = [self.records[(query.user_id, mid)] for mid in ids]
            stamp = CREATED if by_created else UPDATED
            candidates.sort(key=lambda m: (m[stamp], m[M_ID]), reverse=query.descending)
            entries: Iterator[tuple[float, MemoryKey]] = (
                (m[stamp], (m[M_USER], m[M_ID])) for m in candidates
            )
        else:
            index = self.by_created if by_created else self.by_updated
            entries = index.scan(group, descending=query.descending)
        needle = None if query.text is None else query.text.casefold()
        wanted = None if query.topics is None else set(query.topics)
        for timestamp, key in entries:
            memory = self.records[key]
            if wanted is not None and wanted.isdisjoint(memory[M_TOPICS]):
                continue
            if query.agent_id is not None and memory[M_AGENT] != query.agent_id:
                continue
            if query.team_id is not None and memory[M_TEAM] != query.team_id:
                continue
            if needle is not None and needle not in memory[M_MEMORY].casefold():
                continue
            yield timestamp, key, memory

    def clear(self) -> None:
        """Remove every memory."""
        self.records.clear()
        self.by_updated.clear()
        self.by_created.clear()
        self.by_topic.clear()
        self.keywords.clear()

    def _check(self) -> None:
        """Assert invariants (for tests)."""
        self.by_updated._check()
        self.by_created._check()
        self.keywords._check()
        assert self.by_updated.size(_ALL) == len(self.records)
        for topics in self.by_topic.values():
            # inline when one memory has the topic, a tuple or set of two or more else
            assert topics and all(isinstance(v, str) or len(v) >= 2 for v in topics.values())
            assert all(len(set(members(v))) == len(members(v)) for v in topics.values())
        topic_total = sum(
            len(members(ids)) for topics in self.by_topic.values() for ids in topics.values()
        )
        assert topic_total == sum(len(set(m[M_TOPICS])) for m in self.records.values())
        indexed = {(user, doc) for user, docs in self.keywords._lengths.items() for doc in docs}
        assert indexed == self.records.keys(), "keyword index and records disagree"
        for (user, mid), memory in self.records.items():
            assert memory[M_USER] == user and memory[M_ID] == mid
            for topic in memory[M_TOPICS]:
                assert mid in members(self.by_topic[user][topic])
