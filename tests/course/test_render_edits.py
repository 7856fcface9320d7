"""Typed fields are the single source of truth: what the pipeline and the records command
change in a parsed model is what gets written, in the document's own format."""

from __future__ import annotations

from pathlib import Path

import pytest

from lesson_author.course.models import (
    ConceptRow,
    Depth,
    Finding,
    LessonPlan,
    LessonSummary,
    Review,
    Severity,
    SummaryPart,
    Verdict,
)
from lesson_author.course.parse import parse_file, parse_lesson_plan, parse_module_record
from lesson_author.course.render import (
    render_lesson_plan,
    render_module_record,
    render_review,
    render_summary,
)

NEEDS_SHARED = pytest.mark.corpus


def seed_text(seeds_dir: Path, prefix: str) -> str:
    return next(seeds_dir.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def fresh_review(source: Review) -> Review:
    """A review as the pipeline builds it: content only, no formatting memory."""
    return Review(
        date=source.date,
        iteration=source.iteration,
        of=source.of,
        counts=dict(source.counts),
        verdict=source.verdict,
        findings=[
            Finding(
                severity=f.severity,
                title=f.title,
                location=f.location,
                issue=f.issue,
                student_impact=f.student_impact,
                suggested_fix=f.suggested_fix,
            )
            for f in source.findings
        ],
        notes=source.notes,
    )


def fresh_plan(seed: LessonPlan) -> LessonPlan:
    data = seed.model_dump(exclude={"layout", "reviews", "line"})
    for value in data.values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    item.pop("src", None)
                    item.pop("line", None)
    return LessonPlan(**data)


@NEEDS_SHARED
def test_record_step_turns_seed_002_into_seed_001(seeds_dir: Path) -> None:
    """Upserting z-image into the 3-lesson record gives exactly the 4-lesson record."""
    before = parse_module_record(seed_text(seeds_dir, "002"))
    after = parse_module_record(seed_text(seeds_dir, "001"))
    z = after.summary("z-image")
    assert z is not None
    before.status = "Complete (4 of 4 lessons built)"
    before.concepts += [
        ConceptRow(concept=c.concept, depth=c.depth, lesson=c.lesson, notes=c.notes)
        for c in after.concepts[len(before.concepts) :]
    ]
    before.summaries.append(
        LessonSummary(
            slug="z-image",
            number=4,
            status=z.status,
            cognitive_load=z.cognitive_load,
            notebook=z.notebook,
            review=z.review,
            parts=[SummaryPart(label=p.label, text=p.text) for p in z.parts],
        )
    )
    assert render_module_record(before) == seed_text(seeds_dir, "001")


@NEEDS_SHARED
def test_plan_then_two_review_iterations_give_seed_004(seeds_dir: Path) -> None:
    """A plan written from scratch, then each review appended after a re-read, is the seed."""
    seed = parse_lesson_plan(seed_text(seeds_dir, "004"))
    text = render_lesson_plan(fresh_plan(seed))
    assert "## Review" not in text and text.endswith("- [x] Scope boundaries explicitly stated\n")
    for review in seed.reviews:
        plan = parse_lesson_plan(text)
        plan.reviews.append(fresh_review(review))
        text = render_lesson_plan(plan)
    assert text == seed_text(seeds_dir, "004")


@NEEDS_SHARED
def test_render_review_alone_is_the_seed_section(seeds_dir: Path) -> None:
    text = seed_text(seeds_dir, "004")
    seed = parse_lesson_plan(text)
    first = render_review(fresh_review(seed.reviews[0]))
    start = text.index("## Review -- 2026-02-20 (Iteration 1/3)")
    end = text.index("## Review -- 2026-02-20 (Iteration 2/3)")
    assert first == text[start:end].rstrip("\n") + "\n"
    assert render_review(seed.reviews[0]) == first


def test_new_review_in_the_seed_format() -> None:
    review = Review(
        date="2026-11-22",
        iteration=1,
        of=3,
        findings=[
            Finding(
                severity=Severity.CRITICAL,
                title="Notebook missing",
                location="Practice",
                issue="No notebook.",
                student_impact="404.",
                suggested_fix="Create it.",
            ),
            Finding(
                severity=Severity.POLISH,
                title="Spacing",
                location="Line 3",
                issue="Spaced dash.",
                student_impact="None.",
                suggested_fix="Remove.",
            ),
        ],
        notes="Solid draft.",
    )
    assert render_review(review) == (
        "## Review -- 2026-11-22 (Iteration 1/3)\n\n"
        "### Summary\n- Critical: 1\n- Improvement: 0\n- Polish: 1\n\n"
        "### Verdict: MAJOR REVISION\n\n"
        "### Findings\n\n"
        "#### [CRITICAL] -- Notebook missing\n\n"
        "**Location:** Practice\n**Issue:** No notebook.\n**Student impact:** 404.\n"
        "**Suggested fix:** Create it.\n\n"
        "#### [POLISH] -- Spacing\n\n"
        "**Location:** Line 3\n**Issue:** Spaced dash.\n**Student impact:** None.\n"
        "**Suggested fix:** Remove.\n\n"
        "### Review Notes\n\nSolid draft.\n"
    )
    again = parse_lesson_plan(render_review(review)).reviews[0]
    assert again.verdict is Verdict.MAJOR_REVISION and len(again.findings) == 2


@NEEDS_SHARED
def test_edits_to_typed_fields_show_in_a_drifted_corpus_file(corpus_dir: Path) -> None:
    path = corpus_dir / "series-1/module-1-1/lessons/gradient-descent.md"
    text = path.read_text(encoding="utf-8")
    plan = parse_file(path)
    assert isinstance(plan, LessonPlan)
    plan.prerequisites[0].actual = Depth.APPLIED
    plan.reviews[0].findings[0].title = "Widget range fixed"
    plan.reviews[1].verdict = Verdict.NEEDS_REVISION
    out = render_lesson_plan(plan)
    assert "| Loss function / MSE | DEVELOPED | APPLIED | loss-functions | OK |" in out
    assert "### [IMPROVEMENT] — Widget range fixed\n" in out, "the file's own dash and level"
    assert "### Verdict: NEEDS REVISION\n" in out
    assert out.count("\n") == text.count("\n")
    changed = [a for a, b in zip(text.splitlines(), out.splitlines()) if a != b]
    assert len(changed) == 3


@NEEDS_SHARED
def test_appended_review_goes_after_the_last_in_a_corpus_file(corpus_dir: Path) -> None:
    path = corpus_dir / "series-1/module-1-1/lessons/gradient-descent.md"
    plan = parse_file(path)
    assert isinstance(plan, LessonPlan)
    plan.reviews.append(Review(date="2026-11-22", iteration=3, of=3, notes="Fine."))
    out = render_lesson_plan(plan)
    assert out.index("(Iteration 2/3)") < out.index("## Review -- 2026-11-22 (Iteration 3/3)")
    assert out.index("## Review -- 2026-11-22") < out.index("## Improvement Summary")
    again = parse_lesson_plan(out, path)
    assert [r.iteration for r in again.reviews] == [1, 2, 3]
    assert again.reviews[2].verdict is Verdict.PASS


@NEEDS_SHARED
def test_records_command_edits_a_summary_in_place(seeds_dir: Path) -> None:
    text = seed_text(seeds_dir, "002")
    record = parse_module_record(text)
    sdxl = record.summaries[0]
    sdxl.review = "PASS on iteration 3/3"
    sdxl.notebook = ""
    record.concepts = record.concepts[:2]
    out = render_module_record(record)
    assert "**Review:** PASS on iteration 3/3\n" in out
    assert "**Notebook:** \n" in out, "an emptied line stays (the author wrote it)"
    again = parse_module_record(out)
    assert len(again.concepts) == 2 and again.summaries[0].review == "PASS on iteration 3/3"
    assert [s.slug for s in again.summaries] == ["sdxl", "diffusion-transformers", "sd3-and-flux"]


def test_missing_review_line_is_added_after_the_status_lines() -> None:
    text = (
        "# Module 1.1: M -- Record\n\n## Per-Lesson Summaries\n\n"
        "### a (Lesson 1)\n**Status:** Complete\n**Cognitive load:** BUILD\n\n"
        "**Concepts taught:** x\n"
    )
    record = parse_module_record(text)
    record.summaries[0].review = "PASS on iteration 1/3"
    assert render_module_record(record) == text.replace(
        "**Cognitive load:** BUILD\n\n",
        "**Cognitive load:** BUILD\n**Review:** PASS on iteration 1/3\n\n",
    )


def test_summary_from_scratch() -> None:
    summary = LessonSummary(
        slug="z-image",
        number=4,
        status="Complete",
        cognitive_load="BUILD",
        review="PASS on iteration 2/3",
        parts=[
            SummaryPart(label="Concepts taught", text="- A (INTRODUCED)\n- B (MENTIONED)"),
            SummaryPart(label="Review notes", text="Fine."),
        ],
    )
    assert render_summary(summary) == (
        "### z-image (Lesson 4)\n**Status:** Complete\n**Cognitive load:** BUILD\n"
        "**Review:** PASS on iteration 2/3\n\n"
        "**Concepts taught:**\n- A (INTRODUCED)\n- B (MENTIONED)\n\n**Review notes:** Fine.\n"
    )


def test_header_label_value_ends_at_its_paragraph() -> None:
    text = "# Lesson: X\n\n**Slug:** x\n**Status:** Planned\n\nAn intro paragraph.\n\n## Phase 2\n"
    plan = parse_lesson_plan(text)
    assert plan.status == "Planned"
    plan.status = "Built"
    assert render_lesson_plan(plan) == text.replace("Planned", "Built")


def test_a_cell_with_a_line_break_or_a_pipe_stays_one_row(seeds_dir: Path) -> None:
    path = seeds_dir / "004_f37c31f4a5f7254a.txt"
    plan = parse_lesson_plan(path.read_text(encoding="utf-8"), path)
    notes = ["first line\nsecond line", "a | b", "windows\r\nbreak"]
    rows = [
        row.model_copy(update={"notes": note, "src": ""})
        for row, note in zip(plan.relevant_concepts, notes, strict=False)
    ]
    edited = plan.model_copy(update={"relevant_concepts": rows + plan.relevant_concepts[3:]})
    again = parse_lesson_plan(render_lesson_plan(edited), path)
    assert len(again.relevant_concepts) == len(plan.relevant_concepts)
    assert [r.notes for r in again.relevant_concepts[:3]] == [
        "first line second line",
        "a | b",
        "windows break",
    ]
    assert len(again.prerequisites) == len(plan.prerequisites)  # the next table is intact
