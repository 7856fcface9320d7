"""`author lesson / build / review / findings` with a scripted model: output and exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from lesson_samples import (
    PASS_REVIEW,
    SEED_004,
    make_course,
    requires_shared,
    reviewer_says,
    scripted_author,
)

from lesson_author.cli import app
from lesson_author.llm.scripted import ScriptedProvider

pytestmark = requires_shared

CRITICAL_FIRST = reviewer_says(("CRITICAL", "Hook contradicts the objective", "3"))
STILL_BAD = reviewer_says(("IMPROVEMENT", "Prompt Enhancer explanation is shallow", "6"))


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path)


def use_model(monkeypatch: pytest.MonkeyPatch, reviews) -> ScriptedProvider:
    provider = ScriptedProvider(scripted_author(reviews))
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: provider)
    return provider


def invoke(*argv: str):
    return CliRunner().invoke(app, list(argv), env={"COLUMNS": "200"})


def test_lesson_passing_on_iteration_two_exits_0(course: Path, monkeypatch) -> None:
    use_model(monkeypatch, [CRITICAL_FIRST, PASS_REVIEW])
    result = invoke("lesson", "z-image", "--records", str(course))
    assert result.exit_code == 0, result.output
    assert "iteration 1/3: MAJOR REVISION (1 critical)" in result.output
    assert "iteration 2/3: PASS (no findings)" in result.output
    assert "wrote lessons/series-7/module-7-4/build/z-image.ipynb" in result.output
    assert "z-image: PASS, recorded" in result.output
    for phase in ("build", "review", "revise", "record"):
        assert f"│ {phase}" in result.output  # time and tokens per phase


def test_lesson_not_passing_exits_3_with_open_findings(course: Path, monkeypatch) -> None:
    use_model(monkeypatch, [STILL_BAD, STILL_BAD, STILL_BAD])
    result = invoke("lesson", "z-image", "--records", str(course))
    assert result.exit_code == 3
    assert result.stdout.count("NEEDS REVISION") == 3 and "PASS," not in result.output
    assert "open findings after iteration 3" in result.output
    assert "Prompt Enhancer explanation is shallow" in result.output

    rows = json.loads(invoke("findings", "z-image", "--records", str(course), "--json").output)
    assert [(r["iteration"], r["status"]) for r in rows] == [
        (1, "carried"),
        (2, "carried"),
        (3, "open"),
    ]
    assert rows[0]["status_note"] == "not fixed; raised again in iteration 2"
    shown = invoke("findings", "z-image", "--records", str(course), "--open")
    assert shown.exit_code == 0 and "Prompt Enhancer" in shown.output


def test_lesson_json_and_max_iterations(course: Path, monkeypatch) -> None:
    use_model(monkeypatch, [STILL_BAD])
    result = invoke(
        "lesson", "z-image", "--records", str(course), "--max-iterations", "1", "--json"
    )
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["passed"] is False and [i["verdict"] for i in data["iterations"]] == [
        "NEEDS REVISION"
    ]
    assert (
        invoke("lesson", "z-image", "--records", str(course), "--max-iterations", "4").exit_code
        == 2
    )


def test_build_then_review_a_deleted_notebook(course: Path, monkeypatch) -> None:
    use_model(monkeypatch, [PASS_REVIEW])
    built = invoke("build", "z-image", "--records", str(course))
    assert built.exit_code == 0, built.output
    assert "wrote lessons/series-7/module-7-4/build/z-image.mdx" in built.output
    (course / "series-7" / "module-7-4" / "build" / "z-image.ipynb").unlink()
    reviewed = invoke("review", "z-image", "--records", str(course))
    assert reviewed.exit_code == 3
    assert "Notebook missing" in reviewed.output and "MAJOR REVISION" in reviewed.output
    critical = invoke("findings", "z-image", "--records", str(course), "--severity", "critical")
    assert "Notebook missing" in critical.output
    assert invoke("findings", "z-image", "--records", str(course), "--severity", "x").exit_code == 2


def test_findings_of_hand_written_reviews_come_from_the_planning_document(course: Path) -> None:
    plan = course / "series-7" / "module-7-4" / "lessons" / "z-image.md"
    plan.write_text(SEED_004.read_text(encoding="utf-8"), encoding="utf-8")
    rows = json.loads(invoke("findings", "z-image", "--records", str(course), "--json").output)
    assert len(rows) == 8
    assert [r["status"] for r in rows[:6]] == ["fixed"] * 6
    assert [r["status"] for r in rows[6:]] == ["accepted", "accepted"]  # PASS with POLISH
    assert rows[0]["title"] == "Notebook missing" and rows[0]["severity"] == "CRITICAL"


def test_findings_without_reviews_is_a_clear_error(course: Path) -> None:
    result = invoke("findings", "z-image", "--records", str(course))
    assert result.exit_code == 2 and "no reviews yet" in result.output


def test_build_without_a_planning_document_says_what_to_run(course: Path, monkeypatch) -> None:
    use_model(monkeypatch, [])
    (course / "series-7" / "module-7-4" / "lessons" / "z-image.md").unlink()
    result = invoke("build", "z-image", "--records", str(course))
    assert result.exit_code == 2
    assert "no planning document" in result.output and "author plan z-image" in result.output
    assert invoke("review", "../z-image", "--records", str(course)).exit_code == 2


def test_a_lesson_run_leaves_its_summary_for_the_report(course: Path, monkeypatch) -> None:
    from lesson_author.course.tree import project_root
    from lesson_author.report.html import run_view
    from lesson_author.workspace import run_summary_path

    use_model(monkeypatch, [CRITICAL_FIRST, PASS_REVIEW])
    assert invoke("lesson", "z-image", "--records", str(course)).exit_code == 0
    summary = json.loads(run_summary_path(project_root(course), "z-image").read_text())
    assert summary["passed"] and [i["verdict"] for i in summary["iterations"]] == [
        "MAJOR REVISION",
        "PASS",
    ]
    view = run_view(summary)
    assert view is not None
    phases = {row.phase: row for row in view.phases}
    assert {"build", "review", "revise", "record"} <= set(phases)
    # the review node: per iteration one call per section and one whole-lesson pass
    usage = {row["phase"]: row for row in summary["usage"]["summary"]}
    assert usage["review"]["calls"] == 2 and usage["review_section"]["calls"] % 2 == 0
    assert phases["review"].calls == 2 + usage["review_section"]["calls"]
    assert phases["build"].tokens_out
    notes = [n for n in summary["notes"] if n.startswith("review iteration")]
    assert len(notes) == 2 and "dropped 0 reviewer finding(s)" in notes[0]
    report = invoke("report", "z-image", "--records", str(course))
    assert report.exit_code == 0, report.output
    page = Path(report.output.strip()).read_text(encoding="utf-8")
    assert "revise" in page and ".author/runs/z-image.json" in page
