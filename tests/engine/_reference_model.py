"""The trio host and the plain-dict reference model driven by ``test_state_machine``."""

from __future__ import annotations

import math
import queue
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import outcome
import trio
import trio.testing

from engine import (
    KindPolicy,
    MemoryEngine,
    NotFound,
    open_memory_engine,
)
from engine._core._text import STOP_WORDS

START = 1_000_000.0
KINDS = ("sessions", "memories", "working", "knowledge")
WORKING_DEFAULT_TTL = 12 * 3600.0
CALL_TIMEOUT = 30.0  # wall-clock seconds; only a hung engine ever gets near it

T = TypeVar("T")


# ------------------------------------------------------------------ trio host


@attrs.define(eq=False)
class _RunningEngine:
    mem: MemoryEngine
    stop: trio.Event
    done: trio.Event


class TrioHost:
    """One ``trio.run`` on a worker thread, driven one call at a time from this thread.

    Its ``MockClock`` has ``rate=0`` and no autojump: trio time stands still except
    when :meth:`advance` jumps it. A call that does not finish within
    ``CALL_TIMEOUT`` wall-clock seconds (an engine livelock or deadlock) cancels
    the whole trio run and fails the test instead of hanging it.
    """

    def __init__(self) -> None:
        self.clock = trio.testing.MockClock()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._thread_main, name="trio-host", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=CALL_TIMEOUT):
            raise RuntimeError("the trio host did not start")
        if self._error is not None:
            raise self._error

    def _thread_main(self) -> None:
        try:
            trio.run(self._main, clock=self.clock)
        except BaseException as error:  # reported by close()
            self._error = error
            self._started.set()

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._quit = trio.Event()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._started.set()
            await self._quit.wait()
            nursery.cancel_scope.cancel()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run ``await fn(*args, **kwargs)`` in the trio thread; return or raise its result."""
        results: queue.Queue[outcome.Outcome[T]] = queue.Queue(maxsize=1)

        async def runner() -> None:
            results.put(await outcome.acapture(fn, *args, **kwargs))

        self._token.run_sync_soon(self._nursery.start_soon, runner)
        try:
            result = results.get(timeout=CALL_TIMEOUT)
        except queue.Empty:
            self._token.run_sync_soon(self._nursery.cancel_scope.cancel)
            self._thread.join(timeout=CALL_TIMEOUT)
            raise AssertionError(
                f"the engine did not answer {fn.__qualname__} within {CALL_TIMEOUT} s "
                "(livelock or deadlock)"
            ) from None
        return result.unwrap()

    def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the trio thread (to read engine internals safely)."""

        async def sync() -> T:
            return fn(*args)

        return self.call(sync)

    async def _engine_task(
        self, kwargs: dict[str, Any], *, task_status: trio.TaskStatus[_RunningEngine]
    ) -> None:
        done = trio.Event()
        try:
            async with open_memory_engine(**kwargs) as mem:
                stop = trio.Event()
                task_status.started(_RunningEngine(mem, stop, done))
                await stop.wait()
        finally:
            done.set()

    def open_engine(self, **kwargs: Any) -> _RunningEngine:
        async def start() -> _RunningEngine:
            running: _RunningEngine = await self._nursery.start(self._engine_task, kwargs)
            return running

        return self.call(start)

    def close_engine(self, running: _RunningEngine) -> None:
        async def stop() -> None:
            running.stop.set()
            await running.done.wait()

        self.call(stop)

    def advance(self, seconds: float) -> None:
        """Jump trio's clock and let every shard finish the expiry it triggers."""

        async def jump() -> None:
            self.clock.jump(seconds)
            await trio.testing.wait_all_tasks_blocked()

        self.call(jump)

    @property
    def alive(self) -> bool:
        """Whether the trio run is still going (a timed-out call ends it)."""
        return self._thread.is_alive()

    def close(self) -> None:
        if self._thread.is_alive():
            self._token.run_sync_soon(self._quit.set)
        self._thread.join(timeout=CALL_TIMEOUT)
        assert not self._thread.is_alive(), "the trio host did not stop"
        if self._error is not None:
            raise self._error


# ----------------------------------------------------------------- reference model

