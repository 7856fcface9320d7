"""Bounded concurrency inside a lesson: independent section calls at once, in outline order,
their usage counted for the node that made them; the embedded model one call at a time."""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from lesson_samples import PASS_REVIEW, make_course, requires_shared, scripted_author
from typer.testing import CliRunner

from lesson_author.lesson.lesson_doc import FRAME_ROLES, section_role
from lesson_author.llm.config import LLMConfig
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.build import build_node
from lesson_author.pipeline.concurrency import default_concurrency, map_in_order
from lesson_author.pipeline.graph import wrap_node
from lesson_author.pipeline.lesson_files import current_plan
from lesson_author.pipeline.lesson_writer import build_lesson
from lesson_author.pipeline.runner import make_run_context
from lesson_author.pipeline.state import LessonState

SLUG = "z-image"
DELAY_S = 0.2


class SleepyProvider(ScriptedProvider):
    """The scripted author, but every call of ``phases`` takes ``delay`` seconds; it notes how
    many of those calls ran at once."""

    def __init__(self, delay: float = DELAY_S, phases: tuple[str, ...] = ("build_section",)):
        super().__init__(scripted_author([PASS_REVIEW] * 5))
        self.delay = delay
        self.phases = phases
        self.running = 0
        self.peak = 0
        self.threads: set[str] = set()
        self._gauge = threading.Lock()

    def complete(self, messages, schema, *, phase):  # type: ignore[override]
        if phase not in self.phases:
            return super().complete(messages, schema, phase=phase)
        with self._gauge:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(self.delay)
            return super().complete(messages, schema, phase=phase)
        finally:
            with self._gauge:
                self.running -= 1


# ---------------------------------------------------------------- map_in_order


def test_map_in_order_keeps_input_order_and_never_runs_more_than_k() -> None:
    running, peak, gauge = [0], [0], threading.Lock()

    def work(n: int) -> int:
        with gauge:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05 if n % 2 else 0.1)  # later items finish first
        with gauge:
            running[0] -= 1
        return n * n

    assert map_in_order(work, range(9), workers=3) == [n * n for n in range(9)]
    assert peak[0] == 3


def test_map_in_order_runs_each_task_in_a_copy_of_the_callers_context() -> None:
    var: contextvars.ContextVar[str | None] = contextvars.ContextVar("var", default=None)
    token = var.set("build")
    try:
        seen = map_in_order(lambda _: var.get(), range(4), workers=4)
    finally:
        var.reset(token)
    assert seen == ["build"] * 4


def test_map_in_order_raises_the_earliest_failure_and_cancels_what_has_not_started() -> None:
    started: list[int] = []

    def work(n: int) -> int:
        started.append(n)
        if n in (1, 2):
            time.sleep(0.05 if n == 1 else 0.0)
            raise ValueError(f"item {n}")
        time.sleep(0.1)
        return n

    with pytest.raises(ValueError, match="item 1"):
        map_in_order(work, range(40), workers=3)
    assert len(started) < 40


def test_one_worker_runs_in_the_calling_thread() -> None:
    names = map_in_order(lambda _: threading.current_thread().name, range(3), workers=1)
    assert set(names) == {threading.current_thread().name}


# ---------------------------------------------------------------- defaults


def test_default_concurrency_per_provider(tmp_path: Path) -> None:
    endpoint = LLMConfig(provider="openai", base_url="http://localhost:9/v1", model="m")
    assert default_concurrency(endpoint) == 4
    assert default_concurrency(LLMConfig(provider="local")) == 1
    assert default_concurrency(LLMConfig(provider="auto")) == 1  # no endpoint: embedded
    assert default_concurrency(ScriptedProvider({})) == 1


