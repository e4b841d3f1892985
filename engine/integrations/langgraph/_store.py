"""``ShardmemStore``: LangGraph's ``BaseStore`` on shardmem's ``mem.items``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from langgraph.store.base.embed import ensure_embeddings, get_text_at_path, tokenize_path

from engine import BlockingEngine, InvalidArgument, thaw
from engine.integrations.langgraph._engine import EngineLink

__all__ = ["ShardmemStore"]

Namespace = tuple[str, ...]


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _item(stored: Any) -> Item:
    return Item(
        value=thaw(stored.value),
        key=stored.key,
        namespace=stored.namespace,
        created_at=_time(stored.created_at),
        updated_at=_time(stored.updated_at),
    )


def _search_item(hit: Any) -> SearchItem:
    stored = hit.item
    return SearchItem(
        namespace=stored.namespace,
        key=stored.key,
        value=thaw(stored.value),
        created_at=_time(stored.created_at),
        updated_at=_time(stored.updated_at),
        score=hit.score,
    )


def _match(op: ListNamespacesOp) -> tuple[Namespace | None, Namespace | None]:
    prefix = suffix = None
    for condition in op.match_conditions or ():
        path = tuple(condition.path)
        if condition.match_type == "prefix":
            prefix = path if prefix is None else _tighter(prefix, path)
        elif condition.match_type == "suffix":
            suffix = path if suffix is None else _tighter(suffix, path)
        else:
            raise ValueError(
                f"match_type: expected 'prefix' or 'suffix', got {condition.match_type!r}"
            )
    return prefix, suffix


def _tighter(a: Namespace, b: Namespace) -> Namespace:
    if a[: len(b)] == b:
        return a
    if b[: len(a)] == a:
        return b
    raise InvalidArgument(f"two incompatible match conditions {a!r} and {b!r}")


class ShardmemStore(BaseStore):
    """LangGraph's ``BaseStore`` on a shardmem engine: thread-safe, with TTLs swept by
    the engine's expiry index, ordered search, semantic search, durable with
    ``data_dir``.

    Where this differs from LangGraph's ``InMemoryStore`` (each on purpose):

    - ``put(..., ttl=minutes)`` works (``supports_ttl = True``); reads restart a TTL
      when ``ttl={"refresh_on_read": True}`` (the default) or ``refresh_ttl=True``;
    - search returns the newest ``updated_at`` first (what the SQL stores do), not
      insertion order; values handed out are copies;
    - reads do not create namespaces; many threads may call it at once.

    Args:
        index: LangGraph's ``IndexConfig`` (``dims``, ``embed``: an ``Embeddings``,
            a function of a list of texts, or a provider string; ``fields``): items
            are embedded on ``put``, searches with ``query=`` rank by cosine
            similarity. The embedding runs in the caller (thread or loop).
        ttl: LangGraph's ``TTLConfig``: ``default_ttl`` (minutes),
            ``refresh_on_read``. ``sweep_interval_minutes`` is accepted and unused:
            the engine removes each item at its deadline.
        engine, data_dir, fsync, redis_url, **options: the engine (see
            :class:`ShardmemSaver`).
    """

    supports_ttl: bool = True

    def __init__(
        self,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        engine: BlockingEngine | None = None,
        data_dir: str | None = None,
        fsync: str | None = None,
        redis_url: str | None = None,
        **options: Any,
    ) -> None:
        self.ttl_config = ttl
        self.index_config = index
        self.embeddings = None
        self._fields: list[tuple[str, Any]] = []
        if index is not None:
            self.embeddings = ensure_embeddings(index.get("embed"))
            self._fields = [
                (path, path if path == "$" else tokenize_path(path))
                for path in (index.get("fields") or ["$"])
            ]
        self._link = EngineLink(engine, data_dir, fsync, redis_url, options)
        self.engine = self._link.blocking

    def close(self) -> None:
        """Stop the engine if the store started it (a shared engine stays open)."""
        self._link.close()

    def __enter__(self) -> ShardmemStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- planning: what to embed, then the engine calls ---------------------------

    def _texts(self, op: PutOp) -> list[str]:
        if self.embeddings is None or op.value is None or op.index is False:
            return []
        fields = (
            self._fields if op.index is None else [(path, tokenize_path(path)) for path in op.index]
        )
        texts: list[str] = []
        for _, path in fields:
            texts.extend(get_text_at_path(op.value, path))
        return texts

    def _plan(self, ops: Iterable[Op]) -> tuple[list[Op], dict[Namespace | Any, PutOp], list[str]]:
        listed = list(ops)
        puts: dict[Any, PutOp] = {}
        for op in listed:
            if isinstance(op, PutOp):
                puts[(op.namespace, op.key)] = op  # the last put of a key wins
            elif not isinstance(op, GetOp | SearchOp | ListNamespacesOp):
                raise ValueError(f"unknown operation type: {type(op).__name__}")
        queries = sorted(
            {op.query for op in listed if isinstance(op, SearchOp) and op.query}
            if self.embeddings is not None
            else set()
        )
        return listed, puts, queries

    @staticmethod
    def _minutes(ttl: float | None) -> float | None:
        return None if ttl is None else float(ttl) * 60.0

    def _read_call(
        self, op: Op, vectors: dict[str, list[float]]
    ) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        if isinstance(op, GetOp):
            return "get", (op.namespace, str(op.key)), {"refresh_ttl": bool(op.refresh_ttl)}
        if isinstance(op, SearchOp):
            vector = vectors.get(op.query) if op.query else None
            return (
                "search",
                (op.namespace_prefix,),
                {
                    "filter": op.filter,
                    "limit": op.limit,
                    "offset": op.offset,
                    "vector": vector,
                    "refresh_ttl": bool(op.refresh_ttl),
                },
            )
        assert isinstance(op, ListNamespacesOp)
        prefix, suffix = _match(op)
        return (
            "list_namespaces",
            (),
            {
                "prefix": prefix,
                "suffix": suffix,
                "max_depth": op.max_depth,
                "limit": op.limit,
                "offset": op.offset,
            },
        )

    @staticmethod
    def _convert(op: Op, result: Any) -> Result:
        if isinstance(op, GetOp):
            return None if result is None else _item(result)
        if isinstance(op, SearchOp):
            return [_search_item(hit) for hit in result]
        return list(result)

    def _put_call(
        self, op: PutOp, vectors: Sequence[Sequence[float]]
    ) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        if op.value is None:
            return "delete", (op.namespace, str(op.key)), {}
        return (
            "put",
            (op.namespace, str(op.key), op.value),
            {
                "vectors": vectors,
                "ttl": self._minutes(op.ttl),
            },
        )

    def _split(
        self, puts: dict[Any, PutOp], embedded: list[list[float]]
    ) -> list[tuple[PutOp, list[list[float]]]]:
        out = []
        position = 0
        for op in puts.values():
            count = len(self._texts(op))
            out.append((op, embedded[position : position + count]))
            position += count
        return out

    # -- BaseStore ----------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the ops: reads (in order, seeing the store as it was before the batch),
        then the puts and deletes (the last of a key wins). Blocks the calling
        thread; safe from any thread, and inside a running asyncio loop."""
        listed, puts, queries = self._plan(ops)
        vectors: dict[str, list[float]] = {}
        texts = [text for op in puts.values() for text in self._texts(op)]
        embedded: list[list[float]] = []
        if self.embeddings is not None:
            vectors = {q: self.embeddings.embed_query(q) for q in queries}
            embedded = self.embeddings.embed_documents(texts) if texts else []
        items = self.engine.items
        results: list[Result] = []
        for op in listed:
            if isinstance(op, PutOp):
                results.append(None)
                continue
            name, args, kwargs = self._read_call(op, vectors)
            results.append(self._convert(op, getattr(items, name)(*args, **kwargs)))
        for op, op_vectors in self._split(puts, embedded):
            name, args, kwargs = self._put_call(op, op_vectors)
            getattr(items, name)(*args, **kwargs)
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """:meth:`batch`, awaited: the loop is never blocked by the engine."""
        listed, puts, queries = self._plan(ops)
        vectors: dict[str, list[float]] = {}
        texts = [text for op in puts.values() for text in self._texts(op)]
        embedded: list[list[float]] = []
        if self.embeddings is not None:
            for query in queries:
                vectors[query] = await self.embeddings.aembed_query(query)
            embedded = await self.embeddings.aembed_documents(texts) if texts else []
        items = self._link.aio.items
        results: list[Result] = []
        for op in listed:
            if isinstance(op, PutOp):
                results.append(None)
                continue
            name, args, kwargs = self._read_call(op, vectors)
            results.append(self._convert(op, await getattr(items, name)(*args, **kwargs)))
        for op, op_vectors in self._split(puts, embedded):
            name, args, kwargs = self._put_call(op, op_vectors)
            await getattr(items, name)(*args, **kwargs)
        return results
