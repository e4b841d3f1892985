"""``shardmem bench --rate R`` / ``--sweep``: the open-loop load benchmark."""
