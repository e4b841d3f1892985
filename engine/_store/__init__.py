"""One shard's state, pure: tables, ordered indexes, the expiry index, the keyword index
and the TTL rules, assembled by :class:`~engine.lowlevel.ShardStore`.

Imports ``engine._core`` and sortedcontainers only; no trio, no I/O.
"""
