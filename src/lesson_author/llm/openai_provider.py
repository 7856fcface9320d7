"""Any OpenAI-compatible chat endpoint: OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio.

Structured outputs (`response_format` json_schema, strict) first; when the endpoint
rejects that with a 400/422, JSON mode (`json_object`) with the schema in the
prompt, for the rest of the process. Either way the reply is validated here and
retried with the error fed back. Transport failures (429, 5xx, connection
errors) are retried with exponential backoff and jitter, honouring
Retry-After, at most `max_attempts` times per model call; a timeout (no reply
within `timeout_s`) is retried once. Every retry is said on stderr as it
happens (attempt, reason, wait), and so is a long wait for a reply (a line
every `wait_notice_s`), so that a hung endpoint is never silent.
"""

from __future__ import annotations

import copy
import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import openai
from pydantic import BaseModel

from .base import Message, ModelT, RawReply, complete_with_validation
from .config import LLMConfig, redact_url, register_url_secrets
from .errors import LLMError, one_line, register_secret, scrub
from .usage import Usage

PLACEHOLDER_API_KEY = "not-needed"
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
MAX_TIMEOUT_ATTEMPTS = 2  # a hung endpoint: one more try, not max_attempts * timeout_s
SCHEMA_REJECTED_STATUS = {400, 422}
# OpenAI's strict mode refuses these keywords; their meaning moves into the description
_STRICT_UNSUPPORTED = ("maxLength", "minLength", "default", "title")


def is_openai_endpoint(base_url: str | None) -> bool:
    if base_url is None:
        return True
    host = urlparse(base_url).hostname or ""
    return host == "openai.com" or host.endswith(".openai.com")


