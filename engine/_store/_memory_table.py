"""The user memories of one shard: ordered per user, by topic, and keyword-searchable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterator

from engine._core._queries import MemoryQuery
from engine._core._records import UserMemory
from engine._core._text import memory_terms
from engine._store._keyword import KeywordIndex
from engine._store._ordered import OrderedGroups

__all__ = ["MemoryTable", "members"]

_ALL = ("all",)
MemoryKey = tuple[str, str]  # (user_id, memory_id)


def members(ids: str | set[str] | None) -> Collection[str]:
    """The memory ids of a ``by_topic`` entry: an inline id, a set, or none. O(1)."""
    if ids is None:
        return ()
    return (ids,) if isinstance(ids, str) else ids


class MemoryTable:
    """User memories keyed by ``(user_id, memory_id)`` with their indexes:

    - ordered by ``updated_at`` and ``created_at``, per user and over all users;
    - per user, per topic, the memory ids (``by_topic[user][topic]``): the id itself
      when one memory has the topic (most topics, in a user's memories), a set of two
      or more otherwise (see :func:`members`);
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
        self.records: dict[MemoryKey, UserMemory] = {}
        self.by_updated = OrderedGroups()
        self.by_created = OrderedGroups()
        self.by_topic: dict[str, dict[str, str | set[str]]] = {}
        self.keywords = KeywordIndex()

    def put(self, memory: UserMemory) -> None:
        """Insert or replace ``memory`` (``memory_id`` and timestamps must be set).

        All or nothing: if an index update fails part-way (e.g. ``MemoryError``), the
        previous memory is back in every index and the error propagates.
        """
        user, mid = memory.user_id, memory.memory_id
        assert mid is not None
        key = (user, mid)
        terms = memory_terms(memory.memory, memory.topics)  # before anything changes
        old = self.records.get(key)
        if old is not None:
            self.remove(key)
        try:
            self._add(memory, terms)
        except BaseException:
            self._scrub(memory)
            if old is not None:
                self._add(old, memory_terms(old.memory, old.topics))
            raise

    def _add(self, memory: UserMemory, terms: Counter[str]) -> None:
        user, mid = memory.user_id, memory.memory_id
        assert mid is not None
        key = (user, mid)
        self.records[key] = memory
        groups = (_ALL, ("user", user))
        self.by_updated.add_to(groups, memory.updated_at, key)  # type: ignore[arg-type]
        self.by_created.add_to(groups, memory.created_at, key)  # type: ignore[arg-type]
        if memory.topics:
            topics = self.by_topic.get(user)
            if topics is None:
                topics = self.by_topic[user] = {}
            for topic in memory.topics:
                ids = topics.get(topic)
                if ids is None:
                    topics[topic] = mid  # inline: the topic's only memory
                elif isinstance(ids, str):
                    if ids != mid:
                        topics[topic] = {ids, mid}
                else:
                    ids.add(mid)
        self.keywords.add(user, mid, terms)

    def _scrub(self, memory: UserMemory) -> None:
        """Remove every trace of ``memory`` from every index, tolerating a half-done
        add or remove (the rollback path)."""
        user, mid = memory.user_id, memory.memory_id
        assert mid is not None
        key = (user, mid)
        if self.records.get(key) is memory:
            del self.records[key]
        groups = (_ALL, ("user", user))
        self.by_updated.discard_from(groups, memory.updated_at, key)  # type: ignore[arg-type]
        self.by_created.discard_from(groups, memory.created_at, key)  # type: ignore[arg-type]
        topics = self.by_topic.get(user)
        if topics is not None:
            for topic in set(memory.topics):
                ids = topics.get(topic)
                if ids is None:
                    continue
                if isinstance(ids, str):
                    if ids == mid:
                        del topics[topic]
                    continue
                ids.discard(mid)
                if len(ids) == 1:
                    (topics[topic],) = ids
                elif not ids:
                    del topics[topic]
            if not topics:
                del self.by_topic[user]
        self.keywords.discard(user, mid)

    def remove(self, key: MemoryKey) -> UserMemory | None:
        """Remove and return the memory at ``(user_id, memory_id)``, or ``None``.

        All or nothing, as :meth:`put`.
        """
        memory = self.records.get(key)
        if memory is None:
            return None
        try:
            self._remove(memory)
        except BaseException:
            self._scrub(memory)
            self._add(memory, memory_terms(memory.memory, memory.topics))
            raise
        return memory

    def _remove(self, memory: UserMemory) -> None:
        user, mid = memory.user_id, memory.memory_id
        assert mid is not None
        key = (user, mid)
        del self.records[key]
        groups = (_ALL, ("user", user))
        self.by_updated.remove_from(groups, memory.updated_at, key)  # type: ignore[arg-type]
        self.by_created.remove_from(groups, memory.created_at, key)  # type: ignore[arg-type]
        if memory.topics:
            topics = self.by_topic[user]
            for topic in set(memory.topics):  # a topic may be repeated
                ids = topics[topic]
                if isinstance(ids, str):  # ``mid`` was the topic's only memory
                    del topics[topic]
                    continue
                ids.discard(mid)
                if len(ids) == 1:
                    (topics[topic],) = ids
            if not topics:
                del self.by_topic[user]
        self.keywords.remove(user, mid)

    def user_keys(self, user: str) -> list[MemoryKey]:
        """Every ``(user, memory_id)`` of ``user``, oldest update first. O(k)."""
        return [key for _, key in self.by_updated.scan(("user", user), descending=False)]

    def scan(self, query: MemoryQuery) -> Iterator[tuple[float, MemoryKey, UserMemory]]:
        """Memories matching ``query`` in its order, as ``(timestamp, key, memory)``.

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
            candidates.sort(
                key=lambda m: (m.created_at if by_created else m.updated_at, m.memory_id),
                reverse=query.descending,
            )
            entries: Iterator[tuple[float, MemoryKey]] = (
                (m.created_at if by_created else m.updated_at, (m.user_id, m.memory_id))  # type: ignore[misc]
                for m in candidates
            )
        else:
            index = self.by_created if by_created else self.by_updated
            entries = index.scan(group, descending=query.descending)
        needle = None if query.text is None else query.text.casefold()
        wanted = None if query.topics is None else set(query.topics)
        for timestamp, key in entries:
            memory = self.records[key]
            if wanted is not None and wanted.isdisjoint(memory.topics):
                continue
            if query.agent_id is not None and memory.agent_id != query.agent_id:
                continue
            if query.team_id is not None and memory.team_id != query.team_id:
                continue
            if needle is not None and needle not in memory.memory.casefold():
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
            # inline when one memory has the topic, a set of two or more otherwise
            assert topics and all(isinstance(v, str) or len(v) >= 2 for v in topics.values())
        topic_total = sum(
            len(members(ids)) for topics in self.by_topic.values() for ids in topics.values()
        )
        assert topic_total == sum(len(set(m.topics)) for m in self.records.values())
        indexed = {(user, doc) for user, docs in self.keywords._doc_terms.items() for doc in docs}
        assert indexed == self.records.keys(), "keyword index and records disagree"
        for (user, mid), memory in self.records.items():
            assert memory.user_id == user and memory.memory_id == mid
            for topic in memory.topics:
                assert mid in members(self.by_topic[user][topic])
