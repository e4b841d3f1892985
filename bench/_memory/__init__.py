"""``shardmem bench memory``: what stored records cost the host process.

The longest pause of a full ``gc.collect()`` with N stored records of mixed kinds,
bytes per record beyond payload (``tracemalloc``), the time to reopen a durable data
directory of N records (from its journal and from its snapshot), and optionally the
longest GC pause during the ChitChat replay. See ``docs/benchmarks.md``.
"""
