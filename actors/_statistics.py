"""Frozen statistics snapshots of the runtime."""

from __future__ import annotations

import attrs

__all__ = ["ActorStatistics"]


@attrs.frozen(kw_only=True)
class ActorStatistics:
    """A point-in-time snapshot of one actor, as returned by ``ActorRef.statistics()``.

    Attributes:
        mailbox_capacity: the mailbox's bound (requests).
        mailbox_depth: requests queued right now.
        mailbox_peak: the largest queue the owner found when it woke (sampled at each
            wake-up, so a lower bound of the true peak).
        requests: requests served since start.
        batches: wake-ups that served at least one request (requests / batches is the
            mean batch size).
        max_batch: the largest batch served at once.
        errors: requests whose handler raised (the error went back to the caller).
        dropped_replies: replies resolved after their client had been cancelled.
        timers_fired: timers run.
        timer_batches: bounded timer batches run (each followed by a checkpoint).
        commits: batches committed (only with a committing behaviour).
        commit_failures: batches whose commit failed some requests (``CommitFailed``)
            while the owner kept serving.
        closed: whether the mailbox has been closed for new requests.
    """

    mailbox_capacity: int
    mailbox_depth: int
    mailbox_peak: int
    requests: int
    batches: int
    max_batch: int
    errors: int
    dropped_replies: int
    timers_fired: int
    timer_batches: int
    commits: int
    commit_failures: int
    closed: bool
