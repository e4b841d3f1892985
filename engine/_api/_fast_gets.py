"""The pipelined gets by one id, on their common call: one plain id, no options.

``p.sessions.get("s1")`` is the operation a pipeline queues most (the micro benchmark's
100-get pipelines; a page of sessions). Called that way, these methods build the
queued call and route it without their builder (``SessionRequests.get`` etc.): the
id passes :func:`~engine._core._validate.check_id`'s own fast test (a printable-ASCII
id of 1 to ``MAX_ID_LENGTH`` characters), the options are their defaults, and the
call is a plain ``(op, args, key)`` tuple, routed as :meth:`Pipeline._queue` routes.
Any other call (an option given, an id that needs the full check) goes through the
builder, so what is accepted and what each error says are the builder's; a test
checks that both paths queue the same call to the same shard.

Each method is one frame: the routing is written out in each rather than called.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

from engine._api._batch import BatchPart, PipelineResult
from engine._api._knowledge import KnowledgeRequests
from engine._api._session_requests import SessionRequests
from engine._api._working import WorkingRequests
from engine._core._ops import GET_DOC, GET_SESSION, RETRIEVE_WORKING
from engine._core._validate import MAX_ID_LENGTH

__all__ = ["FAST_GETS"]

_new = object.__new__
_crc32 = zlib.crc32


def get_session(
    self: Any, session_id: str, *, user_id: str | None = None, runs_limit: int | None = None
) -> PipelineResult[Any]:
    pipeline = self._pipeline
    key = session_id
    if (
        user_id is not None
        or runs_limit is not None
        or not (
            type(key) is str
            and key.isascii()
            and key.isprintable()
            and 0 < len(key) <= MAX_ID_LENGTH
            and not key.isspace()
        )
    ):
        call = SessionRequests.get(self, key, user_id=user_id, runs_limit=runs_limit)
        result: PipelineResult[Any] = pipeline._queue(call)
        return result
    shard = _crc32(key.encode()) % pipeline._shards  # shard_of: ASCII encodes as itself
    part = pipeline._parts.get(shard)
    if part is None:
        part = pipeline._parts[shard] = BatchPart(shard)
    calls = part.calls
    result = _new(PipelineResult)
    result._part = part
    result._position = len(calls)
    calls.append((GET_SESSION, (key, None, None), key))
    pipeline._results.append(result)
    return result


def retrieve_working(
    self: Any, conversation_id: str, *, memory_type: str = "working"
) -> PipelineResult[Any]:
    pipeline = self._pipeline
    key = conversation_id
    if memory_type != "working" or not (
        type(key) is str
        and key.isascii()
        and key.isprintable()
        and 0 < len(key) <= MAX_ID_LENGTH
        and not key.isspace()
    ):
        call = WorkingRequests.retrieve(self, key, memory_type=memory_type)
        result: PipelineResult[Any] = pipeline._queue(call)
        return result
    shard = _crc32(key.encode()) % pipeline._shards  # shard_of: ASCII encodes as itself
    part = pipeline._parts.get(shard)
    if part is None:
        part = pipeline._parts[shard] = BatchPart(shard)
    calls = part.calls
    result = _new(PipelineResult)
    result._part = part
    result._position = len(calls)
    calls.append((RETRIEVE_WORKING, (key, "working"), key))
    pipeline._results.append(result)
    return result


def get_doc(self: Any, doc_id: str) -> PipelineResult[Any]:
    pipeline = self._pipeline
    key = doc_id
    if not (
        type(key) is str
        and key.isascii()
        and key.isprintable()
        and 0 < len(key) <= MAX_ID_LENGTH
        and not key.isspace()
    ):
        result: PipelineResult[Any] = pipeline._queue(KnowledgeRequests.get(self, key))
        return result
    shard = _crc32(key.encode()) % pipeline._shards  # shard_of: ASCII encodes as itself
    part = pipeline._parts.get(shard)
    if part is None:
        part = pipeline._parts[shard] = BatchPart(shard)
    calls = part.calls
    result = _new(PipelineResult)
    result._part = part
    result._position = len(calls)
    calls.append((GET_DOC, (key,), key))
    pipeline._results.append(result)
    return result


#: ``(kind, method)`` -> its queueing method, for the pipeline facades.
FAST_GETS: Final = {
    ("sessions", "get"): get_session,
    ("working", "retrieve"): retrieve_working,
    ("knowledge", "get"): get_doc,
}
