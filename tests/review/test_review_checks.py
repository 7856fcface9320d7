"""The deterministic review checks, on the seed z-image plan and a lesson built from it."""

from __future__ import annotations

import pytest
from lesson_samples import requires_shared, seed_plan_text

from lesson_author.checks.review_checks import (
    BuildFiles,
    is_deterministic,
    planned_check_count,
)
from lesson_author.checks.review_checks import review_checks as all_checks
from lesson_author.course.models import Depth, LessonPlan, Severity
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.lesson.lesson_doc import (
    FRAME_ROLES,
    Aside,
    BuiltExercise,
    BuiltLesson,
    BuiltSection,
    Check,
    CodeBlock,
    ComparisonRow,
    ComparisonSide,
    PracticeNotebook,
    section_role,
)

pytestmark = requires_shared

# the rules these tests are about: the build's structure against the plan. The lessons here
# are skeletons ("Prose for X."), so the content rules (tests/review/test_content_rules.py)
# rightly find them empty of teaching; they are left out here.
STRUCTURE = {
    "lesson-missing",
    "notebook-missing",
    "notebook-invalid",
    "section-missing",
    "check-missing",
    "check-unanswered",
    "modality-missing",
    "exercise-count",
    "exercise-scaffolding",
    "em-dashes",
    "untaught-concept",
}


def review_checks(plan, files, **options):
    return [f for f in all_checks(plan, files, **options) if f.rule in STRUCTURE]


@pytest.fixture
def plan() -> LessonPlan:
    return parse_lesson_plan(seed_plan_text())


def complete_lesson(plan: LessonPlan) -> BuiltLesson:
    """A lesson that carries everything the plan asks for."""
    sections = []
    for s in plan.outline:
        blocks: list = []
        if section_role(s.title) == "check":
            blocks = [Check(question=f"Q{i}?", answer="A.") for i in range(planned_check_count(s))]
        elif s.number == 4:
            blocks = [
                ComparisonRow(
                    left=ComparisonSide(title="MMDiT"), right=ComparisonSide(title="S3-DiT")
                ),
                CodeBlock(code="3 * d_model^2"),
                Aside(kind="insight", title="Translate once", body="Then share."),
            ]
        elif s.number == 9:
            blocks = [
                Aside(kind="concept", title="DMD", body="Distribution Matching Distillation.")
            ]
        prose = "" if section_role(s.title) in FRAME_ROLES else f"Prose for {s.title}."
        sections.append(
            BuiltSection(
                number=s.number, outline_title=s.title, heading=s.title, prose=prose, blocks=blocks
            )
        )
    return BuiltLesson(
        slug="z-image", title=plan.title, objective="Explain.", sections=sections, summary=["One."]
    )


def practice(plan: LessonPlan) -> PracticeNotebook:
    return PracticeNotebook(
        title=plan.title,
        exercises=[
            BuiltExercise(level=e.level, title=e.title, task=e.task) for e in plan.exercises()
        ],
    )


def files(
    lesson: BuiltLesson | None, notebook: PracticeNotebook | None, error: str | None = None
) -> BuildFiles:
    return BuildFiles(
        lesson, notebook, error, "lessons/build/z-image.mdx", "lessons/build/z-image.ipynb"
    )


def titles(found) -> list[str]:
    return [f.title for f in found]


def test_a_complete_build_has_no_deterministic_findings(plan: LessonPlan) -> None:
    assert review_checks(plan, files(complete_lesson(plan), practice(plan))) == []


def test_missing_notebook_is_critical_as_in_the_seed(plan: LessonPlan) -> None:
    found = review_checks(plan, files(complete_lesson(plan), None))
    assert [(f.severity, f.title) for f in found] == [(Severity.CRITICAL, "Notebook missing")]
    assert "z-image.ipynb" in found[0].location and found[0].suggested_fix
    assert all(is_deterministic(f) for f in found)


def test_invalid_notebook_is_critical(plan: LessonPlan) -> None:
    found = review_checks(plan, files(complete_lesson(plan), None, "not JSON"))
    assert titles(found) == ["Notebook invalid"]
    assert found[0].severity is Severity.CRITICAL


