"""``shardmem bench compare A.json B.json``: ratios between two runs' JSON results."""
