"""Creation stamps of runs and messages: what both backends fill in on a write."""

from __future__ import annotations

from engine._core._encoded import builder
from engine._core._records import Message, Run

__all__ = ["stamp_run", "stamp_runs"]

# Validator-free builders: a stamp is engine time on values validated before.
_message = builder(Message, ("role", "content", "name", "metadata", "created_at"))
_run = builder(Run, ("run_id", "messages", "status", "metadata", "created_at"))


def stamp_runs(runs: tuple[Run, ...], now: float) -> tuple[Run, ...]:
    """``runs`` with every missing ``created_at`` (of a run or a message) set to ``now``.

    Returns ``runs`` itself when nothing is missing. O(runs + messages).
    """
    if not runs:
        return runs
    stamped = tuple([stamp_run(run, now) for run in runs])
    if all(new is old for new, old in zip(stamped, runs, strict=True)):
        return runs
    return stamped


def stamp_run(run: Run, now: float) -> Run:
    """``run`` with its and its messages' missing ``created_at`` set to ``now`` (epoch
    seconds); ``run`` itself when nothing is missing. O(messages)."""
    messages = run.messages
    if None in [message.created_at for message in messages]:
        messages = tuple(
            [
                m
                if m.created_at is not None
                else _message(m.role, m.content, m.name, m.metadata, now)
                for m in messages
            ]
        )
    created = run.created_at
    if created is not None and messages is run.messages:
        return run
    stamped: Run = _run(
        run.run_id, messages, run.status, run.metadata, now if created is None else created
    )
    return stamped
