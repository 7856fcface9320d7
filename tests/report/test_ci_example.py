"""examples/ci.yml: the workflow a course repository copies, and the commands it runs."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from example_course import EXAMPLE_COURSE, copy_example_course
from report_helpers import REPO
from typer.testing import CliRunner

from lesson_author.cli import app

WORKFLOW = REPO / "examples" / "ci.yml"

yaml = pytest.importorskip("yaml", reason="PyYAML reads the workflow file")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(workflow: dict) -> list[dict]:
    return workflow["jobs"]["records"]["steps"]


def author_commands(workflow: dict) -> list[list[str]]:
    """The ``author ...`` lines the workflow runs as whole steps, as argv lists."""
    return [
        shlex.split(step["run"])[1:]
        for step in steps(workflow)
        if isinstance(step.get("run"), str)
        and step["run"].strip().startswith("author ")
        and "\n" not in step["run"].strip()
    ]


@pytest.fixture
def course_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course repository checkout: the example course at ./lessons, as CI would see it."""
    if not (EXAMPLE_COURSE / "course.md").is_file():
        pytest.skip(f"needs the example course at {EXAMPLE_COURSE}")
    copy_example_course(tmp_path / "lessons")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_runs_on_every_push_and_installs_lesson_author(workflow: dict):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers and triggers["push"] is None  # every branch, every push
    runs = [s.get("run", "") for s in steps(workflow)]
    assert any("pip install" in r and "$LESSON_AUTHOR" in r for r in runs)
    assert workflow["env"]["LESSON_AUTHOR"].startswith("lesson-author")
    assert author_commands(workflow) == [["check"], ["records", "--check"]]
    assert "secrets." not in WORKFLOW.read_text(encoding="utf-8")


def test_the_recipe_passes_on_a_clean_course(workflow: dict, course_repo: Path):
    for argv in author_commands(workflow):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, (argv, result.output)


def test_the_recipe_fails_on_a_broken_or_stale_course(workflow: dict, course_repo: Path):
    course = course_repo / "lessons" / "course.md"
    text = course.read_text(encoding="utf-8")
    stale = text.replace(
        "| 7.4 | Next-Generation Architectures | 3 of 4 |",
        "| 7.4 | Next-Generation Architectures | 9 of 4 |",
    )
    assert stale != text
    course.write_text(stale, encoding="utf-8")
    lesson = next((course_repo / "lessons").glob("series-*/module-*/lessons/*.md"))
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("**Slug:** `", "**Slug:** `renamed-", 1),
        encoding="utf-8",
    )
    codes = {
        " ".join(argv): CliRunner().invoke(app, argv).exit_code
        for argv in author_commands(workflow)
    }
    assert codes == {"check": 1, "records --check": 1}


def test_failed_check_is_annotated_at_file_and_line(workflow: dict, course_repo: Path):
    author = Path(sys.executable).with_name("author")
    if not author.exists():
        pytest.skip(f"needs the installed `author` script next to {sys.executable}")
    lesson = next((course_repo / "lessons").glob("series-*/module-*/lessons/*.md"))
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("**Slug:** `", "**Slug:** `renamed-", 1),
        encoding="utf-8",
    )
    script = next(s["run"] for s in steps(workflow) if "check --json" in s.get("run", ""))
    env = {
        **os.environ,
        "GITHUB_WORKSPACE": str(course_repo),
        "PATH": f"{author.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        check=False,
        cwd=course_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    relative = lesson.relative_to(course_repo).as_posix()
    lines = lesson.read_text(encoding="utf-8").splitlines()
    slug_line = next(n for n, text in enumerate(lines, start=1) if text.startswith("**Slug:**"))
    expected = f"::error file={relative},line={slug_line},title=author check (slug-mismatch)::"
    assert expected in result.stdout
