"""The in-process engine: one actor per shard owning a :class:`ShardStore`, the router
that reaches it through trio memory channels, and the committing (durable) shard behaviour.
"""
