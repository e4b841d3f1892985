"""``shardmem bench bridge``: the blocking bridge measured against the trio API."""
