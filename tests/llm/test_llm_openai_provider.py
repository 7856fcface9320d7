"""The OpenAI-compatible provider against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from llm_fake_server import SECRET_KEY, FakeOpenAIServer, ok, slow, status, text
from llm_test_models import MESSAGES, VALID_REVIEW, Review

from lesson_author.llm import LLMConfig, LLMError
from lesson_author.llm.openai_provider import OpenAIProvider, strict_json_schema

MakeServer = Callable[..., FakeOpenAIServer]


def provider_for(server: FakeOpenAIServer, **overrides: Any) -> OpenAIProvider:
    settings: dict[str, Any] = {
        "provider": "openai",
        "base_url": server.base_url,
        "model": "fake-model",
        "api_key": SECRET_KEY,
        "timeout_s": 5.0,
        "max_attempts": 3,
        "cache": False,
    }
    settings.update(overrides)
    # tiny backoff so retry tests take milliseconds, not seconds
    return OpenAIProvider(LLMConfig(**settings), backoff_base_s=0.01, backoff_cap_s=0.05)


def test_valid_object_first_time(make_server: MakeServer) -> None:
    server = make_server(ok(VALID_REVIEW))
    review, usage = provider_for(server).complete(MESSAGES, Review, phase="review")

    assert review == Review.model_validate(VALID_REVIEW)
    assert server.count == 1
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (1, 11, 7)
    assert usage.phase == "review" and usage.model == "fake-model" and not usage.cached
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert request.body["messages"] == MESSAGES
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    # a non-OpenAI server gets the full schema, length limits included
    sent = json.dumps(response_format["json_schema"]["schema"])
    assert '"maxLength": 120' in sent


def test_broken_json_is_fed_back_and_retried(make_server: MakeServer) -> None:
    server = make_server(text('{"summary": "unfinished'), ok(VALID_REVIEW))
    review, usage = provider_for(server).complete(MESSAGES, Review, phase="review")

    assert review.summary == VALID_REVIEW["summary"]
    assert server.count == 2 and usage.calls == 2
    retry_messages = server.requests[1].body["messages"]
    assert retry_messages[: len(MESSAGES)] == MESSAGES
    assert retry_messages[-2] == {"role": "assistant", "content": '{"summary": "unfinished'}
    assert "invalid JSON" in retry_messages[-1]["content"]


def test_a_raw_line_break_inside_a_string_is_taken_as_meant(make_server: MakeServer) -> None:
    """llama.cpp's JSON grammar lets a raw newline into a string (code, prose): strict JSON
    refuses it, but the object is what the model meant; no retry is spent on it."""
    raw = '{"summary": "line one\nline two\tend", "findings": []}'  # raw LF and TAB
    assert "\n" in raw and "\\n" not in raw
    server = make_server(text(raw))
    review, usage = provider_for(server).complete(MESSAGES, Review, phase="review")
    assert review.summary == "line one\nline two\tend"
    assert server.count == 1 and usage.calls == 1


def test_a_control_character_does_not_hide_a_schema_violation(make_server: MakeServer) -> None:
    bad = '{"summary": "two\nlines", "findings": [{"severity": "FATAL", "title": "t"}]}'
    server = make_server(text(bad), ok(VALID_REVIEW))
    provider_for(server).complete(MESSAGES, Review, phase="review")
    assert "findings.0.severity" in server.requests[1].body["messages"][-1]["content"]


def test_truncated_reply_says_so_in_the_feedback(make_server: MakeServer) -> None:
    server = make_server(text('{"summary": "cut', finish_reason="length"), ok(VALID_REVIEW))
    provider_for(server).complete(MESSAGES, Review, phase="review")
    assert "cut off at the token limit" in server.requests[1].body["messages"][-1]["content"]


def test_schema_violation_is_fed_back_and_retried(make_server: MakeServer) -> None:
    bad = {"summary": "x", "findings": [{"severity": "FATAL", "title": "t"}]}
    server = make_server(ok(bad), ok(VALID_REVIEW))
    review, usage = provider_for(server).complete(MESSAGES, Review, phase="review")

    assert review.findings[0].title == "Add a worked example"
    assert server.count == 2 and usage.calls == 2
    feedback = server.requests[1].body["messages"][-1]["content"]
    assert "findings.0.severity" in feedback


def test_gives_up_after_bounded_validation_retries(make_server: MakeServer) -> None:
    too_long = {"summary": "x" * 500, "findings": []}
    server = make_server(ok(too_long), ok(too_long), ok(too_long), ok(VALID_REVIEW))
    with pytest.raises(LLMError) as caught:
        provider_for(server, max_retries=2).complete(MESSAGES, Review, phase="analyze")

    assert server.count == 3  # 1 + 2 retries, the 4th step never asked for
    message = str(caught.value)
    assert "\n" not in message
    assert "phase 'analyze'" in message and "model 'fake-model'" in message
    assert "summary: String should have at most 120 characters" in message
    assert caught.value.usage is not None and caught.value.usage.calls == 3


def test_429_waits_for_retry_after(make_server: MakeServer) -> None:
    server = make_server(status(429, retry_after="1"), ok(VALID_REVIEW))
    started = time.monotonic()
    review, usage = provider_for(server).complete(MESSAGES, Review, phase="review")
    elapsed = time.monotonic() - started

    assert server.count == 2 and usage.calls == 1
    assert elapsed >= 1.0  # the backoff alone would have been ~0.01s
    assert review.summary == VALID_REVIEW["summary"]


def test_retry_after_beyond_the_limit_fails_at_once(make_server: MakeServer) -> None:
    server = make_server(status(429, retry_after="3600"), ok(VALID_REVIEW))
    started = time.monotonic()
    with pytest.raises(LLMError, match="asks to wait 3600s"):
        provider_for(server).complete(MESSAGES, Review, phase="review")
    assert server.count == 1 and time.monotonic() - started < 2


def test_500s_are_retried_with_backoff(make_server: MakeServer) -> None:
    server = make_server(status(500), status(503), ok(VALID_REVIEW))
    review, _ = provider_for(server).complete(MESSAGES, Review, phase="review")
    assert server.count == 3 and review.summary


def test_persistent_500_is_a_clear_error_after_max_attempts(make_server: MakeServer) -> None:
    server = make_server(*[status(500, message="upstream exploded")] * 5)
    with pytest.raises(LLMError) as caught:
        provider_for(server, max_attempts=3).complete(MESSAGES, Review, phase="design")
    assert server.count == 3
    message = str(caught.value)
    assert "phase 'design'" in message and "3 attempt(s)" in message
    assert "HTTP 500" in message and "upstream exploded" in message


def test_slow_reply_past_timeout_is_retried(make_server: MakeServer) -> None:
    server = make_server(slow(1.5, ok(VALID_REVIEW)), ok(VALID_REVIEW))
    started = time.monotonic()
    review, _ = provider_for(server, timeout_s=0.4).complete(MESSAGES, Review, phase="review")
    assert server.count == 2 and review.summary
    assert time.monotonic() - started < 1.5  # did not wait for the slow reply


def test_always_slow_is_a_timeout_error(make_server: MakeServer) -> None:
    server = make_server(*[slow(1.0, ok(VALID_REVIEW))] * 3)
    with pytest.raises(LLMError, match=r"no reply within 0\.3s"):
        provider_for(server, timeout_s=0.3, max_attempts=2).complete(
            MESSAGES, Review, phase="review"
        )
    assert server.count == 2


def test_falls_back_to_json_mode_when_json_schema_is_rejected(make_server: MakeServer) -> None:
    server = make_server(ok(VALID_REVIEW), ok(VALID_REVIEW), rejects_json_schema=True)
    provider = provider_for(server)

    review, usage = provider.complete(MESSAGES, Review, phase="review")
    assert review.summary == VALID_REVIEW["summary"]
    assert [r.body["response_format"]["type"] for r in server.requests] == [
        "json_schema",
        "json_object",
    ]
    system = server.requests[1].body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You review lessons.")
    assert "JSON schema" in system["content"] and '"findings"' in system["content"]
    assert provider.mode == "json_object" and usage.calls == 1

    provider.complete(MESSAGES, Review, phase="review")  # remembers: no second 400
    assert server.count == 3
    assert server.requests[2].body["response_format"] == {"type": "json_object"}


def test_400_in_json_mode_too_is_a_clear_error(make_server: MakeServer) -> None:
    server = make_server(status(400, message="temperature is not supported"))
    server.rejects_json_schema = True
    with pytest.raises(LLMError) as caught:
        provider_for(server).complete(MESSAGES, Review, phase="review")
    assert server.count == 2
    assert "HTTP 400 even in JSON mode" in str(caught.value)
    assert "temperature is not supported" in str(caught.value)


def test_refused_key_fails_at_once_without_showing_it(make_server: MakeServer) -> None:
    server = make_server(status(401, message="bad key"), echo_authorization=True)
    with pytest.raises(LLMError) as caught:
        provider_for(server).complete(MESSAGES, Review, phase="review")
    assert server.count == 1
    message = str(caught.value)
    assert "HTTP 401" in message and "refused the API key" in message
    assert SECRET_KEY not in message and SECRET_KEY not in repr(caught.value)
    assert "[REDACTED]" in message  # the server echoed it; we scrubbed it
    assert caught.value.__cause__ is None  # no chained exception carrying the raw text


def test_no_server_is_a_connection_error() -> None:
    import socket

    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = LLMConfig(
        provider="openai",
        base_url=f"http://127.0.0.1:{port}/v1",
        model="m",
        max_attempts=2,
        timeout_s=2,
        cache=False,
    )
    provider = OpenAIProvider(config, backoff_base_s=0.01, backoff_cap_s=0.02)
    with pytest.raises(LLMError, match="cannot connect") as caught:
        provider.complete(MESSAGES, Review, phase="orient")
    assert "2 attempt(s)" in str(caught.value)


def test_local_endpoint_without_key_sends_a_placeholder(make_server: MakeServer) -> None:
    server = make_server(ok(VALID_REVIEW))
    provider_for(server, api_key=None).complete(MESSAGES, Review, phase="review")
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"


def test_openai_itself_without_key_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        OpenAIProvider(LLMConfig(provider="openai", model="gpt-4o-mini", cache=False))


def test_strict_schema_for_openai_moves_length_limits_into_descriptions() -> None:
    schema = strict_json_schema(Review)
    text_schema = json.dumps(schema)
    assert "maxLength" not in text_schema and '"default"' not in text_schema
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["summary", "findings"]
    assert "at most 120 characters" in schema["properties"]["summary"]["description"]
    finding = schema["$defs"]["Finding"]
    assert finding["additionalProperties"] is False and finding["required"] == [
        "severity",
        "title",
    ]
    # and the provider sends that subset when talking to api.openai.com
    provider = OpenAIProvider(
        LLMConfig(provider="openai", model="gpt-4o-mini", api_key=SECRET_KEY, cache=False)
    )
    assert provider._response_format(Review, "json_schema")["json_schema"]["schema"] == schema
