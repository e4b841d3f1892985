"""The replay's records as engine records (shared by the engine and lock targets)."""

from __future__ import annotations

from bench._targets._protocol import MemoryWrite
from engine import Message, Run, UserMemory

__all__ = ["memory_of", "run_of"]


def run_of(run_id: str, messages: tuple[tuple[str, str, str], ...]) -> Run:
    """A :class:`engine.Run` with one :class:`engine.Message` per ``(role, content, name)``."""
    return Run(
        run_id=run_id,
        messages=tuple(
            Message(role=role, content=content, name=name) for role, content, name in messages
        ),
    )


def memory_of(write: MemoryWrite) -> UserMemory:
    """The :class:`engine.UserMemory` a pipelined turn's memory write stores."""
    return UserMemory(
        memory_id=write.memory_id,
        user_id=write.user_id,
        memory=write.memory,
        topics=write.topics,
        agent_id=write.agent_id,
    )