Record = dict[str, Any]
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-case word tokens; stop words are neither indexed nor queried."""
    return [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def doc_terms(memory: Record) -> dict[str, int]:
    """The model's view of a memory's terms: text tokens once, topic tokens twice."""
    terms: dict[str, int] = {}
    for token in words(memory["memory"]):
        terms[token] = terms.get(token, 0) + 1
    for topic in memory["topics"]:
        for token in words(topic):
            terms[token] = terms.get(token, 0) + 2
    return terms


def bm25_scores(docs: dict[str, Record], query: str) -> dict[str, float]:
    """Reference BM25 (k1 = 1.2, b = 0.75, Lucene idf) of each doc sharing a query term."""
    if not docs:
        return {}
    terms = {mid: doc_terms(doc) for mid, doc in docs.items()}
    lengths = {mid: sum(t.values()) for mid, t in terms.items()}
    average = sum(lengths.values()) / len(docs)
    scores: dict[str, float] = {}
    for token in set(words(query)):
        having = [mid for mid, t in terms.items() if token in t]
        if not having:
            continue
        idf = math.log(1 + (len(docs) - len(having) + 0.5) / (len(having) + 0.5))
        for mid in having:
            tf = terms[mid][token]
            norm = 1.2 * (1 - 0.75 + 0.75 * lengths[mid] / average)
            scores[mid] = scores.get(mid, 0.0) + idf * tf * 2.2 / (tf + norm)
    return scores


class ExpectedError(Exception):
    """The model says the operation must raise ``kind``."""

    def __init__(self, kind: type[Exception]) -> None:
        super().__init__(kind.__name__)
        self.kind = kind


class Model:
    """Plain dicts shaped like ``record.to_dict()``, keyed like the engine keys them."""

    def __init__(self, policies: dict[str, KindPolicy]) -> None:
        self.now = START
        self.policies = policies
        self.tables: dict[str, dict[Any, Record]] = {kind: {} for kind in KINDS}
        self.ttls: dict[tuple[str, Any], float] = {}
        self.expired = dict.fromkeys(KINDS, 0)

    @property
    def sessions(self) -> dict[str, Record]:
        return self.tables["sessions"]

    @property
    def memories(self) -> dict[tuple[str, str], Record]:
        return self.tables["memories"]

    @property
    def working(self) -> dict[tuple[str, str], Record]:
        return self.tables["working"]

    @property
    def knowledge(self) -> dict[str, Record]:
        return self.tables["knowledge"]

    # TTLs ---------------------------------------------------------------------

    def written_deadline(self, kind: str, key: Any, ttl: float | None) -> float | None:
        """A full write: the new TTL replaces the old one."""
        if ttl is None:
            self.ttls.pop((kind, key), None)
            return None
        self.ttls[(kind, key)] = ttl
        return self.now + ttl

    def updated_deadline(self, kind: str, key: Any, current: float | None) -> float | None:
        """A partial update: restart the TTL if the policy says so."""
        ttl = self.ttls.get((kind, key))
        if ttl is None or not self.policies[kind].refresh_on_update:
            return current
        return self.now + ttl

    def touch(self, kind: str, key: Any) -> None:
        """A successful read: restart the TTL if the policy says so."""
        ttl = self.ttls.get((kind, key))
        if ttl is not None and self.policies[kind].refresh_on_read:
            self.tables[kind][key]["expires_at"] = self.now + ttl

    def remove(self, kind: str, key: Any) -> Record:
        self.ttls.pop((kind, key), None)
        return self.tables[kind].pop(key)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for kind, table in self.tables.items():
            due = [
                key
                for key, record in table.items()
                if record["expires_at"] is not None and record["expires_at"] <= self.now
            ]
            for key in due:
                self.remove(kind, key)
                self.expired[kind] += 1

    def next_deadline(self) -> float | None:
        deadlines = [
            record["expires_at"]
            for table in self.tables.values()
            for record in table.values()
            if record["expires_at"] is not None
        ]
        return min(deadlines, default=None)

    def restored(self) -> None:
        """After a restore: fresh counters; each live record keeps the TTL it was
        written with (snapshots carry ``ttls``)."""
        self.expired = dict.fromkeys(KINDS, 0)
        self.ttls = {
            (kind, key): ttl
            for (kind, key), ttl in self.ttls.items()
            if key in self.tables[kind] and self.tables[kind][key]["expires_at"] is not None
        }

    # sessions -----------------------------------------------------------------

    def visible_session(self, sid: str, user: str | None) -> Record | None:
        session = self.sessions.get(sid)
        if session is None or (user is not None and session["user_id"] != user):
            return None
        return session

    def session_for(self, sid: str, user: str | None) -> Record:
        session = self.visible_session(sid, user)
        if session is None:
            raise ExpectedError(NotFound)
        return session

    def run_record(self, run_id: str, messages: list[tuple[str, str]]) -> Record:
        return {
            "run_id": run_id,
            "messages": [
                {
                    "role": role,
                    "content": content,
                    "name": None,
                    "metadata": {},
                    "created_at": self.now,
                }
                for role, content in messages
            ],
            "status": "completed",
            "metadata": {},
            "created_at": self.now,
        }

    def update_session(self, session: Record, **changes: Any) -> None:
        sid = session["session_id"]
        session.update(changes)
        session["updated_at"] = self.now
        session["expires_at"] = self.updated_deadline("sessions", sid, session["expires_at"])

    # snapshots ----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        def ordered(kind: str) -> list[Record]:
            table = self.tables[kind]
            return [table[key] for key in sorted(table)]

        return {
            "format": "shardmem.snapshot",
            "version": 1,
            "taken_at": self.now,
            **{kind: ordered(kind) for kind in KINDS},
            "ttls": {
                kind: [self.ttls.get((kind, key)) for key in sorted(self.tables[kind])]
                for kind in KINDS
            },
        }
