"""The embedded SmolLM2 model, for real: llama.cpp in process, schema-constrained."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

pytest.importorskip(
    "llama_cpp",
    reason="llama-cpp-python is not importable here (pip install 'lesson-author[local]'); "
    "CI installs it",
)

from lesson_author.llm import (
    LLMConfig,
    LLMError,
    UsageLog,
    make_provider,
    schema_token_budget,
    unbounded_fields,
)
from lesson_author.llm.local_provider import (
    LocalProvider,
    available_threads,
    load_model,
)


class Modality(str, Enum):
    visual = "visual"
    verbal = "verbal"
    hands_on = "hands-on"


class Section(BaseModel):
    modality: Modality
    title: str = Field(min_length=1, max_length=32)


class Outline(BaseModel):
    topic: str = Field(min_length=1, max_length=32)
    sections: list[Section] = Field(min_length=1, max_length=3)


MESSAGES = [
    {"role": "system", "content": "You plan short lessons. Answer in JSON."},
    {"role": "user", "content": "Outline a lesson about fractions in at most three sections."},
]


@pytest.mark.slow
def test_embedded_model_gives_a_valid_nested_instance_and_caches_it(tmp_path: Path) -> None:
    assert unbounded_fields(Outline) == []
    log = UsageLog()
    config = LLMConfig(provider="local", cache=True, cache_path=tmp_path / "cache.sqlite")
    provider = make_provider(config, usage_log=log)
    assert provider.name == "local" and provider.model == "SmolLM2-135M-Instruct.Q4_1"

    outline, usage = provider.complete(MESSAGES, Outline, phase="design")

    assert isinstance(outline, Outline)
    assert 1 <= len(outline.sections) <= 3
    assert all(
        isinstance(s.modality, Modality) and 1 <= len(s.title) <= 32 for s in outline.sections
    )
    assert usage.calls >= 1 and not usage.cached and usage.prompt_tokens > 0
    budget = schema_token_budget(Outline)
    assert budget is not None and 0 < usage.completion_tokens <= budget * usage.calls

    again, cached = provider.complete(MESSAGES, Outline, phase="design")
    assert again == outline and cached.cached and cached.calls == 0
    assert [row.calls for row in log.summarize()] == [usage.calls]


@pytest.mark.slow
def test_model_is_loaded_once_per_process_with_all_cores() -> None:
    first = LocalProvider(LLMConfig(provider="local", cache=False))
    second = LocalProvider(LLMConfig(provider="local", cache=False))
    loaded = load_model(first.path, first.n_ctx)
    assert load_model(second.path, second.n_ctx) is loaded
    assert loaded.llama.n_threads == loaded.threads
    assert 1 <= loaded.threads <= max(available_threads(load=0.0), 1)
    assert loaded.llama.n_ctx() == 8192


@pytest.mark.slow
def test_weights_stay_in_plain_cpu_buffers_and_generation_runs() -> None:
    """llama.cpp's AMX weight buffer crashes generation on Xeons with AMX (SIGSEGV): the
    model is built with extra buffer types off, and the factory is put back afterwards."""
    import llama_cpp.llama_cpp as raw

    provider = LocalProvider(LLMConfig(provider="local", cache=False))
    loaded = load_model(provider.path, provider.n_ctx)
    assert loaded.llama.model_params.use_extra_bufts is False
    assert raw.llama_model_default_params().use_extra_bufts is True
    with loaded.lock:
        reply = loaded.llama.create_completion("The sky is", max_tokens=4, temperature=0)
    assert reply["usage"]["completion_tokens"] >= 1


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"GGUF but not really" * 10)
    provider = make_provider(LLMConfig(provider="local", local_model=bogus, cache=False))
    with pytest.raises(LLMError) as caught:
        provider.complete(MESSAGES, Outline, phase="design")
    assert f"cannot load the local model {bogus}" in str(caught.value)


def test_a_schema_without_a_grammar_is_a_clear_error() -> None:
    class Code(BaseModel):
        code: str = Field(pattern="[A-Z]+", max_length=5)  # unanchored: no grammar for it

    provider = LocalProvider(LLMConfig(provider="local", cache=False))
    with pytest.raises(LLMError, match="cannot be compiled to a grammar"):
        provider.grammar_for(Code, "design")


@pytest.mark.slow
def test_prompt_longer_than_the_context_is_a_clear_error() -> None:
    provider = LocalProvider(LLMConfig(provider="local", cache=False, n_ctx=512))
    long_prompt = [{"role": "user", "content": "fractions " * 800}]
    with pytest.raises(LLMError) as caught:
        provider.complete(long_prompt, Outline, phase="analyze")
    message = str(caught.value)
    assert "phase 'analyze'" in message and "n_ctx=512" in message


@pytest.mark.slow
def test_repetition_penalties_reach_llama_cpp_and_the_counters_come_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AUTHOR_LOCAL_SAMPLING's penalties are what llama.cpp's sampler chain is built with, and
    each call reports llama.cpp's own prompt-eval and decode counters."""
    monkeypatch.setenv("AUTHOR_LOCAL_SAMPLING", "repeat=1.3,frequency=0.2,presence=0.1")
    provider = LocalProvider(LLMConfig(provider="local", cache=False))
    llama = load_model(provider.path, provider.n_ctx).llama
    built: list[dict[str, float]] = []
    init_sampler = llama._init_sampler

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        built.append({k: kwargs[k] for k in ("repeat_penalty", "frequency_penalty")})
        built[-1]["presence_penalty"] = kwargs["presence_penalty"]
        return init_sampler(**kwargs)

    monkeypatch.setattr(llama, "_init_sampler", spy)
    llama.reset()  # evaluate the whole prompt: the counters must show it
    outline, usage = provider.complete(MESSAGES, Outline, phase="plan")
    assert isinstance(outline, Outline)
    assert built and all(
        b == {"repeat_penalty": 1.3, "frequency_penalty": 0.2, "presence_penalty": 0.1}
        for b in built
    )
    # the cached replies are keyed by every sampling setting, DRY's too
    assert provider.cache_identity()["sampling"] == {
        "repeat": 1.3,
        "frequency": 0.2,
        "presence": 0.1,
        "dry": 0.0,
    }
    assert usage.prompt_eval_tokens >= usage.prompt_tokens - 1 > 0
    assert 0 < usage.decode_tokens <= usage.completion_tokens
    assert 0 < usage.prompt_eval_s + usage.decode_s <= usage.generate_s
