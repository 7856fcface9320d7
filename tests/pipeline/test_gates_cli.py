"""Approval gates from the command line: `--approve plan|build` pauses, `--continue` goes on
with what the author edited meanwhile. Scripted model (the plan replies of batch_samples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_samples import BatchModel
from example_course import copy_example_course
from lesson_samples import requires_shared
from typer.testing import CliRunner

from lesson_author.cli import app
from lesson_author.course.records import recorded_lessons
from lesson_author.course.tree import CourseTree
from lesson_author.llm.scripted import ScriptedProvider

pytestmark = requires_shared

MODULE = Path("series-7") / "module-7-4"


def invoke(root: Path, *argv: str):
    return CliRunner().invoke(app, [*argv, "--records", str(root)], env={"COLUMNS": "250"})


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example course (z-image listed, not planned); the scripted model answers all."""
    root = tmp_path / "lessons"
    copy_example_course(root)
    provider = ScriptedProvider(BatchModel())
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: provider)
    return root


def test_approve_plan_pauses_and_continue_builds_from_the_edited_plan(course: Path) -> None:
    plan_path = course / MODULE / "lessons" / "z-image.md"
    paused = invoke(course, "lesson", "z-image", "--approve", "plan")
    assert paused.exit_code == 0, paused.output
    assert "paused before build" in paused.output
    assert "author lesson z-image --continue" in paused.output
    assert plan_path.is_file() and not (course / MODULE / "build").exists()

    # the author renames the first explain section of the outline before approving
    text = plan_path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("#### 3. "))
    plan_path.write_text(text.replace(old, "#### 3. The Author's Own Title"), encoding="utf-8")

    done = invoke(course, "lesson", "z-image", "--continue", "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["resumed_at"] == "build" and summary["passed"]
    mdx = (course / MODULE / "build" / "z-image.mdx").read_text(encoding="utf-8")
    assert "The Author's Own Title" in mdx
    assert "z-image" in recorded_lessons(CourseTree.open(course).module_record("7.4"))


def test_approve_build_pauses_before_the_review(course: Path) -> None:
    paused = invoke(course, "lesson", "z-image", "--approve", "plan", "--approve", "build")
    assert "paused before build" in paused.output
    again = invoke(course, "lesson", "z-image", "--continue", "--approve", "build")
    assert again.exit_code == 0, again.output
    assert "paused before review" in again.output
    assert "build/z-image.mdx" in again.output  # what to read
    assert (course / MODULE / "build" / "z-image.ipynb").is_file()
    assert not (course.parent / "reviews" / "z-image").exists()
    done = invoke(course, "lesson", "z-image", "--continue")
    assert done.exit_code == 0 and "PASS, recorded" in done.output


def test_continue_without_a_paused_run_and_bad_gates_are_user_errors(course: Path) -> None:
    nothing = invoke(course, "lesson", "z-image", "--continue")
    assert nothing.exit_code == 2
    assert "nothing to continue: z-image has no paused or unfinished run" in nothing.output
    bad = invoke(course, "lesson", "z-image", "--approve", "review")
    assert bad.exit_code == 2 and "--approve takes plan or build, not review" in bad.output
    both = invoke(course, "lesson", "z-image", "--continue", "--restart")
    assert both.exit_code == 2 and "give one" in both.output
    batch = invoke(course, "lesson", "--all-pending", "--module", "7.4", "--approve", "plan")
    assert batch.exit_code == 2 and "for one lesson" in batch.output
    assert not (course / MODULE / "lessons" / "z-image.md").exists()  # nothing written
