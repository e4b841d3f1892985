"""``shardmem bench micro``: scaling and growth micro-benchmarks."""
