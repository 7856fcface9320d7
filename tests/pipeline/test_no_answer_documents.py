"""A model that keeps writing degenerate text: the run goes on, the documents say
'(no usable answer)' where it could not fill a field, and no flagged string reaches them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from example_course import copy_example_course
from lesson_samples import PASS_REVIEW, make_course, requires_shared, scripted_author
from test_plan_graph import SLUG, TODAY, full_script, misconception_reply

from lesson_author.lesson.schemas import SectionDraft
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline import schemas
from lesson_author.pipeline.runner import run_lesson, run_plan
from lesson_author.text.degenerate import NO_ANSWER, scan_markdown

LOOP = "and so on, and so on, and so on, and so on, and so on, and so on"


def looping_misconceptions() -> dict[str, Any]:
    reply = misconception_reply()
    for item in reply["misconceptions"]:
        item["why"] = LOOP
    return reply


def test_a_plan_whose_misconception_reasons_never_come_says_so_in_its_table(
    tmp_path: Path,
) -> None:
    records = copy_example_course(tmp_path / "course" / "lessons")
    (records / "series-7" / "module-7-4" / "lessons" / f"{SLUG}.md").unlink(missing_ok=True)
    script = full_script(**{schemas.ANALYZE_MISCONCEPTIONS: [looping_misconceptions()] * 3})
    provider = ScriptedProvider(script)

    result = run_plan(SLUG, records_dir=records, config=provider, today=TODAY)

    assert provider.calls[schemas.ANALYZE_MISCONCEPTIONS] == 3  # asked again twice
    text = (records.parent / result.plan_path).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if NO_ANSWER in line]
    assert len(rows) == 3 and all(row.startswith("|") for row in rows)  # one table row each
    assert "and so on" not in text
    assert scan_markdown(text) == []
    summary = result.usage.to_dict()["summary"]
    row = next(r for r in summary if r["phase"] == schemas.ANALYZE_MISCONCEPTIONS)
    assert row["no_answer"] == {"misconceptions[].why": 3} and row["degenerate_replies"] == 3
    assert json.loads(result.to_json())["status"]


@requires_shared
def test_a_lesson_section_the_model_cannot_write_shows_the_marker(tmp_path: Path) -> None:
    records = make_course(tmp_path)
    author = scripted_author([PASS_REVIEW, PASS_REVIEW, PASS_REVIEW])
    first_section: list[int] = []

    def script(messages: list[dict[str, str]], schema: type, phase: str) -> Any:
        reply = author(messages, schema, phase)
        if schema is SectionDraft and phase == "build_section" and len(first_section) < 3:
            first_section.append(1)  # the first section, all three attempts
            data = reply.model_dump()
            data["paragraphs"] = [LOOP, "1.1.1.1.1.1.1.1.1.1.1.1"]
            return data
        return reply

    # one iteration: no revision replaces the marked section before we read the build
    result = run_lesson(
        SLUG, records_dir=records, config=ScriptedProvider(script), max_iterations=1
    )

    mdx = next(records.parent / w for w in result.written if w.endswith(".mdx"))
    text = mdx.read_text(encoding="utf-8")
    assert NO_ANSWER in text and "and so on" not in text and "1.1.1.1" not in text
    no_answer = result.usage.total().no_answer
    assert no_answer == {"build_section: paragraphs[]": 2}


def test_the_cli_names_the_fields_left_without_an_answer(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from lesson_author.cli import app

    records = copy_example_course(tmp_path / "course" / "lessons")
    (records / "series-7" / "module-7-4" / "lessons" / f"{SLUG}.md").unlink(missing_ok=True)
    script = full_script(**{schemas.ANALYZE_MISCONCEPTIONS: [looping_misconceptions()] * 3})
    provider = ScriptedProvider(script)
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: provider)
    result = CliRunner().invoke(app, ["plan", SLUG, "--records", str(records)])
    assert result.exit_code == 0, result.output
    assert (
        "3 field(s) say '(no usable answer)': the model's text stayed degenerate or too short "
        "after every retry (analyze_misconceptions: misconceptions[].why x3)" in result.output
    )
    assert "demo model" not in result.output  # a scripted model is not the embedded default
