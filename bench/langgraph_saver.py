"""LangGraph checkpointers per superstep: ``InMemorySaver`` against ``ShardmemSaver``.

``python -m bench.langgraph_saver [--steps N] [--threads T] [--redis-url URL]``

A superstep is what LangGraph's loop does to its checkpointer: ``put`` of a checkpoint
with one new channel value, ``put_writes`` of a task's two writes, and ``get_tuple`` of
the latest checkpoint. Each of T threads runs N supersteps on a thread of its own (as
concurrent ``invoke`` calls do); the line printed is the supersteps per second and the
p50/p99 latency of one superstep, or the first error a thread raised.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

__all__ = ["main", "supersteps"]


def _superstep(lg: Any, saver: Any, config: dict[str, Any], step: int) -> dict[str, Any]:
    base = lg.empty_checkpoint()
    version = saver.get_next_version(None, None)
    base["channel_values"] = {"messages": [f"message {step}"] * 4}
    base["channel_versions"] = {"messages": version}
    checkpoint = lg.create_checkpoint(base, None, step)
    config = saver.put(config, checkpoint, {"source": "loop", "step": step}, {"messages": version})
    saver.put_writes(config, [("messages", f"w{step}"), ("branch", step)], task_id=f"t{step}")
    if saver.get_tuple(config) is None:
        raise RuntimeError("the checkpoint just written is missing")
    return config


def supersteps(saver: Any, threads: int, steps: int) -> str:
    """Supersteps per second and per-superstep p50/p99 over ``threads`` threads of
    ``steps`` supersteps, or the first error one of them raised."""
    from langgraph.checkpoint import base as lg

    errors: list[BaseException] = []
    latencies: list[list[float]] = [[] for _ in range(threads)]

    def work(n: int) -> None:
        config: dict[str, Any] = {"configurable": {"thread_id": f"run-{n}", "checkpoint_ns": ""}}
        try:
            for step in range(steps):
                start = time.perf_counter()
                config = _superstep(lg, saver, config, step)
                latencies[n].append(time.perf_counter() - start)
        except BaseException as error:  # reported, not raised: that is the measurement
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        return f"failed: {type(errors[0]).__name__}: {errors[0]}"
    every = sorted(x for per in latencies for x in per)
    p50, p99 = every[len(every) // 2], every[min(len(every) - 1, int(len(every) * 0.99))]
    return (
        f"{threads * steps / elapsed:,.0f} supersteps/s  "
        f"p50 {p50 * 1e6:,.0f} us  p99 {p99 * 1e6:,.0f} us"
    )


def main(argv: list[str] | None = None) -> None:
    """Print one line per checkpointer and thread count."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args(argv)
    try:
        from langgraph.checkpoint.memory import InMemorySaver

        from engine.integrations.langgraph import ShardmemSaver
    except ImportError as error:
        print(f"langgraph           skipped: {error}", flush=True)
        return
    builds: list[tuple[str, Any]] = [
        ("InMemorySaver", InMemorySaver),
        ("ShardmemSaver", ShardmemSaver),
    ]
    if args.redis_url:
        builds.append(("ShardmemSaver-redis", lambda: ShardmemSaver(redis_url=args.redis_url)))
    for threads in sorted({1, args.threads}):
        for name, build in builds:
            saver = build()
            try:
                line = supersteps(saver, threads, args.steps)
                print(f"{name:20} {threads:2} thread(s)  {line}", flush=True)
            finally:
                close = getattr(saver, "close", None)
                if close is not None and name.startswith("Shardmem"):
                    if name.endswith("redis"):
                        saver.engine.drop(forget=True)
                    close()


if __name__ == "__main__":
    main()