def test_missing_section_and_missing_check_questions(plan: LessonPlan) -> None:
    lesson = complete_lesson(plan)
    lesson.sections = [s for s in lesson.sections if s.number != 7]
    check = lesson.section(10)
    check.blocks = check.blocks[:1]
    found = review_checks(plan, files(lesson, practice(plan)))
    assert titles(found) == [
        "Planned section missing: 7. Explain: 3D Unified RoPE",
        "Planned check missing: 10. Check #3",
    ]
    assert all(f.severity is Severity.IMPROVEMENT for f in found)
    assert found[1].location == "Section 10 (Check #3)"


def test_a_section_found_by_title_when_the_number_is_gone(plan: LessonPlan) -> None:
    lesson = complete_lesson(plan)
    for s in lesson.sections:
        s.number = None  # a hand-edited file without the outline comments
    assert review_checks(plan, files(lesson, practice(plan))) == []


def test_planned_modality_without_a_block(plan: LessonPlan) -> None:
    lesson = complete_lesson(plan)
    for s in lesson.sections:
        s.blocks = [b for b in s.blocks if not isinstance(b, CodeBlock)]
    found = review_checks(plan, files(lesson, practice(plan)))
    assert titles(found) == ["Planned modality missing: Symbolic"]
    # a plan that lists the same modality twice (a small model repeats itself) gets one finding
    symbolic = next(m for m in plan.modalities if "Symbolic" in m.modality)
    twice = plan.model_copy(update={"modalities": [*plan.modalities, symbolic]})
    assert titles(review_checks(twice, files(lesson, practice(twice)))) == [
        "Planned modality missing: Symbolic"
    ]


def test_exercise_count_and_scaffolding(plan: LessonPlan) -> None:
    notebook = practice(plan)
    notebook.exercises[2].level = "Guided"
    found = review_checks(plan, files(complete_lesson(plan), notebook))
    assert titles(found) == ["Exercise scaffolding differs from the plan"]
    assert "Guided -> Guided -> Supported -> Independent" in found[0].issue
    notebook.exercises = notebook.exercises[:3]
    assert "Exercise count differs from the plan" in titles(
        review_checks(plan, files(complete_lesson(plan), notebook))
    )


def test_spaced_em_dashes_are_polish(plan: LessonPlan) -> None:
    lesson = complete_lesson(plan)
    lesson.sections[3].blocks.append(CodeBlock(code="SD v1.5 \u2014 one encoder"))
    lesson.sections[0].prose = "Unspaced\u2014fine."
    found = review_checks(plan, files(lesson, practice(plan)))
    assert [(f.severity, f.title) for f in found] == [
        (Severity.POLISH, "Em dashes with spaces in visible text")
    ]
    assert "Section 4" in found[0].location and "CodeBlock" in found[0].location


def test_untaught_concept_needs_a_gap_resolution(plan: LessonPlan) -> None:
    lesson = complete_lesson(plan)  # section 9 uses DMD, which the records mark NOT TAUGHT
    assert review_checks(plan, files(lesson, practice(plan))) == []  # the plan resolves it
    unresolved = plan.model_copy(update={"gaps": []})
    found = review_checks(unresolved, files(lesson, practice(plan)))
    assert titles(found) == ["Untaught concept used without a resolution: DMD"]
    assert found[0].severity is Severity.IMPROVEMENT  # required at INTRODUCED
    # once the records show it taught, it is no gap any more
    assert (
        review_checks(
            unresolved, files(lesson, practice(plan)), depth_of=lambda c: Depth.INTRODUCED
        )
        == []
    )
    # an unused untaught concept is no finding either
    for s in lesson.sections:
        s.blocks = [b for b in s.blocks if not (isinstance(b, Aside) and b.title == "DMD")]
    assert review_checks(unresolved, files(lesson, practice(plan))) == []


def test_missing_lesson_file(plan: LessonPlan) -> None:
    found = review_checks(plan, files(None, None))
    assert titles(found) == ["Lesson file missing", "Notebook missing"]


def test_sections_renamed_without_outline_comments_keep_their_places(plan: LessonPlan) -> None:
    lesson = complete_lesson(plan)
    for k, s in enumerate(lesson.sections):
        s.number, s.outline_title, s.heading = None, "", f"Part {k}"
    assert review_checks(plan, files(lesson, practice(plan))) == []