@requires_shared
def test_run_context_takes_the_default_or_the_option(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    provider = ScriptedProvider({})
    assert make_run_context(SLUG, records_dir=root, config=provider).max_concurrency == 1
    run = make_run_context(SLUG, records_dir=root, config=provider, max_concurrency=6)
    assert run.max_concurrency == 6


# ---------------------------------------------------------------- section builds


def _content_sections(run: Any) -> list[Any]:
    plan = current_plan(None, run)
    return [s for s in plan.outline if section_role(s.title) not in FRAME_ROLES]


@requires_shared
def test_sections_build_k_at_a_time_in_outline_order(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    provider = SleepyProvider()
    workers = 4
    run = make_run_context(SLUG, records_dir=root, config=provider, max_concurrency=workers)
    content = _content_sections(run)
    n = len(content)
    assert n >= 8

    started = time.perf_counter()
    lesson = build_lesson(run, current_plan(None, run))
    elapsed = time.perf_counter() - started

    rounds = -(-n // workers)  # ceil(n / k) rounds of DELAY_S each
    assert rounds * DELAY_S <= elapsed < rounds * DELAY_S + 0.6, (n, elapsed)
    assert elapsed < n * DELAY_S / 2  # one at a time would take n * DELAY_S
    assert provider.peak == workers and len(provider.threads) == workers
    plan = current_plan(None, run)
    assert [s.number for s in lesson.sections] == [s.number for s in plan.outline]
    built = {s.number: s.heading for s in lesson.sections}
    assert all(built[s.number] == f"Heading {s.number}" for s in content)


@requires_shared
def test_concurrent_calls_are_counted_for_the_build_node(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    provider = SleepyProvider(delay=0.02, phases=("build_section", "build_notebook"))
    run = make_run_context(SLUG, records_dir=root, config=provider, max_concurrency=4)
    node = wrap_node("build", build_node, run)

    update = node(LessonState(slug=SLUG, kind="lesson"))

    spent = update["usage"][0]
    assert spent.node == "build"
    assert spent.calls == sum(provider.calls.values()) == len(run.usage_log.entries)
    assert spent.prompt_tokens == sum(u.prompt_tokens for u in run.usage_log.entries)
    assert provider.peak > 1
    for phase in ("build_section", "build_notebook", "build_frame"):
        assert run.take_node_usage(phase) == []  # nothing filed under a phase name


@requires_shared
def test_author_lesson_concurrency_option_bounds_the_section_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lesson_author.cli import app

    root = make_course(tmp_path)
    provider = SleepyProvider(delay=0.05)
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: provider)
    result = CliRunner().invoke(
        app, ["lesson", SLUG, "--concurrency", "3", "--records", str(root)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert provider.peak == 3


# ---------------------------------------------------------------- the embedded model


def test_the_local_provider_runs_one_generation_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever --concurrency says, one llama.cpp context never sees two calls at once."""
    from pydantic import BaseModel

    from lesson_author.llm import local_provider

    class Reply(BaseModel):
        text: str

    running, peak, gauge = [0], [0], threading.Lock()

    class FakeLlama:
        def create_chat_completion(self, **_: Any) -> dict[str, Any]:
            with gauge:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.05)
            with gauge:
                running[0] -= 1
            return {
                "choices": [{"message": {"content": '{"text": "ok"}'}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            }

    model_file = tmp_path / "fake.gguf"
    model_file.write_bytes(b"GGUF")
    loaded = local_provider._LoadedModel(FakeLlama(), threading.Lock(), 0.0)  # type: ignore[arg-type]
    monkeypatch.setattr(local_provider, "load_model", lambda path, n_ctx: loaded)
    monkeypatch.setattr(local_provider.LocalProvider, "grammar_for", lambda self, s, p: None)
    provider = local_provider.LocalProvider(LLMConfig(provider="local", local_model=model_file))

    replies = map_in_order(
        lambda n: provider.complete([{"role": "user", "content": str(n)}], Reply, phase="x")[0],
        range(6),
        workers=6,
    )
    assert [r.text for r in replies] == ["ok"] * 6
    assert peak[0] == 1
