"""The provider interface, and the validate-and-retry loop every provider shares."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

from .errors import LLMError, one_line
from .usage import Usage

ModelT = TypeVar("ModelT", bound=BaseModel)

# how much of a rejected reply is echoed back to the model with the error
FEEDBACK_REPLY_CHARS = 4000
MAX_ERRORS_SHOWN = 5


class Message(TypedDict):
    role: str
    content: str


@runtime_checkable
class Provider(Protocol):
    """Anything that turns messages into a validated instance of a pydantic model."""

    name: str
    model: str

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]: ...


@dataclass
class RawReply:
    """One model call's text and token counts, before validation."""

    text: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: bool = False


def schema_json(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def _strip_code_fence(text: str) -> str:
    """Some JSON-mode endpoints still wrap the object in a ``` fence; unwrap it."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and "\n" in stripped:
        body = stripped[stripped.index("\n") + 1 : -3]
        return body.strip()
    return stripped


def describe_validation_error(error: ValidationError) -> str:
    parts: list[str] = []
    for item in error.errors()[:MAX_ERRORS_SHOWN]:
        location = ".".join(str(p) for p in item.get("loc", ())) or "(root)"
        if item.get("type") == "json_invalid":
            parts.append(f"invalid JSON: {item.get('msg', '')}")
        else:
            parts.append(f"{location}: {item.get('msg', '')}")
    hidden = error.error_count() - len(parts)
    if hidden > 0:
        parts.append(f"and {hidden} more")
    return "; ".join(parts)


def validate_reply(text: str | None, schema: type[ModelT]) -> ModelT | str:
    """The instance, or a one-line description of why the reply is not one."""
    if text is None or not text.strip():
        return "the reply was empty"
    body = _strip_code_fence(text)
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        if not any(item.get("type") == "json_invalid" for item in exc.errors()):
            return describe_validation_error(exc)
        strict_error = describe_validation_error(exc)
    # A raw line break or tab inside a string is invalid JSON, but it is what the model
    # meant (code, multi-line prose): llama.cpp's JSON grammar lets such characters through.
    try:
        data = json.loads(body, strict=False)
    except ValueError:
        return strict_error
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        return describe_validation_error(exc)


def feedback_messages(reply: str | None, error: str) -> list[Message]:
    shown = (reply or "")[:FEEDBACK_REPLY_CHARS]
    return [
        {"role": "assistant", "content": shown},
        {
            "role": "user",
            "content": (
                "Your reply is not valid for the required JSON schema: "
                f"{error}. Reply again with only the corrected JSON object."
            ),
        },
    ]


def complete_with_validation(
    generate: Callable[[list[Message]], RawReply],
    messages: list[Message],
    schema: type[ModelT],
    *,
    phase: str,
    model: str,
    max_retries: int,
) -> tuple[ModelT, Usage]:
    """Call `generate` until its reply validates against `schema`, at most 1 + max_retries times.

    Each rejected reply goes back to the model with the validation error. After the
    last attempt an LLMError names the phase, the model and the last error.
    `generate` may raise LLMError itself (transport failures); the usage so far is
    attached to it.
    """
    started = time.perf_counter()
    conversation: list[Message] = [{"role": m["role"], "content": m["content"]} for m in messages]
    usage = Usage(phase=phase, model=model, calls=0)
    last_error = ""
    attempts = max(0, max_retries) + 1
    for _ in range(attempts):
        try:
            reply = generate(conversation)
        except LLMError as exc:
            usage.latency_s = time.perf_counter() - started
            exc.usage = usage if usage.calls else exc.usage
            raise
        usage.calls += 1
        usage.prompt_tokens += reply.prompt_tokens
        usage.completion_tokens += reply.completion_tokens
        result = validate_reply(reply.text, schema)
        if not isinstance(result, str):
            usage.latency_s = time.perf_counter() - started
            return result, usage
        last_error = result
        if reply.truncated:
            last_error += " (the reply was cut off at the token limit)"
        conversation.extend(feedback_messages(reply.text, last_error))
    usage.latency_s = time.perf_counter() - started
    raise LLMError(
        f"phase '{phase}', model '{model}': no valid {schema.__name__} after "
        f"{attempts} attempt(s); last validation error: {one_line(last_error, 500)}",
        usage=usage,
    )
