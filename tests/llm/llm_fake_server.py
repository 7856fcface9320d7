"""A small OpenAI-compatible HTTP server for the LLM provider tests.

Real socket on 127.0.0.1 (ephemeral port), real HTTP, in a daemon thread. Each
request to /v1/chat/completions takes the next step of a script:

    ok(obj)               200, the object as the message content
    text("...")           200, raw text as the content (broken JSON)
    status(429, retry_after="1")   an error status, optional Retry-After
    slow(seconds, step)   sleep, then answer with `step`
    schema_reply()        200, a reply valid for the request's own schema
    drop()                close the connection without answering

`auto=True` answers every request past the script with `schema_reply()` (a whole
`author lesson` run against the server); `on_request(n)` is called as request n
arrives (a test kills the client there). `rejects_json_schema=True` answers 400 to any request whose response_format is
json_schema, without using a step (an endpoint that only knows JSON mode). The
server refuses more than `max_requests` requests, answers 418 when the script
is exhausted, and shuts itself down after `lifetime_s` if a test forgets to.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_KEY = "sk-test-SECRET-4f9a2c7e1b"


@dataclass
class Step:
    status: int = 200
    content: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    error_message: str = ""
    finish_reason: str = "stop"
    from_schema: bool = False  # build the content from the request's schema
    drop: bool = False  # close the connection without a response


def ok(obj: Any) -> Step:
    return Step(content=json.dumps(obj))


def text(raw: str, finish_reason: str = "stop") -> Step:
    return Step(content=raw, finish_reason=finish_reason)


def status(code: int, *, retry_after: str | None = None, message: str = "") -> Step:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Step(status=code, headers=headers, error_message=message or f"fake error {code}")


def slow(seconds: float, step: Step) -> Step:
    return Step(
        status=step.status,
        content=step.content,
        headers=step.headers,
        delay_s=seconds,
        error_message=step.error_message,
        from_schema=step.from_schema,
        drop=step.drop,
    )


def schema_reply() -> Step:
    return Step(from_schema=True)


def drop() -> Step:
    return Step(drop=True)


# ---------------------------------------------------------------- replies built from a schema

_WORDS = [
    "latent",
    "noise",
    "schedule",
    "denoiser",
    "patch",
    "token",
    "attention",
    "prompt",
    "encoder",
    "sampler",
    "guidance",
    "resolution",
    "decoder",
    "step",
    "budget",
    "quality",
    "speed",
    "pipeline",
    "training",
    "inference",
    "image",
    "text",
]


class _Writer:
    """Schema-valid values: varied words (not one word repeated), within every bound.

    Each string's words come from a generator seeded by the string's place in the reply
    (``concepts/2/notes``): strings at different places differ, as a sane model writes (text
    made of one cycle of words repeated is degenerate, and the LLM layer re-asks for it), and
    the same request always gets the same reply, so a resumed run writes what an unbroken
    run does."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs = schema.get("$defs", {})
        self.n = 0

    def words(self, low: int, high: int | None, path: str) -> str:
        rng = random.Random(path)
        out: list[str] = []
        while len(" ".join(out)) < max(low, 24):
            out.append(rng.choice(_WORDS))
        text = " ".join(out)
        if high is not None and len(text) > high:
            text = text[:high].rstrip() or "x" * max(1, min(high, low or 1))
        return text

    def value(self, node: dict[str, Any], path: str = "") -> Any:
        if "$ref" in node:
            return self.value(self.defs[node["$ref"].rsplit("/", 1)[-1]], path)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            self.n += 1
            return node["enum"][self.n % len(node["enum"])]
        for key in ("anyOf", "oneOf"):
            if key in node:
                options = [o for o in node[key] if o.get("type") != "null"] or node[key]
                return self.value(options[0], path)
        if "allOf" in node:
            return self.value(node["allOf"][0], path)
        kind = node.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            props = node.get("properties", {})
            return {name: self.value(sub, f"{path}/{name}") for name, sub in props.items()}
        if kind == "array":
            low = int(node.get("minItems", 0))
            high = node.get("maxItems")
            count = max(low, 1 if high is None or high >= 1 else 0)
            if high is not None:
                count = min(count, int(high))
            return [self.value(node.get("items", {}), f"{path}/{i}") for i in range(count)]
        if kind == "string":
            return self.words(int(node.get("minLength", 0)), node.get("maxLength"), path)
        if kind in ("integer", "number"):
            low = node.get(
                "minimum", node.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in node else 1
            )
            high = node.get("maximum")
            value = low if high is None else min(low, high)
            return int(value) if kind == "integer" else float(value)
        if kind == "boolean":
            return True
        return None


