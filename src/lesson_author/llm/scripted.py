"""A provider that replays a script: for tests of the graph's control flow.

Each reply goes through the same validate-and-retry loop as a real model's, so
a script can also include an invalid reply to exercise the retry path.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from .base import Message, ModelT, RawReply, complete_with_validation
from .errors import LLMError
from .usage import Usage

ScriptFunction = Callable[[list[Message], type[BaseModel], str], Any]
Script = Mapping[str, Sequence[Any]] | ScriptFunction


def _as_text(reply: Any) -> str:
    if isinstance(reply, BaseModel):
        return reply.model_dump_json()
    if isinstance(reply, str):
        return reply
    return json.dumps(reply)


def _rough_tokens(text: str) -> int:
    return (len(text) + 3) // 4


class ScriptedProvider:
    """Replies, in order, from `script[phase]`, or from `script(messages, schema, phase)`.

    A reply may be a pydantic instance, a dict, or a JSON string. `calls` counts
    the replies used per phase; `requests` keeps (phase, messages) of every
    reply asked for. Running out of replies raises LLMError.
    """

    name = "scripted"

    def __init__(self, script: Script, *, model: str = "scripted", max_retries: int = 2) -> None:
        self.model = model
        self.max_retries = max_retries
        self._script = script
        self._queues: dict[str, list[Any]] = (
            {phase: list(replies) for phase, replies in script.items()}
            if isinstance(script, Mapping)
            else {}
        )
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, list[Message]]] = []
        self._lock = threading.Lock()

    def cache_identity(self) -> dict[str, Any]:
        return {"provider": self.name, "model": self.model}

    def remaining(self, phase: str) -> int:
        with self._lock:
            return len(self._queues.get(phase, []))

    def _next_reply(self, messages: list[Message], schema: type[BaseModel], phase: str) -> Any:
        with self._lock:
            used = self.calls[phase]
            self.calls[phase] += 1
            self.requests.append((phase, [dict(m) for m in messages]))  # type: ignore[misc]
            if not isinstance(self._script, Mapping):
                function = self._script
            else:
                queue = self._queues.get(phase)
                if not queue:
                    raise LLMError(
                        f"phase '{phase}', model '{self.model}': the script has no more "
                        f"replies for this phase ({used} used)"
                    )
                return queue.pop(0)
        return function(messages, schema, phase)

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]:
        def generate(conversation: list[Message]) -> RawReply:
            text = _as_text(self._next_reply(conversation, schema, phase))
            prompt = sum(_rough_tokens(m["content"]) for m in conversation)
            return RawReply(text=text, prompt_tokens=prompt, completion_tokens=_rough_tokens(text))

        return complete_with_validation(
            generate, messages, schema, phase=phase, model=self.model, max_retries=self.max_retries
        )
