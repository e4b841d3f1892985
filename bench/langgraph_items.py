"""LangGraph's items in the host's heap: a full ``gc.collect()`` with N items stored,
and the bytes an item takes beyond its payload.

``python -m bench.langgraph_items [--items N] [--threads T] [--size-items M] [--dims D]
[--json]``

Stores N items through ``mem.items.put`` (namespaces ``("memories", "u<0..4999>")``,
a JSON value of a short text, a number and two tags; one in five with a TTL; with
``--dims`` a vector of D floats each) and T checkpoint threads of 10 supersteps each
(a checkpoint, a 300-byte channel blob and 2 pending writes per superstep), collects
twice (a row is untracked by the first collection that sees it whole), then times
``--repeats`` full collections (median and longest, wall seconds; median CPU seconds,
which other processes do not inflate) and counts the objects the collector tracks.
Then, with ``tracemalloc``, the bytes per item of a fresh engine filled with M items,
and those beyond the payload (the UTF-8 bytes of labels, key and JSON value, 8 per
dimension).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
import tracemalloc
from typing import Any

import orjson
import trio

__all__ = ["main", "measure"]

_WORDS = tuple(f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe") for b in ("bar", "cod", "dim"))


def _item(index: int, dims: int) -> tuple[tuple[str, str], str, dict[str, Any], list[Any]]:
    rnd = random.Random(index)
    value = {
        "text": " ".join(rnd.choice(_WORDS) for _ in range(8)),
        "turn": index,
        "tags": ["fact", rnd.choice(_WORDS)],
    }
    vectors = [[rnd.random() for _ in range(dims)]] if dims else []
    return ("memories", f"u{index % 5000}"), f"k{index}", value, vectors


async def _fill_threads(mem: Any, threads: int, steps: int) -> None:
    from engine import ChannelBlob, Checkpoint, PendingWrite

    for thread in range(threads):
        tid = f"thread-{thread}"
        for step in range(steps):
            cid = f"{step:08d}"
            checkpoint = Checkpoint(
                thread_id=tid,
                checkpoint_ns="",
                checkpoint_id=cid,
                parent_id=None if step == 0 else f"{step - 1:08d}",
                type="msgpack",
                data=b"c" * 200,
                metadata_type="msgpack",
                metadata_data=b"m" * 40,
                metadata={"step": step, "source": "loop"},
                versions={"messages": cid},
            )
            blob = ChannelBlob(
                thread_id=tid,
                checkpoint_ns="",
                channel="messages",
                version=cid,
                type="msgpack",
                data=b"b" * 300,
            )
            await mem.checkpoints.put(checkpoint, [blob])
            writes = [
                PendingWrite(
                    thread_id=tid,
                    checkpoint_ns="",
                    checkpoint_id=cid,
                    task_id="task",
                    idx=idx,
                    channel="messages",
                    type="msgpack",
                    data=b"w" * 50,
                )
                for idx in range(2)
            ]
            await mem.checkpoints.put_writes(writes)


async def _fill(mem: Any, count: int, dims: int) -> int:
    payload = 0
    for index in range(count):
        namespace, key, value, vectors = _item(index, dims)
        payload += sum(len(label.encode()) for label in namespace) + len(key.encode())
        payload += len(orjson.dumps(value)) + 8 * dims * len(vectors)
        await mem.items.put(
            namespace, key, value, vectors=vectors, ttl=86_400 if index % 5 == 0 else None
        )
    return payload


def measure(
    items: int, size_items: int, dims: int, shards: int, repeats: int, threads: int = 0
) -> dict[str, Any]:
    """The measurements of the module docstring, as a dict."""
    from engine import EngineConfig, open_memory_engine

    async def collections() -> dict[str, Any]:
        async with open_memory_engine(config=EngineConfig(shards=shards)) as mem:
            start = time.perf_counter()
            await _fill(mem, items, dims)
            await _fill_threads(mem, threads, 10)
            fill = time.perf_counter() - start
            gc.collect()
            gc.collect()
            walls, cpus = [], []
            for _ in range(repeats):
                cpu, wall = time.thread_time(), time.perf_counter()
                gc.collect()
                walls.append(time.perf_counter() - wall)
                cpus.append(time.thread_time() - cpu)
            return {
                "items": items,
                "checkpoint_threads": threads,
                "fill_seconds": fill,
                "tracked_objects": len(gc.get_objects()),
                "gc_median_seconds": statistics.median(walls),
                "gc_max_seconds": max(walls),
                "gc_median_cpu_seconds": statistics.median(cpus),
            }

    async def size() -> dict[str, Any]:
        async with open_memory_engine(config=EngineConfig(shards=shards)) as mem:
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                payload = await _fill(mem, size_items, dims)
                gc.collect()
                traced = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
        return {
            "size_items": size_items,
            "bytes_per_item": traced / size_items,
            "payload_bytes_per_item": payload / size_items,
            "overhead_bytes_per_item": (traced - payload) / size_items,
        }

    result: dict[str, Any] = {"dims": dims, "shards": shards}
    if items:
        result.update(trio.run(collections))
    if size_items:
        result.update(trio.run(size))
    return result


def main(argv: list[str] | None = None) -> None:
    """Parse the options, measure, print one line (or ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.langgraph_items")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--size-items", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=0)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(
        args.items, args.size_items, args.dims, args.shards, args.repeats, args.threads
    )
    if args.json:
        print(json.dumps(result))
        return
    line = []
    if args.items:
        line.append(
            f"{result['items']:,} items, {args.threads:,} checkpoint threads: full "
            f"gc.collect() median "
            f"{result['gc_median_seconds'] * 1000:.1f} ms, longest "
            f"{result['gc_max_seconds'] * 1000:.1f} ms (CPU median "
            f"{result['gc_median_cpu_seconds'] * 1000:.1f} ms), {result['tracked_objects']:,} "
            f"tracked objects (filled in {result['fill_seconds']:.1f} s)"
        )
    if args.size_items:
        line.append(
            f"{result['bytes_per_item']:.0f} bytes per item, "
            f"{result['overhead_bytes_per_item']:.0f} beyond the payload "
            f"({result['payload_bytes_per_item']:.0f}; {result['size_items']:,} items)"
        )
    print("; ".join(line))


if __name__ == "__main__":
    main()
