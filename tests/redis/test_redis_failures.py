"""Failure behaviour of the Redis engine against a real server this test starts.

Each test starts ``redis-server`` on a free loopback port (no persistence), stops
it (or freezes it with SIGSTOP) mid-use and checks that calls fail with
``BackendUnavailable`` within the configured timeout -- never hang -- and succeed
again once the server is back. Skipped when ``redis-server`` is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import trio

from engine import EngineError, MemoryLimitExceeded, Overloaded, Session, UserMemory
from engine._core._errors import BackendUnavailable

pytest.importorskip("coredis", reason="install the redis extra: pip install -e '.[redis]'")

from engine._redis._engine import open_redis_memory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

TIMEOUT = 1.0
# generous bound on how long a failing call may take: the timeout plus slack for a
# loaded CI machine (this is a "never hangs" check, not a latency assertion)
BOUND = TIMEOUT + 4.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A throw-away ``redis-server`` on a loopback port, started and stopped by PID."""

    def __init__(self, port: int, *options: str) -> None:
        self.port = port
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(_free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def _fails_fast(call: object) -> BackendUnavailable:
    start = trio.current_time()
    with pytest.raises(BackendUnavailable) as caught:
        with trio.fail_after(BOUND):
            await call  # type: ignore[misc]
    assert trio.current_time() - start < BOUND
    return caught.value


async def test_unreachable_server_at_open() -> None:
    port = _free_port()  # nothing listens there
    with pytest.raises(BackendUnavailable) as caught, trio.fail_after(BOUND):
        async with open_redis_memory(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT):
            pass  # pragma: no cover
    assert isinstance(caught.value, EngineError) and isinstance(caught.value, ConnectionError)
    assert str(port) in str(caught.value)


async def test_server_going_away_and_coming_back(server: Server) -> None:
    async with open_redis_memory(server.url, timeout=TIMEOUT, sweep_interval=None) as mem:
        await mem.sessions.upsert(Session(session_id="s1", user_id="u"))
        server.stop()
        error = await _fails_fast(mem.sessions.get("s1"))
        assert "unavailable" in str(error) or "timeout" in str(error)
        await _fails_fast(mem.sessions.upsert(Session(session_id="s2")))
        await _fails_fast(mem.sessions.list())  # a scatter fails the same way
        assert mem.statistics().failures >= 3
        server.start()  # same port; the data is gone (no persistence)
        with trio.fail_after(BOUND):
            while True:
                try:
                    await mem.sessions.upsert(Session(session_id="s3", user_id="u"))
                    break
                except BackendUnavailable:
                    await trio.sleep(0.1)
        assert (await mem.sessions.get("s3")).user_id == "u"
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="back"))
        assert [m.memory_id for m in await mem.memories.search("u", "back")] == ["m"]


async def test_frozen_server_times_out_instead_of_hanging(server: Server) -> None:
    async with open_redis_memory(server.url, timeout=TIMEOUT, sweep_interval=None) as mem:
        await mem.working.store("c1", "w")
        server.freeze()
        try:
            error = await _fails_fast(mem.working.retrieve("c1"))
            assert "timeout" in str(error) or "unavailable" in str(error)
        finally:
            server.thaw()
        with trio.fail_after(BOUND):
            while True:
                try:
                    got = await mem.working.retrieve("c1")
                    break
                except BackendUnavailable:
                    await trio.sleep(0.1)
        assert got is not None and got.data == "w"


async def test_background_sweeper_survives_an_outage(server: Server) -> None:
    async with open_redis_memory(server.url, timeout=TIMEOUT, sweep_interval=0.05) as mem:
        await mem.working.store("c1", "w", ttl=0.1)
        server.stop()
        await trio.sleep(0.3)  # sweeps fail meanwhile; the task must keep running
        server.start()
        with trio.fail_after(BOUND):
            while mem.statistics().sweeps == 0:
                await trio.sleep(0.05)
        assert await mem.working.retrieve("c1") is None


async def test_a_pipeline_during_an_outage(server: Server) -> None:
    async with open_redis_memory(server.url, timeout=TIMEOUT, sweep_interval=None) as mem:
        await mem.sessions.upsert(Session(session_id="s1", user_id="u"))
        server.stop()
        pipeline = mem.pipeline()
        async with pipeline as p:
            queued = [p.sessions.get("s1"), p.working.store("c", "x")]
            await _fails_fast(pipeline.execute())
        assert not any(result.done for result in queued)
        with pytest.raises(RuntimeError, match="has not run"):
            queued[0].result()
        server.start()  # same port; the data is gone (no persistence)
        with trio.fail_after(BOUND):
            while True:
                try:
                    async with mem.pipeline() as p:
                        stored = p.working.store("c", "back")
                        got = p.working.retrieve("c")
                    break
                except BackendUnavailable:
                    await trio.sleep(0.1)
        assert stored.result().data == got.result().data == "back"


