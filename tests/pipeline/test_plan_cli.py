"""`author plan` at the command line: errors are one line and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

from example_course import EXAMPLE_COURSE, copy_example_course
from typer.testing import CliRunner

from lesson_author.cli import app


def test_an_unknown_lesson_is_one_line_and_exit_2(tmp_path: Path) -> None:
    records = tmp_path / "lessons"
    copy_example_course(records)
    result = CliRunner().invoke(app, ["plan", "no-such-lesson", "--records", str(records)])
    assert result.exit_code == 2
    assert "no-such-lesson" in result.output
    assert "Traceback" not in result.output


def test_a_path_is_not_a_slug(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["plan", "../etc", "--records", str(EXAMPLE_COURSE)])
    assert result.exit_code == 2
    assert "invalid lesson slug" in result.output
