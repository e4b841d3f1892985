"""The state machine's rules for user memories, working memory and knowledge (a mixin
of ``test_state_machine.EngineMachine``: it uses its ``model``, ``call``, ``expect`` and
``mem``)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    rule,
)

from engine import (
    KnowledgeDoc,
    NotFound,
    UserMemory,
)

from ._machine_strategies import (
    CONVERSATIONS,
    DOC_IDS,
    LIMITS,
    MEMORY_IDS,
    MEMORY_TEXTS,
    MEMORY_TOPICS,
    MEMORY_TTLS,
    MEMORY_TYPES,
    MEMORY_USERS,
    OMIT,
    OPT_USERS,
    ORDER,
    QUERY_EXTRAS,
    STATUSES,
    TOPICS,
    TTLS,
    paginate,
    ttl_kwargs,
)
from ._reference_model import (
    ExpectedError,
    Record,
    bm25_scores,
    doc_terms,
    words,
)


class RecordRules:
    # user memories --------------------------------------------------------------

    @rule(
        user=MEMORY_USERS, mid=MEMORY_IDS, text=MEMORY_TEXTS, topics=MEMORY_TOPICS, ttl=MEMORY_TTLS
    )
    def upsert_memory(self, user: str, mid: str, text: str, topics: list[str], ttl: object) -> None:
        m = self.model
        old = m.memories.get((user, mid))
        stored = self.call(
            self.mem.memories.upsert,
            UserMemory(user_id=user, memory_id=mid, memory=text, topics=topics, agent_id="helper"),
            **ttl_kwargs(ttl),
        )
        expected = {
            "user_id": user,
            "memory": text,
            "memory_id": mid,
            "topics": list(topics),
            "input": None,
            "agent_id": "helper",
            "team_id": None,
            "created_at": m.now if old is None else old["created_at"],
            "updated_at": m.now,
            "expires_at": m.written_deadline(
                "memories", (user, mid), self.resolve_ttl("memories", ttl)
            ),
        }
        m.memories[(user, mid)] = expected
        assert stored.to_dict() == expected

    @rule(user=MEMORY_USERS, mid=MEMORY_IDS)
    def get_memory(self, user: str, mid: str) -> None:
        got = self.call(self.mem.memories.get, mid, user_id=user)
        if (user, mid) not in self.model.memories:
            assert got is None
            return
        self.model.touch("memories", (user, mid))
        assert got is not None and got.to_dict() == self.model.memories[(user, mid)]

    @rule(user=MEMORY_USERS, mid=MEMORY_IDS)
    def delete_memory(self, user: str, mid: str) -> None:
        deleted = self.call(self.mem.memories.delete, mid, user_id=user)
        assert deleted is ((user, mid) in self.model.memories)
        if deleted:
            self.model.remove("memories", (user, mid))

    @rule(user=MEMORY_USERS)
    def clear_memories(self, user: str) -> None:
        deleted = self.call(self.mem.memories.clear, user)
        keys = [key for key in self.model.memories if key[0] == user]
        assert deleted == len(keys)
        for key in keys:
            self.model.remove("memories", key)

    @rule(
        user=OPT_USERS,
        topics=st.one_of(st.none(), st.lists(st.sampled_from([*TOPICS, "nope"]), max_size=2)),
        text=st.sampled_from([None, "TEA", "a", "zebra"]),
        order_by=ORDER,
        descending=st.booleans(),
        limit=LIMITS,
        offset=st.integers(0, 3),
    )
    def list_memories(
        self,
        user: str | None,
        topics: list[str] | None,
        text: str | None,
        order_by: str,
        descending: bool,
        limit: int | None,
        offset: int,
    ) -> None:
        got = self.call(
            self.mem.memories.list,
            user_id=user,
            topics=topics,
            text=text,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        matching = [
            memory
            for (owner, _), memory in self.model.memories.items()
            if (user is None or owner == user)
            and (topics is None or set(topics) & set(memory["topics"]))
            and (text is None or text.casefold() in memory["memory"].casefold())
        ]
        matching.sort(key=lambda r: (r[order_by], r["user_id"], r["memory_id"]), reverse=descending)
        assert [memory.to_dict() for memory in got] == paginate(matching, limit, offset)

    @rule(user=OPT_USERS)
    def memory_topics(self, user: str | None) -> None:
        got = self.call(self.mem.memories.topics, user_id=user)
        expected = sorted(
            {
                topic
                for (owner, _), memory in self.model.memories.items()
                if user is None or owner == user
                for topic in memory["topics"]
            }
        )
        assert got == expected

    @rule(user=MEMORY_USERS, method=st.sampled_from(["last_n", "first_n"]), limit=st.integers(0, 6))
    def search_recent_memories(self, user: str, method: str, limit: int) -> None:
        got = self.call(self.mem.memories.search, user, method=method, limit=limit)
        mine = sorted(
            (r for (owner, _), r in self.model.memories.items() if owner == user),
            key=lambda r: (r["updated_at"], r["memory_id"]),
        )
        expected = mine[max(0, len(mine) - limit) :] if method == "last_n" else mine[:limit]
        for memory in expected:  # results are returned as refreshed (refresh_on_read)
            self.model.touch("memories", (user, memory["memory_id"]))
        assert [memory.to_dict() for memory in got] == expected

    @rule(user=MEMORY_USERS, limit=st.integers(0, 6), data=st.data())
    def search_keyword(self, user: str, limit: int, data: st.DataObject) -> None:
        """Sound checks only: the right set size, only matching memories, best first by
        a reference BM25 (within float noise), nothing better left out.

        The query mixes words of the user's memories with others (stop words, unknown
        words), so most queries match something."""
        mine = {mid: r for (owner, mid), r in self.model.memories.items() if owner == user}
        known = sorted({word for r in mine.values() for word in doc_terms(r)})
        pool = st.sampled_from(known) if known else st.nothing()
        query = " ".join(
            data.draw(
                st.lists(st.one_of(pool, st.sampled_from(QUERY_EXTRAS)), max_size=4),
                label="query words",
            )
        )
        got = self.call(self.mem.memories.search, user, query, limit=limit)
        scores = bm25_scores(mine, query)
        query_words = set(words(query))
        matching = {mid for mid, r in mine.items() if query_words & set(doc_terms(r))}
        assert set(scores) == matching
        ids = [memory.memory_id for memory in got]
        assert len(ids) == len(set(ids)) == min(limit, len(matching))
        assert set(ids) <= matching
        for mid in ids:  # results are returned as refreshed (refresh_on_read)
            self.model.touch("memories", (user, mid))
            assert got[ids.index(mid)].to_dict() == mine[mid]
        eps = 1e-9
        got_scores = [scores[mid] for mid in ids]
        assert all(a >= b - eps for a, b in itertools.pairwise(got_scores))
        left_out = [scores[mid] for mid in matching - set(ids)]
        if got_scores and left_out:
            assert min(got_scores) >= max(left_out) - eps

    # working memory ---------------------------------------------------------------

    @rule(
        conv=CONVERSATIONS,
        memory_type=MEMORY_TYPES,
        data=st.sampled_from(["draft", "plan: a, b", ""]),
        metadata=st.sampled_from([None, {"k": 1}, {"tags": ["x"]}]),
        ttl=TTLS,
    )
    def store_working(
        self,
        conv: str,
        memory_type: str,
        data: str,
        metadata: dict[str, Any] | None,
        ttl: object,
    ) -> None:
        m = self.model
        key = (conv, memory_type)
        old = m.working.get(key)
        stored = self.call(
            self.mem.working.store,
            conv,
            data,
            memory_type=memory_type,
            metadata=metadata,
            **ttl_kwargs(ttl),
        )
        expected = {
            "conversation_id": conv,
            "data": data,
            "memory_type": memory_type,
            "metadata": metadata or {},
            "created_at": m.now if old is None else old["created_at"],
            "updated_at": m.now,
            "expires_at": m.written_deadline("working", key, self.resolve_ttl("working", ttl)),
        }
        m.working[key] = expected
        assert stored.to_dict() == expected

    @rule(conv=CONVERSATIONS, memory_type=MEMORY_TYPES)
    def retrieve_working(self, conv: str, memory_type: str) -> None:
        got = self.call(self.mem.working.retrieve, conv, memory_type=memory_type)
        key = (conv, memory_type)
        if key not in self.model.working:
            assert got is None
            return
        self.model.touch("working", key)
        assert got is not None and got.to_dict() == self.model.working[key]

    @rule(
        conv=CONVERSATIONS,
        memory_type=MEMORY_TYPES,
        data=st.sampled_from(["edited", "v2"]),
        metadata=st.sampled_from([None, {"edited": True}]),
        ttl=TTLS,
    )
    def update_working(
        self,
        conv: str,
        memory_type: str,
        data: str,
        metadata: dict[str, Any] | None,
        ttl: object,
    ) -> None:
        m = self.model
        key = (conv, memory_type)

        def predict() -> Record:
            record = m.working.get(key)
            if record is None:
                raise ExpectedError(NotFound)
            return record

        outcome = self.expect(
            predict,
            self.mem.working.update,
            conv,
            data,
            memory_type=memory_type,
            metadata=metadata,
            **ttl_kwargs(ttl),
        )
        if outcome is None:
            return
        record, got = outcome
        record["data"] = data
        if metadata is not None:
            record["metadata"] = metadata
        record["updated_at"] = m.now
        if ttl is OMIT:
            record["expires_at"] = m.updated_deadline("working", key, record["expires_at"])
        else:
            record["expires_at"] = m.written_deadline(
                "working", key, self.resolve_ttl("working", ttl)
            )
        assert got.to_dict() == record

    @rule(conv=CONVERSATIONS, memory_type=MEMORY_TYPES)
    def delete_working(self, conv: str, memory_type: str) -> None:
        deleted = self.call(self.mem.working.delete, conv, memory_type=memory_type)
        key = (conv, memory_type)
        assert deleted is (key in self.model.working)
        if deleted:
            self.model.remove("working", key)

    # knowledge --------------------------------------------------------------------

    @rule(doc_id=DOC_IDS, status=STATUSES, ttl=TTLS)
    def upsert_doc(self, doc_id: str, status: str, ttl: object) -> None:
        m = self.model
        old = m.knowledge.get(doc_id)
        stored = self.call(
            self.mem.knowledge.upsert,
            KnowledgeDoc(doc_id=doc_id, name=f"doc {doc_id}", status=status),
            **ttl_kwargs(ttl),
        )
        expected = {
            "doc_id": doc_id,
            "name": f"doc {doc_id}",
            "description": None,
            "content_hash": None,
            "status": status,
            "metadata": {},
            "created_at": m.now if old is None else old["created_at"],
            "updated_at": m.now,
            "expires_at": m.written_deadline(
                "knowledge", doc_id, self.resolve_ttl("knowledge", ttl)
            ),
        }
        m.knowledge[doc_id] = expected
        assert stored.to_dict() == expected

    @rule(doc_id=DOC_IDS)
    def get_doc(self, doc_id: str) -> None:
        got = self.call(self.mem.knowledge.get, doc_id)
        if doc_id not in self.model.knowledge:
            assert got is None
            return
        self.model.touch("knowledge", doc_id)
        assert got is not None and got.to_dict() == self.model.knowledge[doc_id]

    @rule(doc_id=DOC_IDS)
    def delete_doc(self, doc_id: str) -> None:
        deleted = self.call(self.mem.knowledge.delete, doc_id)
        assert deleted is (doc_id in self.model.knowledge)
        if deleted:
            self.model.remove("knowledge", doc_id)

    @rule(
        status=st.one_of(st.none(), STATUSES),
        order_by=ORDER,
        descending=st.booleans(),
        limit=LIMITS,
        offset=st.integers(0, 2),
    )
    def list_docs(
        self, status: str | None, order_by: str, descending: bool, limit: int | None, offset: int
    ) -> None:
        got = self.call(
            self.mem.knowledge.list,
            status=status,
            order_by=order_by,
            descending=descending,
            limit=limit,
            offset=offset,
        )
        matching = [d for d in self.model.knowledge.values() if status in (None, d["status"])]
        matching.sort(key=lambda d: (d[order_by], d["doc_id"]), reverse=descending)
        assert [doc.to_dict() for doc in got] == paginate(matching, limit, offset)