def reply_for_schema(schema: dict[str, Any]) -> Any:
    """A value valid for the JSON schema `schema` (objects, arrays, strings, numbers, enums,
    $ref/$defs, anyOf, bounds)."""
    return _Writer(schema).value(schema)


def request_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema a chat request asks for: response_format json_schema, else (JSON mode) the
    schema the provider puts at the end of the system message."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return response_format["json_schema"]["schema"]
    for message in body.get("messages", []):
        if message.get("role") == "system":
            last = str(message.get("content", "")).rsplit("\n", 1)[-1]
            try:
                return json.loads(last)
            except json.JSONDecodeError:
                return None
    return None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeOpenAIServer:
    def __init__(
        self,
        steps: list[Step] | None = None,
        *,
        rejects_json_schema: bool = False,
        echo_authorization: bool = False,
        max_requests: int = 30,
        lifetime_s: float = 60.0,
        model: str = "fake-model",
        auto: bool = False,
        on_request: Any = None,
    ) -> None:
        self.steps: list[Step] = list(steps or [])
        self.auto = auto
        self.on_request = on_request
        self.rejects_json_schema = rejects_json_schema
        self.echo_authorization = echo_authorization
        self.max_requests = max_requests
        self.model = model
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._watchdog = threading.Timer(lifetime_s, self.stop)
        self._watchdog.daemon = True
        self._stopped = False

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def add(self, *steps: Step) -> None:
        with self._lock:
            self.steps.extend(steps)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        self._watchdog.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._watchdog.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- request handling ---------------------------------------------------------

    def _next(self, recorded: Recorded) -> Step:
        with self._lock:
            self.requests.append(recorded)
            if len(self.requests) > self.max_requests:
                return Step(status=418, error_message="fake server: request budget exceeded")
            response_format = recorded.body.get("response_format") or {}
            if self.rejects_json_schema and response_format.get("type") == "json_schema":
                return Step(
                    status=400,
                    error_message="response_format of type json_schema is not supported",
                )
            if not self.steps:
                if self.auto:
                    return schema_reply()
                return Step(status=418, error_message="fake server: script exhausted")
            return self.steps.pop(0)

    def _completion_body(self, step: Step) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": step.content},
                    "finish_reason": step.finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {}
                recorded = Recorded(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                step = server._next(recorded)
                if server.on_request is not None:
                    server.on_request(server.count)
                if step.delay_s:
                    time.sleep(step.delay_s)
                if step.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                if step.from_schema:
                    schema = request_schema(body)
                    content = json.dumps(reply_for_schema(schema)) if schema else "{}"
                    step = Step(content=content)
                if step.status == 200:
                    payload = server._completion_body(step)
                else:
                    message = step.error_message
                    if server.echo_authorization:
                        message += f" (got Authorization: {self.headers.get('Authorization')})"
                    payload = {"error": {"message": message, "type": "fake", "code": None}}
                data = json.dumps(payload).encode()
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        return Handler


def files_containing(root: Any, needle: str) -> list[str]:
    """Every file under `root` whose bytes contain `needle`."""
    from pathlib import Path

    hits = []
    for path in Path(root).rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            hits.append(str(path))
    return hits
