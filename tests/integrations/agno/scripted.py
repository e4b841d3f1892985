"""An offline Agno model that answers from a script and records what it was sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from agno.models.base import Model
from agno.models.message import MessageMetrics
from agno.models.response import ModelResponse


class ScriptedModel(Model):
    """Replies ``script[i]`` to the i-th call (the last reply once the script runs out)
    and keeps, per call, the ``(role, content)`` of every message it received."""

    def __init__(self, script: list[str]) -> None:
        super().__init__(id="scripted", name="scripted", provider="test")
        self.script = list(script)
        self.seen: list[list[tuple[str, str]]] = []

    def _reply(self, messages: Any) -> ModelResponse:
        self.seen.append([(m.role, str(m.content)) for m in messages or ()])
        text = self.script[min(len(self.seen) - 1, len(self.script) - 1)]
        return ModelResponse(content=text, role="assistant", response_usage=MessageMetrics())

    def invoke(self, *args: Any, messages: Any = None, **kwargs: Any) -> ModelResponse:
        return self._reply(messages)

    async def ainvoke(self, *args: Any, messages: Any = None, **kwargs: Any) -> ModelResponse:
        return self._reply(messages)

    def invoke_stream(
        self, *args: Any, messages: Any = None, **kwargs: Any
    ) -> Iterator[ModelResponse]:
        yield self._reply(messages)

    async def ainvoke_stream(
        self, *args: Any, messages: Any = None, **kwargs: Any
    ) -> AsyncIterator[ModelResponse]:
        yield self._reply(messages)

    def _parse_provider_response(self, response: Any, **kwargs: Any) -> ModelResponse:
        return response  # type: ignore[no-any-return]

    def _parse_provider_response_delta(self, response: Any) -> ModelResponse:
        return response  # type: ignore[no-any-return]
