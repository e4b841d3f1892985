"""Creation stamps of runs and messages: what both backends fill in on a write."""

from __future__ import annotations

from engine._core._records import Run, replace

__all__ = ["stamp_run", "stamp_runs"]


def stamp_runs(runs: tuple[Run, ...], now: float) -> tuple[Run, ...]:
    """``runs`` with every missing ``created_at`` (of a run or a message) set to ``now``.

    Returns ``runs`` itself when nothing is missing. O(runs + messages).
    """
    if all(
        r.created_at is not None and all(m.created_at is not None for m in r.messages) for r in runs
    ):
        return runs
    return tuple(stamp_run(run, now) for run in runs)


def stamp_run(run: Run, now: float) -> Run:
    """``run`` with its and its messages' missing ``created_at`` set to ``now`` (epoch
    seconds); ``run`` itself when nothing is missing. O(messages)."""
    messages = run.messages
    if any(m.created_at is None for m in messages):
        messages = tuple(
            m if m.created_at is not None else replace(m, created_at=now) for m in messages
        )
    created = now if run.created_at is None else run.created_at
    if messages is run.messages and created == run.created_at:
        return run
    return replace(run, messages=messages, created_at=created)
