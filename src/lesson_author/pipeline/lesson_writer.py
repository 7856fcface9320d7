"""The model calls that write a lesson: its sections, its frame, its practice notebook.

One model call per outline section (``build_section``), one for the frame (objective, scope,
summary, references, next step: ``build_frame``), one for the notebook's setup cell and one
per planned exercise (``build_notebook``). No call has to produce the whole lesson; the
section calls, and the exercise calls, do not depend on each other and run up to
``run.max_concurrency`` at a time, their results kept in outline order
(``pipeline.concurrency``). The build node writes every part; revise rewrites some.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lesson_author.checks.content import pieces_degeneracy, section_pieces
from lesson_author.course.models import Finding, LessonPlan, Misconception, OutlineSection
from lesson_author.lesson.lesson_doc import (
    FRAME_ROLES,
    Aside,
    BuiltLesson,
    BuiltSection,
    GradientCard,
    PracticeNotebook,
    notebook_filename,
    section_role,
)
from lesson_author.lesson.schemas import (
    ExerciseDraft,
    FrameDraft,
    SectionDraft,
    SetupDraft,
    complete_from_outline,
    tidy,
    to_exercise,
    to_references,
    to_section,
)
from lesson_author.text.degenerate import without_repeats
from lesson_author.text.words import word_set

from .concurrency import map_in_order
from .context import RunContext
from .lesson_files import lesson_title

BUILD_SECTION = "build_section"
BUILD_FRAME = "build_frame"
BUILD_NOTEBOOK = "build_notebook"


def _words(text: str) -> set[str]:
    return word_set(text, min_length=4)


def misconceptions_for(plan: LessonPlan, section: OutlineSection) -> list[Misconception]:
    """The plan's misconceptions this section addresses: the outline names it
    (``Misconception #2``) or its "where to address" names the section's topic."""
    found = []
    title_words = _words(section.title)
    for i, m in enumerate(plan.misconceptions, start=1):
        named = re.search(rf"misconception\s*#?\s*{i}\b", section.body, re.IGNORECASE)
        where = _words(m.where.split(".")[0])
        if named or (title_words and len(title_words & where) >= max(1, len(title_words) // 2)):
            found.append(m)
    return found


def frame_heading(title: str) -> str:
    """``"Elaborate: References and Further Reading"`` -> ``"References and Further Reading"``."""
    text = title.split(":", 1)[1].strip() if ":" in title else title.strip()
    return {"summarize": "Summary"}.get(text.lower(), text)


# ---------------------------------------------------------------- model calls


def build_section(
    run: RunContext,
    plan: LessonPlan,
    planned: OutlineSection,
    previous_headings: Sequence[str],
    *,
    phase: str = BUILD_SECTION,
) -> BuiltSection:
    role = section_role(planned.title)
    messages = run.messages(
        "build_section.md.j2",
        lesson={"title": lesson_title(plan, run), "slug": plan.slug or run.location.slug},
        target_concept=plan.target_concept,
        previous_headings=list(previous_headings),
        section={"number": planned.number, "title": planned.title, "body": planned.body.strip()},
        misconceptions=misconceptions_for(plan, planned),
        modalities=plan.modalities,
        role=role,
        notebook=notebook_filename(run.location.slug),
    )
    draft = run.complete(messages, SectionDraft, phase=phase)
    return with_plan_blocks(
        plan, planned, to_section(draft, number=planned.number, outline_title=planned.title)
    )


def with_plan_blocks(
    plan: LessonPlan, planned: OutlineSection, built: BuiltSection
) -> BuiltSection:
    """``built`` completed with the checks, code and misconceptions the plan spells out for it
    and the model left out (see ``build.schemas.complete_from_outline``)."""
    pairs = [(m.misconception, m.negative_example) for m in misconceptions_for(plan, planned)]
    done = complete_from_outline(built, planned.body, section_role(planned.title), pairs)
    return without_repeated_sentences(done)


def without_repeated_sentences(section: BuiltSection) -> BuiltSection:
    """``section`` without the prose sentences it already says, when the review's
    degenerate-text rule would flag it for them.

    The parts come from different places (the model's paragraphs, the plan's misconception
    warnings and checks), and each passes alone; together they can say one sentence twice.
    Titles, questions and code stay; repeated sentences leave paragraphs and card or warning
    bodies. A section still flagged after that is left for the review to report."""
    if not pieces_degeneracy(section_pieces(section)):
        return section
    fixed = " ".join(
        f"{getattr(b, 'title', '')}. {getattr(b, 'question', '')}." for b in section.blocks
    )
    said = fixed
    paragraphs = []
    for para in re.split(r"\n\s*\n", section.prose):
        kept = para if re.match(r"\s*(`{3,}|~{3,})", para) else without_repeats(para, said)
        said += "\n" + para
        if kept.strip():
            paragraphs.append(kept)
    blocks = []
    for block in section.blocks:
        if isinstance(block, Aside | GradientCard) and block.body.strip():
            body = without_repeats(block.body, said) or block.body  # a card keeps some text
            said += "\n" + block.body
            block = block.model_copy(update={"body": body})
        blocks.append(block)
    return section.model_copy(update={"prose": "\n\n".join(paragraphs), "blocks": blocks})


def frame_section(planned: OutlineSection) -> BuiltSection:
    """A summary / references / next-step section: its content comes from the frame call."""
    return BuiltSection(
        number=planned.number, outline_title=planned.title, heading=frame_heading(planned.title)
    )


def build_frame(
    run: RunContext, plan: LessonPlan, sections: Sequence[BuiltSection], *, phase: str = BUILD_FRAME
) -> dict[str, Any]:
    """The lesson's objective, constraints, summary, references and next step."""

    def planned(role: str) -> str:
        return "\n\n".join(s.body.strip() for s in plan.outline if section_role(s.title) == role)

    messages = run.messages(
        "build_frame.md.j2",
        lesson={"title": lesson_title(plan, run), "slug": plan.slug or run.location.slug},
        target_concept=plan.target_concept,
        headings=[s.heading for s in sections],
        scope=plan.scope.strip(),
        summary_plan=planned("summary"),
        references_plan=planned("references"),
        next_plan=planned("next"),
    )
    draft = run.complete(messages, FrameDraft, phase=phase)
    return {
        "objective": tidy(draft.objective),
        "constraints": [tidy(c) for c in draft.constraints if c.strip()],
        "summary": [tidy(s) for s in draft.summary if s.strip()],
        "references": to_references(draft.references),
        "next_step": tidy(draft.next_step),
    }


def build_notebook(
    run: RunContext,
    plan: LessonPlan,
    *,
    title: str,
    takeaways: Sequence[str],
    feedback: Sequence[Finding] = (),
    phase: str = BUILD_NOTEBOOK,
) -> PracticeNotebook:
    """The setup cell and every planned exercise, in order, one call each."""
    exercises = plan.exercises()
    common = {
        "lesson": {"title": title, "slug": plan.slug or run.location.slug},
        "target_concept": plan.target_concept,
        "exercises": exercises,
        "total": len(exercises),
        "feedback": list(feedback),
    }
    setup = run.complete(
        run.messages("notebook.md.j2", exercise=None, number=0, **common), SetupDraft, phase=phase
    )

    def build_exercise(numbered: tuple[int, Any]) -> Any:
        number, exercise = numbered
        draft = run.complete(
            run.messages("notebook.md.j2", exercise=exercise, number=number, **common),
            ExerciseDraft,
            phase=phase,
        )
        return to_exercise(draft, level=exercise.level, title=exercise.title, task=exercise.task)

    # each exercise's prompt names every planned exercise, not the built ones: independent calls
    built = map_in_order(
        build_exercise, list(enumerate(exercises, start=1)), workers=run.max_concurrency
    )
    return PracticeNotebook(
        title=title, setup_code=setup.setup_code, exercises=built, takeaways=list(takeaways)
    )


def build_lesson(run: RunContext, plan: LessonPlan) -> BuiltLesson:
    """The whole lesson: every outline section in order, the frame, the notebook."""
    title = lesson_title(plan, run)

    # each section's prompt names the planned sections before it (not their built headings), so
    # sections do not depend on each other: up to run.max_concurrency are built at once
    def one_section(i: int) -> BuiltSection:
        planned = plan.outline[i]
        if section_role(planned.title) in FRAME_ROLES:
            return frame_section(planned)
        return build_section(run, plan, planned, [s.title for s in plan.outline[:i]])

    sections = map_in_order(one_section, range(len(plan.outline)), workers=run.max_concurrency)
    frame = build_frame(run, plan, sections)
    lesson = BuiltLesson(
        slug=plan.slug or run.location.slug, title=title, sections=sections, **frame
    )
    notebook = build_notebook(run, plan, title=title, takeaways=lesson.summary)
    return lesson.model_copy(update={"notebook": notebook})
