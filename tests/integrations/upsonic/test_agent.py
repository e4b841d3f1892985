"""An Upsonic ``Agent`` with an offline scripted model and ``Memory(storage=
ShardmemStorage(), full_session_memory=True, summary_memory=True,
user_analysis_memory=True)`` keeps its history across turns, through ``do()`` (run on
Upsonic's background loop thread) and ``do_async()`` (on the caller's loop)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("upsonic", reason="install the upsonic extra: pip install -e '.[upsonic]'")

from upsonic import Agent, Task
from upsonic.messages.messages import ModelResponse, TextPart
from upsonic.models import Model
from upsonic.storage.memory.memory import Memory
from upsonic.usage import RequestUsage

from engine.integrations.upsonic import AsyncShardmemStorage, ShardmemStorage


class ScriptedModel(Model):  # type: ignore[misc]
    """Answers from what it is sent: the name, if an earlier turn told it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    @property
    def model_name(self) -> str:
        return "scripted"

    @property
    def system(self) -> str:
        return "offline"

    async def request(self, messages: list[Any], *args: Any, **kwargs: Any) -> ModelResponse:
        sent = repr(messages)
        self.requests.append(sent)
        told = "My name is Ada" in sent and "What is my name" in sent
        return ModelResponse(
            parts=[TextPart(content="Your name is Ada." if told else "Noted.")],
            model_name="scripted",
            timestamp=datetime.now(UTC),
            usage=RequestUsage(input_tokens=1, output_tokens=1),
            provider_name="offline",
        )


def agent_on(storage: Any, model: ScriptedModel, session_id: str) -> Any:
    memory = Memory(
        storage=storage,
        session_id=session_id,
        user_id="u1",
        full_session_memory=True,
        summary_memory=True,
        user_analysis_memory=True,
        model=model,
    )
    return Agent(model=model, memory=memory)


def test_do_remembers_across_turns(storage: Any) -> None:
    model = ScriptedModel()
    agent = agent_on(storage, model, "s-do")
    assert agent.do(Task("My name is Ada.")) == "Noted."
    assert agent.do(Task("What is my name?")) == "Your name is Ada."
    stored = storage.get_session("s-do")
    assert stored.user_id == "u1" and len(stored.messages) == 4
    # a fresh agent on the same storage picks the conversation up
    assert agent_on(storage, ScriptedModel(), "s-do").do(Task("What is my name?")) == (
        "Your name is Ada."
    )


def test_do_async_remembers_across_turns(storage: Any) -> None:
    model = ScriptedModel()
    agent = agent_on(storage, model, "s-async")

    async def main() -> list[Any]:
        return [
            await agent.do_async(Task("My name is Ada.")),
            await agent.do_async(Task("What is my name?")),
        ]

    assert asyncio.run(main()) == ["Noted.", "Your name is Ada."]
    assert storage.get_session_count() == 1


def test_the_async_storage_behind_an_agent(mem: Any) -> None:
    face = AsyncShardmemStorage(storage=ShardmemStorage(engine=mem))
    agent = agent_on(face, ScriptedModel(), "s-face")

    async def main() -> list[Any]:
        return [
            await agent.do_async(Task("My name is Ada.")),
            await agent.do_async(Task("What is my name?")),
        ]

    assert asyncio.run(main()) == ["Noted.", "Your name is Ada."]
    assert len(ShardmemStorage(engine=mem).get_session("s-face").messages) == 4
