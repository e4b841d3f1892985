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

The id test is :func:`_plain`; the call is routed and queued by :meth:`Pipeline._queue`.
"""

from __future__ import annotations

from typing import Any, Final

from engine._api._batch import PipelineResult
from engine._api._knowledge import KnowledgeRequests
from engine._api._session_requests import SessionRequests
from engine._api._working import WorkingRequests
from engine._core._ops import GET_DOC, GET_SESSION, RETRIEVE_WORKING, Op
from engine._core._validate import MAX_ID_LENGTH

__all__ = ["FAST_GETS"]

#: A queued call: a :class:`~engine._core._ops.Call` or its plain tuple.
_Queued = tuple[Op, tuple[Any, ...], str | None]


def _plain(key: object) -> bool:
    """Whether ``key`` is an id ``check_id`` accepts by its fast test: a str of 1 to
    ``MAX_ID_LENGTH`` printable ASCII characters, not all spaces. O(len(key)) in C."""
    return (
        type(key) is str
        and key.isascii()
        and key.isprintable()
        and 0 < len(key) <= MAX_ID_LENGTH
        and not key.isspace()
    )


def get_session(
    self: Any, session_id: str, *, user_id: str | None = None, runs_limit: int | None = None
) -> PipelineResult[Any]:
    if user_id is None and runs_limit is None and _plain(session_id):
        call: _Queued = (GET_SESSION, (session_id, None, None), session_id)
    else:
        call = SessionRequests.get(self, session_id, user_id=user_id, runs_limit=runs_limit)
    result: PipelineResult[Any] = self._pipeline._queue(call)
    return result


def retrieve_working(
    self: Any, conversation_id: str, *, memory_type: str = "working"
) -> PipelineResult[Any]:
    if memory_type == "working" and _plain(conversation_id):
        call: _Queued = (RETRIEVE_WORKING, (conversation_id, "working"), conversation_id)
    else:
        call = WorkingRequests.retrieve(self, conversation_id, memory_type=memory_type)
    result: PipelineResult[Any] = self._pipeline._queue(call)
    return result


def get_doc(self: Any, doc_id: str) -> PipelineResult[Any]:
    call: _Queued = (
        (GET_DOC, (doc_id,), doc_id) if _plain(doc_id) else KnowledgeRequests.get(self, doc_id)
    )
    result: PipelineResult[Any] = self._pipeline._queue(call)
    return result


#: ``(kind, method)`` -> its queueing method, for the pipeline facades.
FAST_GETS: Final = {
    ("sessions", "get"): get_session,
    ("working", "retrieve"): retrieve_working,
    ("knowledge", "get"): get_doc,
}
