"""Revise acts on content: the named section is rewritten from its current text with the
finding's issue and fix; a failing notebook cell goes back to the notebook writer with its
error output, and only that cell's exercise (or the setup cell) is written again."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from lesson_samples import PASS_REVIEW, make_course, requires_shared, scripted_author

from lesson_author.course.models import Finding, Severity
from lesson_author.lesson.schemas import ExerciseDraft, SetupDraft
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.lesson_files import current_plan, lesson_on_disk, lesson_paths
from lesson_author.pipeline.revise import (
    REVISE_NOTEBOOK,
    REVISE_SECTION,
    cell_owner,
    finding_rule,
    revise_lesson,
    revision_targets,
)
from lesson_author.pipeline.runner import build_now, make_run_context

pytestmark = requires_shared

SLUG = "z-image"


def built(tmp_path: Path):
    root = make_course(tmp_path)
    provider = ScriptedProvider(scripted_author([PASS_REVIEW]))
    run = make_run_context(SLUG, records_dir=root, config=provider, today="2026-02-20")
    build_now(run)
    lesson, notebook, _ = lesson_on_disk(run)
    assert lesson is not None and notebook is not None
    text = lesson_paths(run)[1].read_text(encoding="utf-8")
    provider.requests.clear()
    provider.calls.clear()
    return run, provider, lesson.model_copy(update={"notebook": notebook}), text


def test_the_named_section_is_rewritten_with_the_issue_the_fix_and_its_text(
    tmp_path: Path,
) -> None:
    run, provider, lesson, nb_text = built(tmp_path)
    finding = Finding(
        severity=Severity.IMPROVEMENT,
        title="RoPE expanded wrongly",
        location=lesson.section(7).label,
        issue="The first paragraph expands RoPE as 'Reversible Order and Patch Encoding'.",
        student_impact="The student learns a wrong name.",
        suggested_fix="Expand it as Rotary Position Embedding.",
    )
    revised, done = revise_lesson(
        run, current_plan(None, run), lesson, [finding], notebook_text=nb_text
    )
    assert done == ["section 7"]
    (prompt,) = [m[-1]["content"] for p, m in provider.requests if p == REVISE_SECTION]
    assert finding.issue in prompt and finding.suggested_fix in prompt
    assert finding.student_impact in prompt
    assert lesson.section(7).prose in prompt  # its current full text
    assert provider.calls[REVISE_NOTEBOOK] == 0
    assert revised.section(4) == lesson.section(4)  # sections no finding names are kept


def test_a_failing_exercise_cell_goes_back_to_the_notebook_writer_alone(tmp_path: Path) -> None:
    run, _, lesson, nb_text = built(tmp_path)
    # cell-N ids are the file order; find exercise 2's starter code cell the way a check would
    import nbformat

    cells = nbformat.reads(nb_text, as_version=4).cells
    cell = next(
        n
        for n, c in enumerate(cells, start=1)
        if c.cell_type == "code" and c.metadata.get("exercise") == 2
    )
    assert cell_owner(nb_text, cell) == 2 and cell_owner(nb_text, 2) == "setup"
    error = "NameError: name 'd_model' is not defined"
    finding = Finding(
        severity=Severity.CRITICAL,
        rule="notebook-runs",
        title="Notebook cell fails",
        location=f"Notebook cell {cell}",
        issue=f"Cell {cell} stops with {error}",
        suggested_fix="Define d_model before using it.",
    )
    assert finding_rule(finding) == "notebook-runs"
    targets = revision_targets([finding], current_plan(None, run), lesson)
    assert targets.cells == {cell: [finding]} and not targets.notebook and not targets.sections

    script = scripted_author([PASS_REVIEW])
    fixed = ExerciseDraft(
        instructions="Count the parameters.",
        starter_code="d_model = 3840\n# TODO: count",
        solution_code="d_model = 3840\nprint(3 * d_model**2)",
    )

    def writer(messages, schema, phase):
        return fixed if schema is ExerciseDraft else script(messages, schema, phase)

    provider = run.provider = ScriptedProvider(writer)
    revised, done = revise_lesson(
        run, current_plan(None, run), lesson, [finding], notebook_text=nb_text
    )
    assert done == ["notebook exercise 2"]
    calls = [(m, p) for p, m in provider.requests if p == REVISE_NOTEBOOK]
    assert len(calls) == 1 and provider.calls[REVISE_SECTION] == 0
    assert revised.notebook.exercises[1].solution_code == fixed.solution_code
    prompt = calls[0][0][-1]["content"]
    assert error in prompt and "Exercise 2 of 4" in prompt
    assert lesson.notebook.exercises[1].starter_code.strip() in prompt  # its current code
    before, after = lesson.notebook.exercises, revised.notebook.exercises
    assert [a == b for a, b in zip(before, after, strict=True)] == [True, False, True, True]
    assert revised.notebook.setup_code == lesson.notebook.setup_code


def test_a_failing_setup_cell_rewrites_only_the_setup(tmp_path: Path) -> None:
    run, _, lesson, nb_text = built(tmp_path)
    error = "ModuleNotFoundError: No module named 'diffusers'"
    finding = Finding(
        severity=Severity.CRITICAL,
        rule="notebook-syntax",
        title="Setup cell fails",
        location="Notebook cell 2",
        issue=f"Cell 2: {error}",
        suggested_fix="Install diffusers with %pip first.",
    )
    seen: list[type] = []
    script = scripted_author([PASS_REVIEW])

    def record(messages, schema, phase):
        seen.append(schema)
        return script(messages, schema, phase)

    run.provider = ScriptedProvider(record)
    revised, done = revise_lesson(
        run, current_plan(None, run), lesson, [finding], notebook_text=nb_text
    )
    assert done == ["notebook setup cell"] and seen == [SetupDraft]
    prompt = run.provider.requests[0][1][-1]["content"]
    assert error in prompt and lesson.notebook.setup_code.strip() in prompt
    assert revised.notebook.exercises == lesson.notebook.exercises
    assert ExerciseDraft not in seen


def test_a_reviewer_finding_at_a_notebook_cell_and_a_legacy_title_are_dispatched(
    tmp_path: Path,
) -> None:
    run, _, lesson, _ = built(tmp_path)
    plan = current_plan(None, run)
    reviewer = Finding(
        severity=Severity.IMPROVEMENT,
        title="Exercise 3 asks for Turbo but never loads it",
        location="Notebook cell 9",
        issue="The starter code of cell 9 calls generate() on the base pipeline only.",
    )
    legacy = Finding(  # read back from a document written before rule ids
        severity=Severity.CRITICAL,
        title="Planned section missing: 6. Explain: Text Encoding -- LLM as Encoder",
        location="Section 6",
    )
    assert finding_rule(reviewer) is None and finding_rule(legacy) == "section-missing"
    targets = revision_targets([reviewer, legacy], plan, lesson)
    assert targets.cells == {9: [reviewer]} and targets.sections == {6: [legacy]}
    not_run = Finding(
        severity=Severity.POLISH,
        rule="notebook-not-run",
        title="Notebook parsed but not run",
        location="Notebook",
    )
    assert revision_targets([not_run], plan, lesson).unplaced == [not_run]
