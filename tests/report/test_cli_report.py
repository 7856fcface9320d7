"""`author report SLUG`: writes the page, prints its path, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lesson_author.cli import app


def test_report_writes_the_default_page_and_prints_its_path(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(project.parent)  # ./lessons is the default records tree
    result = CliRunner().invoke(app, ["report", "z-image"])
    assert result.exit_code == 0, result.output
    expected = project.parent / "reviews" / "z-image" / "report.html"
    assert result.output.strip() == str(expected.resolve())
    assert "Z-Image &amp; Z-Image Turbo" in expected.read_text(encoding="utf-8")


def test_report_records_and_out_options(project: Path, tmp_path: Path):
    out = tmp_path / "pages" / "z.html"
    result = CliRunner().invoke(
        app, ["report", "z-image", "--records", str(project), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_report_unknown_slug_is_one_line_exit_2(project: Path):
    result = CliRunner().invoke(app, ["report", "nope", "--records", str(project)])
    assert result.exit_code == 2
    assert "unknown lesson slug 'nope'" in result.output
    assert "Traceback" not in result.output