def _strict_node(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict_node(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:  # strict mode wants $ref alone
        return {"$ref": node["$ref"]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: _strict_node(sub) for name, sub in value.items()}
        elif key not in _STRICT_UNSUPPORTED:
            out[key] = _strict_node(value)
    limits = []
    if "minLength" in node:
        limits.append(f"at least {node['minLength']}")
    if "maxLength" in node:
        limits.append(f"at most {node['maxLength']}")
    if limits:
        note = f"({' and '.join(limits)} characters)"
        out["description"] = f"{node['description']} {note}" if node.get("description") else note
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def strict_json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The subset OpenAI's strict structured outputs accept: every property required,
    no additional properties, no length keywords (stated in the description instead).
    Local validation still enforces the full schema."""
    return _strict_node(copy.deepcopy(schema.model_json_schema()))


def full_json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The schema with its length limits, for servers that compile it into a grammar."""
    return schema.model_json_schema()


def _schema_name(schema: type[BaseModel]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64] or "reply"


def with_schema_instruction(messages: list[Message], schema: type[BaseModel]) -> list[Message]:
    """JSON mode only promises some JSON object: say which one in the system message."""
    instruction = (
        "Reply with only a JSON object that is valid for this JSON schema:\n"
        + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )
    out: list[Message] = [{"role": m["role"], "content": m["content"]} for m in messages]
    if out and out[0]["role"] == "system":
        out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + instruction}
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds the server asks us to wait (Retry-After / retry-after-ms), if it says."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def say_on_stderr(line: str) -> None:
    """Where retries and long waits are told: one line on stderr, as they happen."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class _WaitNotice:
    """While a request runs, a line every ``every`` seconds saying how long it has waited."""

    def __init__(self, say: Callable[[str], None], every: float, text: Callable[[float], str]):
        self._say, self._every, self._text = say, every, text
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._done.wait(self._every):
            self._say(self._text(time.monotonic() - started))

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


class _SchemaRejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        config: LLMConfig,
        *,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 20.0,
        max_retry_after_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = say_on_stderr,
    ) -> None:
        if not config.model:
            raise LLMError("no model configured for the OpenAI-compatible provider")
        api_key = config.api_key
        if not api_key:
            if config.base_url is None:
                raise LLMError(
                    "the OpenAI provider needs an API key: set OPENAI_API_KEY or pass "
                    "--api-key (or point --base-url at a local server)"
                )
            api_key = PLACEHOLDER_API_KEY  # local servers ignore it; the client requires one
        register_secret(config.api_key)
        register_url_secrets(config.base_url)
        self.model: str = config.model
        self.base_url = config.base_url
        self.temperature = config.temperature
        self.seed = config.seed
        self.timeout_s = config.timeout_s
        self.max_retries = config.max_retries
        self.max_attempts = config.max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._say = say
        self.wait_notice_s = config.wait_notice_s
        self._strict_subset = is_openai_endpoint(config.base_url)
        self._mode = "json_schema"
        self._mode_lock = threading.Lock()
        self._client = openai.OpenAI(
            base_url=config.base_url or OPENAI_DEFAULT_BASE_URL,
            api_key=api_key,
            timeout=config.timeout_s,
            max_retries=0,
        )

    @property
    def endpoint(self) -> str:
        """The endpoint as printed and stored (cache key, errors): credentials redacted."""
        return redact_url(self.base_url) or OPENAI_DEFAULT_BASE_URL

    @property
    def mode(self) -> str:
        """ "json_schema" (structured outputs) or "json_object" (after a rejection)."""
        return self._mode

    def cache_identity(self) -> dict[str, Any]:
        return {
            "provider": self.name,
            "model": self.model,
            "endpoint": self.endpoint,
            "temperature": self.temperature,
            "seed": self.seed,
        }

    # -- one model call ---------------------------------------------------------------

    def _response_format(self, schema: type[BaseModel], mode: str) -> dict[str, Any]:
        if mode == "json_object":
            return {"type": "json_object"}
        body = strict_json_schema(schema) if self._strict_subset else full_json_schema(schema)
        return {
            "type": "json_schema",
            "json_schema": {"name": _schema_name(schema), "schema": body, "strict": True},
        }

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)

    def _fail(self, phase: str, text: str) -> LLMError:
        return LLMError(f"phase '{phase}', model '{self.model}', endpoint {self.endpoint}: {text}")

    def _request(self, messages: list[Message], response_format: dict[str, Any], phase: str) -> Any:
        """One chat completion, retried on transient failures; raises LLMError or _SchemaRejected."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "response_format": response_format,
            "temperature": self.temperature,
        }
        if self.seed is not None:
            kwargs["seed"] = self.seed
        last = ""
        timeouts = 0
        for attempt in range(1, self.max_attempts + 1):
            wait: float | None = None
            try:
                with _WaitNotice(
                    self._say,
                    self.wait_notice_s,
                    lambda s, a=attempt: (
                        f"  {phase}: waiting for {self.model}'s reply, "
                        f"{s:.0f}s so far (attempt {a}/{self.max_attempts}, timeout "
                        f"{self.timeout_s:g}s)"
                    ),
                ):
                    return self._client.chat.completions.create(**kwargs)
            except openai.APITimeoutError:
                last = f"no reply within {self.timeout_s:g}s"
                timeouts += 1
                if timeouts >= MAX_TIMEOUT_ATTEMPTS:
                    break
            except openai.APIConnectionError as exc:
                last = f"cannot connect ({one_line(str(exc.__cause__ or exc), 200)})"
            except openai.APIStatusError as exc:
                status = exc.status_code
                detail = one_line(str(exc.message), 300)
                if status in (401, 403):
                    raise self._fail(
                        phase, f"HTTP {status}, the endpoint refused the API key: {detail}"
                    ) from None
                if status in SCHEMA_REJECTED_STATUS:
                    raise _SchemaRejected(status, detail) from None
                if status not in RETRYABLE_STATUS:
                    raise self._fail(phase, f"HTTP {status}: {detail}") from None
                last = f"HTTP {status}: {detail}"
                wait = retry_after_seconds(exc.response.headers)
                if wait is not None and wait > self.max_retry_after_s:
                    raise self._fail(
                        phase,
                        f"{last}; the endpoint asks to wait {wait:.0f}s "
                        f"(more than {self.max_retry_after_s:.0f}s), try again later",
                    ) from None
            if attempt < self.max_attempts:
                pause = wait if wait is not None else self._backoff(attempt)
                asked = " (as the endpoint asked)" if wait is not None else ""
                self._say(
                    scrub(
                        f"  {phase}: attempt {attempt}/{self.max_attempts} failed: {last}; "
                        f"retrying in {pause:.1f}s{asked}"
                    )
                )
                self._sleep(pause)
        raise self._fail(phase, f"failed after {attempt} attempt(s); last error: {last}")

    def _generate(
        self, conversation: list[Message], schema: type[BaseModel], phase: str
    ) -> RawReply:
        mode = self._mode
        while True:
            sent = (
                conversation
                if mode == "json_schema"
                else with_schema_instruction(conversation, schema)
            )
            try:
                response = self._request(sent, self._response_format(schema, mode), phase)
                break
            except _SchemaRejected as exc:
                if mode == "json_schema":
                    with self._mode_lock:
                        self._mode = mode = "json_object"
                    continue
                raise self._fail(
                    phase, f"HTTP {exc.status} even in JSON mode: {exc.detail}"
                ) from None
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        if not response.choices:
            return RawReply(None, prompt_tokens, completion_tokens)
        choice = response.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise self._fail(phase, f"the model refused: {one_line(refusal, 300)}")
        return RawReply(
            text=choice.message.content,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            truncated=choice.finish_reason == "length",
        )

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]:
        return complete_with_validation(
            lambda conversation: self._generate(conversation, schema, phase),
            messages,
            schema,
            phase=phase,
            model=self.model,
            max_retries=self.max_retries,
        )
