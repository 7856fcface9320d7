"""The scripted provider that graph tests use in place of a model."""

from __future__ import annotations

import pytest
from llm_test_models import MESSAGES, VALID_REVIEW, Finding, Review, Severity

from lesson_author.llm import LLMError, Provider, ScriptedProvider


def test_replies_in_order_per_phase_and_counts() -> None:
    second = Review(summary="second", findings=[])
    provider = ScriptedProvider(
        {"review": [VALID_REVIEW, second], "orient": ['{"summary": "o", "findings": []}']}
    )
    assert isinstance(provider, Provider)

    first, usage = provider.complete(MESSAGES, Review, phase="review")
    assert first.findings == [Finding(severity=Severity.improvement, title="Add a worked example")]
    assert usage.calls == 1 and usage.prompt_tokens > 0 and usage.model == "scripted"
    assert provider.complete(MESSAGES, Review, phase="review")[0] == second
    assert provider.complete(MESSAGES, Review, phase="orient")[0].summary == "o"
    assert provider.calls == {"review": 2, "orient": 1}
    assert provider.requests[0] == ("review", MESSAGES)


def test_running_out_is_an_llm_error() -> None:
    provider = ScriptedProvider({"review": [VALID_REVIEW]})
    provider.complete(MESSAGES, Review, phase="review")
    with pytest.raises(LLMError, match="no more replies for this phase \\(1 used\\)"):
        provider.complete(MESSAGES, Review, phase="review")
    with pytest.raises(LLMError, match="phase 'design'"):
        provider.complete(MESSAGES, Review, phase="design")


def test_invalid_scripted_reply_goes_through_the_retry_loop() -> None:
    provider = ScriptedProvider({"review": [{"summary": 1}, VALID_REVIEW]})
    review, usage = provider.complete(MESSAGES, Review, phase="review")
    assert review.summary == VALID_REVIEW["summary"] and usage.calls == 2
    retry = provider.requests[1][1]
    assert retry[-1]["role"] == "user" and "summary" in retry[-1]["content"]


def test_invalid_replies_beyond_the_limit_fail_clearly() -> None:
    provider = ScriptedProvider({"review": [{"summary": 1}] * 3}, max_retries=1)
    with pytest.raises(LLMError) as caught:
        provider.complete(MESSAGES, Review, phase="review")
    assert "after 2 attempt(s)" in str(caught.value) and provider.remaining("review") == 1


def test_callable_script_sees_messages_schema_and_phase() -> None:
    seen = []

    def answer(messages, schema, phase):  # type: ignore[no-untyped-def]
        seen.append((messages[-1]["content"], schema, phase))
        return schema(summary=phase, findings=[])

    provider = ScriptedProvider(answer)
    review, _ = provider.complete(MESSAGES, Review, phase="design")
    assert review.summary == "design"
    assert seen == [("Review the lesson on gradients.", Review, "design")]
