"""The response cache: a repeated call costs no model call, across providers and processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from llm_fake_server import SECRET_KEY, FakeOpenAIServer, ok, status
from llm_test_models import MESSAGES, VALID_REVIEW, Review

from lesson_author.llm import (
    CachedProvider,
    LLMConfig,
    LLMError,
    ResponseCache,
    ScriptedProvider,
    UsageLog,
    make_provider,
)

MakeServer = Callable[..., FakeOpenAIServer]


def openai_config(server: FakeOpenAIServer, tmp_path: Path, **overrides: object) -> LLMConfig:
    settings: dict[str, object] = {
        "provider": "openai",
        "base_url": server.base_url,
        "model": "fake-model",
        "api_key": SECRET_KEY,
        "timeout_s": 5.0,
        "max_attempts": 2,
        "cache": True,
        "cache_path": tmp_path / ".author" / "cache.sqlite",
    }
    settings.update(overrides)
    return LLMConfig(**settings)  # type: ignore[arg-type]


def test_second_identical_call_makes_no_request(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server(ok(VALID_REVIEW), ok(VALID_REVIEW))
    log = UsageLog()
    provider = make_provider(openai_config(server, tmp_path), usage_log=log)

    first, first_usage = provider.complete(MESSAGES, Review, phase="review")
    second, second_usage = provider.complete(MESSAGES, Review, phase="review")

    assert server.count == 1
    assert first == second
    assert (first_usage.cached, first_usage.calls) == (False, 1)
    assert (second_usage.cached, second_usage.calls) == (True, 0)
    assert second_usage.prompt_tokens == 11  # the original call's usage, kept
    [row] = log.summarize()
    assert (row.requests, row.calls, row.cache_hits, row.prompt_tokens) == (2, 1, 1, 11)


def test_cache_survives_a_new_process_provider(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server(ok(VALID_REVIEW))
    make_provider(openai_config(server, tmp_path)).complete(MESSAGES, Review, phase="review")
    # a fresh provider (as in a re-run) over the same file
    again = make_provider(openai_config(server, tmp_path))
    _, usage = again.complete(MESSAGES, Review, phase="review")
    assert usage.cached and server.count == 1


def test_different_inputs_miss(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server(ok(VALID_REVIEW), ok(VALID_REVIEW), ok(VALID_REVIEW))
    provider = make_provider(openai_config(server, tmp_path))
    provider.complete(MESSAGES, Review, phase="review")
    provider.complete(MESSAGES + [{"role": "user", "content": "More."}], Review, phase="review")
    assert server.count == 2
    hotter = make_provider(openai_config(server, tmp_path, temperature=0.7))
    hotter.complete(MESSAGES, Review, phase="review")  # sampling params are in the key
    assert server.count == 3


def test_no_cache_always_calls(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server(ok(VALID_REVIEW), ok(VALID_REVIEW))
    provider = make_provider(openai_config(server, tmp_path, cache=False))
    provider.complete(MESSAGES, Review, phase="review")
    _, usage = provider.complete(MESSAGES, Review, phase="review")
    assert server.count == 2 and not usage.cached
    assert not (tmp_path / ".author").exists()


def test_failures_are_not_cached(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server(status(500), ok(VALID_REVIEW))
    provider = make_provider(openai_config(server, tmp_path, max_attempts=1))
    with pytest.raises(LLMError):
        provider.complete(MESSAGES, Review, phase="review")
    _, usage = provider.complete(MESSAGES, Review, phase="review")
    assert not usage.cached and server.count == 2


def test_api_key_never_reaches_a_file(make_server: MakeServer, tmp_path: Path) -> None:
    """Grep every file a run writes (cache, WAL, usage log, error text) for the key."""
    server = make_server(
        ok(VALID_REVIEW),
        ok({"summary": 3}),
        ok(VALID_REVIEW),
        status(401, message="nope"),
        echo_authorization=True,
    )
    log = UsageLog()
    provider = make_provider(openai_config(server, tmp_path), usage_log=log)
    provider.complete(MESSAGES, Review, phase="orient")
    provider.complete(MESSAGES + [{"role": "user", "content": "again"}], Review, phase="design")
    with pytest.raises(LLMError) as caught:
        provider.complete(MESSAGES + [{"role": "user", "content": "3"}], Review, phase="review")
    (tmp_path / "usage.json").write_text(log.to_json())
    (tmp_path / "error.txt").write_text(f"{caught.value}\n{caught.value!r}")

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "cache.sqlite" for p in written)
    for path in written:
        assert SECRET_KEY.encode() not in path.read_bytes(), path
    assert ResponseCache(tmp_path / ".author" / "cache.sqlite").count() == 2


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    """Two processes write and read the same cache at once; no lost rows, no lock errors."""
    cache_file = tmp_path / "cache.sqlite"
    worker = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from pydantic import BaseModel, Field
        from lesson_author.llm import CachedProvider, ResponseCache, ScriptedProvider

        class Reply(BaseModel):
            n: int
            who: str = Field(max_length=10)

        name = sys.argv[1]
        inner = ScriptedProvider(lambda messages, schema, phase: {{"n": len(messages[0]["content"]), "who": name}})
        provider = CachedProvider(inner, ResponseCache(Path({str(cache_file)!r})))
        for i in range(60):
            # keys 0..39 are this process's own, 40..59 are shared with the other one
            key = f"{{name}}-{{i}}" if i < 40 else f"shared-{{i}}"
            provider.complete([{{"role": "user", "content": key}}], Reply, phase="p")
        print(sum(inner.calls.values()))
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", worker, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    calls = [int(out.strip()) for out, _ in outputs]
    assert all(40 <= c <= 60 for c in calls)
    assert ResponseCache(cache_file).count() == 100


def test_cached_provider_keeps_name_and_model(tmp_path: Path) -> None:
    inner = ScriptedProvider({"p": [VALID_REVIEW]}, model="m1")
    cached = CachedProvider(inner, ResponseCache(tmp_path / "c.sqlite"))
    assert (cached.name, cached.model) == ("scripted", "m1")
    cached.complete(MESSAGES, Review, phase="p")
    _, usage = cached.complete(MESSAGES, Review, phase="other-phase-same-question")
    assert usage.cached and inner.calls["p"] == 1


def test_unwritable_cache_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LLMError, match="--no-cache"):
        ResponseCache(blocker / "cache.sqlite")
