"""``shardmem bench``: the ChitChat replay (dataset, workload, runner, results, report)."""
