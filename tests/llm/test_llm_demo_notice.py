"""The embedded default says what it is at the start and the end of a run, in one line each."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from lesson_samples import (
    PASS_REVIEW,
    make_course,
    requires_shared,
    reviewer_says,
    scripted_author,
)

from lesson_author.cli import app
from lesson_author.llm import LLMConfig, ScriptedProvider
from lesson_author.llm.local_provider import DEMO_START, demo_notice

FIRST = reviewer_says(("CRITICAL", "Hook contradicts the objective", "3"))


def test_only_the_bundled_default_gets_the_notice(tmp_path: Path) -> None:
    assert demo_notice(LLMConfig()) == DEMO_START
    end = demo_notice(LLMConfig(), end=True, no_answer=4)
    assert end is not None and "4 field(s) say '(no usable answer)'" in end
    assert "--base-url" in end and "--local-model" in end and "\n" not in end
    assert demo_notice(LLMConfig(local_model=tmp_path / "qwen-1.5b.gguf")) is None
    assert demo_notice(LLMConfig(base_url="http://127.0.0.1:9/v1")) is None
    assert demo_notice(LLMConfig(provider="local", api_key="k")) == DEMO_START
    assert demo_notice(ScriptedProvider({})) is None  # type: ignore[arg-type]


@requires_shared
def test_author_lesson_on_the_default_prints_the_start_and_end_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lesson_author.checks.inputs import ENV_SKIP_RULES

    # the scripted sections are skeletons: the coverage rules are for real lessons (see
    # tests/pipeline/conftest.py)
    monkeypatch.setenv(
        ENV_SKIP_RULES, "concept-not-taught,misconception-unaddressed,concept-before-taught"
    )
    course = make_course(tmp_path)
    provider = ScriptedProvider(scripted_author([FIRST, PASS_REVIEW]))
    # the configuration is the embedded default; the model behind it is the scripted one
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: LLMConfig())
    monkeypatch.setattr("lesson_author.pipeline.runner._provider", lambda config: provider)
    result = CliRunner().invoke(
        app, ["lesson", "z-image", "--records", str(course)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith("Embedded demo model")]
    end = [i for i, line in enumerate(lines) if line.startswith("That was the 135M demo model")]
    assert len(start) == 1 and len(end) == 1 and start[0] < end[0]
    assert "z-image: PASS, recorded" in "\n".join(lines[start[0] : end[0]])
