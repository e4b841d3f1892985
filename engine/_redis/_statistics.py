"""The client-side counters of a Redis engine (``RedisMemoryEngine.statistics()``)."""

from __future__ import annotations

import attrs

__all__ = ["RedisStatistics"]


@attrs.frozen(kw_only=True)
class RedisStatistics:
    """Client-side counters of a :class:`RedisMemoryEngine` (never blocks).

    Attributes:
        location: the server (or cluster entry node) the client talks to.
        cluster: whether it is a Redis Cluster client.
        partitions: the number of partitions (hash-tagged key groups).
        requests: script calls sent.
        round_trips: requests to the server that waited for a reply: one per direct
            call, one per pipeline round (however many scripts it carried).
        failures: calls that ended in :class:`BackendUnavailable`.
        sweeps: background sweeps run; swept: records they removed.
        closed: whether the engine is closed.
    """

    location: str
    cluster: bool
    partitions: int
    requests: int
    round_trips: int
    failures: int
    sweeps: int
    swept: int
    closed: bool