async def test_a_full_server_refuses_writes_with_a_typed_error_and_keeps_serving() -> None:
    """``maxmemory`` under ``noeviction``: the server's ``OOM`` reaches the caller as
    :class:`MemoryLimitExceeded` (an :class:`Overloaded`), not a raw client error;
    reads and deletes keep working, and writes work again once memory is freed."""
    srv = Server(_free_port(), "--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
    srv.start()
    try:
        async with open_redis_memory(srv.url, timeout=TIMEOUT, sweep_interval=None) as mem:
            stored = 0
            with pytest.raises(MemoryLimitExceeded, match="maxmemory") as caught:
                for stored in range(10_000):
                    await mem.working.store(f"c{stored}", "x" * 10_000)
            assert isinstance(caught.value, Overloaded) and isinstance(caught.value, EngineError)
            assert stored > 0
            assert await mem.working.retrieve(f"c{stored}") is None  # nothing half-written
            assert (await mem.working.retrieve("c0")).data == "x" * 10_000
            for index in range(stored):
                assert await mem.working.delete(f"c{index}")
            await mem.working.store("after", "room again")
            assert (await mem.working.retrieve("after")).data == "room again"
    finally:
        srv.stop()


async def test_a_ranked_search_has_one_deadline_for_its_two_round_trips(server: Server) -> None:
    async with open_redis_memory(server.url, timeout=TIMEOUT, sweep_interval=None) as mem:
        await mem.memories.upsert(UserMemory(user_id="u", memory_id="m", memory="green tea"))
        server.freeze()
        try:
            await _fails_fast(mem.memories.search("u", "tea"))
        finally:
            server.thaw()


async def test_credentials_as_arguments_and_a_typed_error_without_them() -> None:
    """``password=`` (not only inside the URL); missing or wrong credentials are a
    ``BackendUnavailable``, not a raw client error, on the trio and blocking APIs."""
    from engine import start_blocking_engine

    srv = Server(_free_port(), "--requirepass", "s3cret")
    srv.start()
    try:
        async with open_redis_memory(
            srv.url, password="s3cret", timeout=TIMEOUT, sweep_interval=None
        ) as mem:
            await mem.working.store("c", "authenticated")
            assert (await mem.working.retrieve("c")).data == "authenticated"
        for password in (None, "wrong"):
            with pytest.raises(BackendUnavailable, match="Authentication"):
                async with open_redis_memory(
                    srv.url, password=password, timeout=TIMEOUT, sweep_interval=None
                ) as mem:
                    await mem.working.retrieve("c")
        blocking = await trio.to_thread.run_sync(
            lambda: start_blocking_engine(redis_url=srv.url, password="s3cret", sweep_interval=None)
        )
        try:
            record = await trio.to_thread.run_sync(blocking.working.retrieve, "c")
            assert record.data == "authenticated"
        finally:
            await trio.to_thread.run_sync(blocking.close)
        with pytest.raises(TypeError, match=r"ssl_context: expected ssl\.SSLContext"):
            async with open_redis_memory(srv.url, ssl_context="yes"):  # type: ignore[arg-type]
                pass  # pragma: no cover
    finally:
        srv.stop()


async def test_max_memory_and_eviction_policy_set_the_servers_maxmemory() -> None:
    """``EngineConfig(max_memory=, eviction_policy=)`` on Redis is the server's
    ``maxmemory`` and ``maxmemory-policy``: ``noeviction`` refuses writes with the
    typed error, ``allkeys-lru`` lets the server evict instead."""
    import coredis

    from engine import EngineConfig

    srv = Server(_free_port())
    srv.start()
    try:
        config = EngineConfig(shards=1, max_memory=3 << 20, eviction_policy="noeviction")
        async with open_redis_memory(
            srv.url, config=config, timeout=TIMEOUT, sweep_interval=None
        ) as mem:
            with pytest.raises(MemoryLimitExceeded, match="maxmemory"):
                for index in range(10_000):
                    await mem.working.store(f"c{index}", "x" * 10_000)
            assert (await mem.working.retrieve("c0")).data == "x" * 10_000  # reads work
        config = EngineConfig(shards=1, max_memory=3 << 20, eviction_policy="allkeys-lru")
        async with open_redis_memory(
            srv.url, config=config, timeout=TIMEOUT, sweep_interval=None
        ) as mem:
            for index in range(1_000):  # the server evicts: no error
                await mem.working.store(f"d{index}", "x" * 10_000)
        client = coredis.Redis.from_url(srv.url, decode_responses=True)
        async with client:
            settings = await client.config_get(["maxmemory", "maxmemory-policy"])
        assert settings == {"maxmemory": str(3 << 20), "maxmemory-policy": "allkeys-lru"}
    finally:
        srv.stop()
