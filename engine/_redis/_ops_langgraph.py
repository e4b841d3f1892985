"""LangGraph's records on Redis: items and checkpoint threads (scripts
``lua/lg_*.lua``). Same names, arguments (after the partition) and results as the
:class:`engine.ShardStore` methods behind ``mem.items`` and ``mem.checkpoints``; a
mixin of :class:`engine._redis._ops.RedisOps`, which serves each :class:`Op` by the
method of its name."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from engine._core._codec import thaw
from engine._core._errors import InvalidArgument
from engine._core._item_filter import matches_filter, namespace_matches
from engine._core._items import (
    ChannelBlob,
    Checkpoint,
    Item,
    PendingWrite,
    hidden,
    namespace_key,
)
from engine._core._records import replace
from engine._core._vectors import Hit, rank_hits
from engine._redis._codec import dumps, ts
from engine._redis._conn import Connection
from engine._redis._keys import NUL

__all__ = ["LangGraphOps"]

_PAGE: Final = 64
_CLEAR_BATCH: Final = "500"

Namespace = tuple[str, ...]
Entry = tuple[Checkpoint, tuple[ChannelBlob, ...], tuple[PendingWrite, ...]]


def _lex(prefix: Namespace) -> tuple[str, str]:
    """The ``ZRANGEBYLEX`` bounds of the namespaces starting with ``prefix``."""
    if not prefix:
        return "-", "+"
    nk = namespace_key(prefix)
    return "[" + nk, "(" + nk + "\x1f"  # labels hold no character below U+0020


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _item(nk: Any, key: Any, body: Any, meta: Any) -> Item:
    c, u, e = _text(meta).split(" ")
    data = json.loads(_text(body))
    return Item(
        namespace=tuple(_text(nk).split("\x1e")),
        key=_text(key),
        value=data["value"],
        vectors=data["vectors"],
        created_at=float(c),
        updated_at=float(u),
        expires_at=None if e == "-" else float(e),
    )


def _entry(reply: Any) -> Entry:
    checkpoint, blobs, writes = reply
    return (
        Checkpoint.from_dict(json.loads(_text(checkpoint))),
        tuple(ChannelBlob.from_dict(json.loads(_text(b))) for b in blobs),
        tuple(
            sorted(
                (PendingWrite.from_dict(json.loads(_text(w))) for w in writes),
                key=lambda w: (w.task_id, w.idx),
            )
        ),
    )


class LangGraphOps:
    """The item and checkpoint operations of the Redis engine (a mixin: the using
    class sets ``_conn``)."""

    _conn: Connection

    # ---------------------------------------------------------------------- items

    async def put_item(self, p: int, now: float, item: Item, ttl: float | None) -> Item:
        body = dumps({"value": thaw(item.value), "vectors": [list(v) for v in item.vectors]})
        nk = namespace_key(item.namespace)
        created = await self._conn.run("lg_put_item", p, now, nk, item.key, body, ts(ttl))
        expires = None if ttl is None else now + ttl
        return replace(item, created_at=float(_text(created)), updated_at=now, expires_at=expires)

    async def get_item(
        self, p: int, now: float, namespace: Namespace, key: str, refresh: bool
    ) -> Item | None:
        nk = namespace_key(namespace)
        reply = await self._conn.run("lg_get_item", p, now, nk, key, "1" if refresh else "0")
        return None if not reply else _item(nk, key, reply[0], reply[1])

    async def delete_item(self, p: int, now: float, namespace: Namespace, key: str) -> bool:
        return bool(await self._conn.run("lg_delete_item", p, now, namespace_key(namespace), key))

    async def search_items(
        self,
        p: int,
        now: float,
        prefix: Namespace,
        filter: Mapping[str, Any] | None,
        k: int | None,
        vector: tuple[float, ...] | None,
        refresh: bool,
    ) -> list[Hit]:
        low, high = _lex(prefix)
        hits: list[Hit] = []
        cursor = ("", "", "")
        want = None if vector is not None else k
        while want is None or len(hits) < want:
            batch = _PAGE if want is None else max(want - len(hits), _PAGE)
            page = await self._conn.run("lg_item_page", p, now, low, high, str(batch), *cursor)
            for nk, key, body, meta in page:
                item = _item(nk, key, body, meta)
                cursor = (ts(item.updated_at), _text(nk), item.key)
                if hidden(item.namespace, prefix):
                    continue
                if item.expires_at is not None and item.expires_at <= now:
                    continue
                if filter and not matches_filter(item.value, filter):
                    continue
                hits.append(((-item.updated_at, item.namespace, item.key), item, None))  # type: ignore[operator]
                if want is not None and len(hits) >= want:
                    break
            if len(page) < batch:
                break
        if vector is not None:
            hits = rank_hits(hits, vector)[:k]
        if refresh and hits:
            pairs = [part for _, i, _ in hits for part in (namespace_key(i.namespace), i.key)]
            metas = await self._conn.run("lg_touch_items", p, now, *pairs)
            hits = [
                (order, replace(item, expires_at=_expiry(meta, item.expires_at)), score)
                for (order, item, score), meta in zip(hits, metas, strict=True)
            ]
        return hits

    async def list_item_namespaces(
        self,
        p: int,
        now: float,
        prefix: Namespace | None,
        suffix: Namespace | None,
        max_depth: int | None,
    ) -> list[Namespace]:
        fixed: Namespace = ()
        if prefix:
            fixed = prefix[: prefix.index("*")] if "*" in prefix else prefix
        names = await self._conn.run("lg_namespaces", p, now, *_lex(fixed))
        found: set[Namespace] = set()
        for nk in names:
            ns = tuple(_text(nk).split("\x1e"))
            if hidden(ns, fixed):
                continue
            if prefix and not namespace_matches(ns, prefix, suffix=False):
                continue
            if suffix and not namespace_matches(ns, suffix, suffix=True):
                continue
            found.add(ns if max_depth is None else ns[:max_depth])
        return sorted(found)

    # ---------------------------------------------------------------- checkpoints

    async def put_checkpoint(
        self,
        p: int,
        now: float,
        checkpoint: Checkpoint,
        blobs: tuple[ChannelBlob, ...],
        ttl: float | None,
    ) -> Checkpoint:
        stored = replace(checkpoint, created_at=now)
        await self._put(p, now, stored, blobs, ttl)
        return stored

    async def _put(
        self, p: int, now: float, c: Checkpoint, blobs: tuple[ChannelBlob, ...], ttl: float | None
    ) -> None:
        for blob in blobs:
            if (blob.thread_id, blob.checkpoint_ns) != (c.thread_id, c.checkpoint_ns):
                raise InvalidArgument("put_checkpoint: a blob of another thread or namespace")
        fields = [
            part
            for blob in blobs
            for part in (f"{blob.channel}{NUL}{blob.version}", dumps(blob.to_dict()))
        ]
        await self._conn.run(
            "lg_put_checkpoint", p, now, c.thread_id, c.checkpoint_ns, c.checkpoint_id,
            dumps(c.to_dict()), c.run_id or "", ts(ttl), *fields,
        )  # fmt: skip

    async def put_checkpoint_writes(
        self, p: int, now: float, writes: tuple[PendingWrite, ...], ttl: float | None
    ) -> int:
        if not writes:
            return 0
        thread_id = writes[0].thread_id
        if any(w.thread_id != thread_id for w in writes):
            raise InvalidArgument("put_checkpoint_writes: writes of more than one thread")
        args = [
            part
            for w in writes
            for part in (
                w.checkpoint_ns, w.checkpoint_id, f"{w.task_id}{NUL}{w.idx}", str(w.idx),
                dumps(w.to_dict()),
            )
        ]  # fmt: skip
        stored: int = await self._conn.run("lg_put_writes", p, now, thread_id, ts(ttl), *args)
        return stored

    async def get_checkpoint(
        self, p: int, now: float, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> Entry | None:
        reply = await self._conn.run(
            "lg_get_checkpoint", p, now, thread_id, checkpoint_ns, checkpoint_id or ""
        )
        return _entry(reply) if reply else None

    async def list_checkpoints(
        self,
        p: int,
        now: float,
        thread_id: str | None,
        checkpoint_ns: str | None,
        checkpoint_id: str | None,
        filter: Mapping[str, Any] | None,
        before: str | None,
        limit: int | None,
    ) -> list[tuple[tuple[str, str, str], Entry]]:
        reply = await self._conn.run(
            "lg_list_checkpoints", p, now, thread_id or "",
            "0" if checkpoint_ns is None else "1", checkpoint_ns or "", checkpoint_id or "",
            before or "", "" if limit is None or filter else str(limit),
        )  # fmt: skip
        found = []
        for cid, tid, ns, raw in reply:
            entry = _entry(raw)
            metadata = entry[0].metadata
            if filter and any(metadata.get(key) != value for key, value in filter.items()):
                continue
            found.append(((_text(cid), _text(tid), _text(ns)), entry))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return found if limit is None else found[:limit]

    async def delete_checkpoint_thread(self, p: int, now: float, thread_id: str) -> bool:
        return bool(await self._conn.run("lg_delete_thread", p, now, thread_id))

    async def delete_checkpoint_runs(self, p: int, now: float, run_ids: tuple[str, ...]) -> int:
        removed: int = await self._conn.run("lg_delete_runs", p, now, *run_ids)
        return removed

    async def prune_checkpoints(
        self, p: int, now: float, thread_ids: tuple[str, ...], strategy: str
    ) -> int:
        if strategy not in ("keep_latest", "delete"):
            raise InvalidArgument(
                f"prune: expected strategy 'keep_latest' or 'delete', got {strategy!r}"
            )
        removed = 0
        for thread_id in thread_ids:
            removed += await self._conn.run("lg_prune", p, now, thread_id, strategy)
        return removed

    async def export_checkpoint_thread(
        self, p: int, now: float, thread_id: str
    ) -> tuple[Checkpoint | ChannelBlob | PendingWrite, ...]:
        checkpoints, blobs, writes = await self._conn.run("lg_export_thread", p, now, thread_id)
        return (
            *(Checkpoint.from_dict(json.loads(_text(c))) for c in checkpoints),
            *(ChannelBlob.from_dict(json.loads(_text(b))) for b in blobs),
            *(PendingWrite.from_dict(json.loads(_text(w))) for w in writes),
        )

    async def import_checkpoint_thread(
        self,
        p: int,
        now: float,
        records: tuple[Checkpoint | ChannelBlob | PendingWrite, ...],
        ttl: float | None,
    ) -> int:
        checkpoints = [r for r in records if isinstance(r, Checkpoint)]
        writes = tuple(r for r in records if isinstance(r, PendingWrite))
        blobs: dict[str, list[ChannelBlob]] = {}
        for record in records:
            if isinstance(record, ChannelBlob):
                blobs.setdefault(record.checkpoint_ns, []).append(record)
        for checkpoint in checkpoints:  # a namespace's blobs go with its first checkpoint
            lane = tuple(blobs.pop(checkpoint.checkpoint_ns, ()))
            await self._put(p, now, checkpoint, lane, ttl)
        await self.put_checkpoint_writes(p, now, writes, ttl)
        return len(records)

    # ---------------------------------------------------------------- maintenance

    async def _sweep_langgraph(self, p: int, now: float, limit: int) -> int:
        """Remove up to ``limit`` due items and threads of partition ``p``."""
        removed: int = await self._conn.run("lg_sweep", p, now, str(limit))
        return removed

    async def _clear_langgraph(self, p: int, now: float) -> int:
        """Remove every item and thread of partition ``p``; how many went."""
        total = 0
        while True:
            removed, done = await self._conn.run("lg_clear", p, now, _CLEAR_BATCH)
            total += int(removed)
            if int(done):
                return total


def _expiry(meta: Any, fallback: float | None) -> float | None:
    if not meta:
        return fallback
    e = _text(meta).split(" ")[2]
    return None if e == "-" else float(e)
