"""``shardmem bench durable``: group commit measured against one fsync per write."""
