"""The replay's turn as an engine :class:`Run` (shared by the engine and lock targets)."""

from __future__ import annotations

from engine import Message, Run

__all__ = ["run_of"]


def run_of(run_id: str, messages: tuple[tuple[str, str, str], ...]) -> Run:
    """A :class:`engine.Run` with one :class:`engine.Message` per ``(role, content, name)``."""
    return Run(
        run_id=run_id,
        messages=tuple(
            Message(role=role, content=content, name=name) for role, content, name in messages
        ),
    )
