"""The build node: the lesson, section by section, and its practice notebook.

One model call per outline section (``build_section``), one for the frame
(objective, scope, summary, references, next step: ``build_frame``), one for
the notebook's setup cell and one per planned exercise (``build_notebook``).
No call has to produce the whole lesson; the section calls, and the exercise calls, do
not depend on each other and run up to ``run.max_concurrency`` at a time, their results
kept in outline order (``pipeline.concurrency``).  The files go to the module's
``build/`` folder (``<slug>.mdx``, ``<slug>.ipynb``); a file an author edited
by hand since ``author`` last wrote it is not overwritten without ``--force``
(``.author/written.json`` remembers what was written, as for the planning document).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lesson_author.build.lesson_doc import (
    FRAME_ROLES,
    BuiltLesson,
    BuiltSection,
    PracticeNotebook,
    mdx_filename,
    notebook_filename,
    section_role,
)
from lesson_author.build.mdx import read_mdx, render_mdx
from lesson_author.build.notebook import NotebookInvalid, notebook_text, read_notebook
from lesson_author.build.schemas import (
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
from lesson_author.course.models import Finding, LessonPlan, Misconception, OutlineSection
from lesson_author.course.tree import write_atomic
from lesson_author.errors import UserError
from lesson_author.text.words import word_set

from .concurrency import map_in_order
from .context import RunContext
from .plan_document import edited_since_written, remember_written
from .state import LessonState

BUILD_SECTION = "build_section"
BUILD_FRAME = "build_frame"
BUILD_NOTEBOOK = "build_notebook"


# ---------------------------------------------------------------- inputs


def current_plan(state: LessonState | None, run: RunContext) -> LessonPlan:
    """The planning document as it is on disk (an author may have edited it), else the state's."""
    path = run.location.plan_path
    if path.is_file():
        return run.tree.lesson_plan_at(path)
    if state is not None and state.plan is not None:
        return state.plan
    raise UserError(
        f"no planning document for '{run.location.slug}' at {run.relative(path)}: "
        f"run `author plan {run.location.slug}` first"
    )


def lesson_title(plan: LessonPlan, run: RunContext) -> str:
    return plan.title or run.location.ref.title


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


def _section_digest(section: BuiltSection) -> str:
    kinds = []
    for b in section.blocks:
        title = getattr(b, "title", "") or (
            b.left.title + " vs " + b.right.title if b.kind == "comparison" else ""
        )
        kinds.append(f"{b.kind}{f' {title!r}' if title else ''}")
    return f"{section.label}: {section.heading}" + (f" [{', '.join(kinds)}]" if kinds else "")


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
    return complete_from_outline(built, planned.body, section_role(planned.title), pairs)


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


# ---------------------------------------------------------------- files


def lesson_paths(run: RunContext) -> tuple[Path, Path]:
    build_dir = run.location.build_dir
    slug = run.location.slug
    return build_dir / mdx_filename(slug), build_dir / notebook_filename(slug)


def edited_by_hand(run: RunContext, path: Path) -> bool:
    """Whether ``path`` exists with content ``author`` did not write there last."""
    return edited_since_written(run.project_root, path) is not None


def write_lesson_files(
    run: RunContext, lesson: BuiltLesson, *, overwrite_edits: bool = False
) -> list[Path]:
    """Write ``<slug>.mdx`` and ``<slug>.ipynb``; UserError before writing anything when one of
    them was edited by hand (unless ``overwrite_edits`` or ``--force``)."""
    mdx_path, nb_path = lesson_paths(run)
    texts = {mdx_path: render_mdx(lesson)}
    if lesson.notebook is not None:
        texts[nb_path] = notebook_text(lesson.notebook, lesson_title=lesson.title)
    if not (overwrite_edits or run.force):
        edited = [
            p for p in texts if edited_by_hand(run, p) and p.read_text(encoding="utf-8") != texts[p]
        ]
        if edited:
            names = ", ".join(run.relative(p) for p in edited)
            raise UserError(
                f"{names} was edited by hand since author wrote it; review it with "
                f"`author review {run.location.slug}`, or rebuild over it with --force"
            )
    mdx_path.parent.mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        write_atomic(path, text)
        remember_written(run.project_root, path, text)
    return list(texts)


def lesson_on_disk(
    run: RunContext,
) -> tuple[BuiltLesson | None, PracticeNotebook | None, str | None]:
    """(lesson, notebook, why the notebook is invalid) as the files are now."""
    mdx_path, nb_path = lesson_paths(run)
    lesson = (
        read_mdx(mdx_path.read_text(encoding="utf-8"), slug=run.location.slug)
        if mdx_path.is_file()
        else None
    )
    notebook, error = None, None
    if nb_path.is_file():
        try:
            notebook = read_notebook(
                nb_path.read_text(encoding="utf-8"), title=lesson.title if lesson else ""
            )
        except NotebookInvalid as exc:
            error = str(exc)
        except UnicodeDecodeError:
            error = "not UTF-8 text"
    return lesson, notebook, error


# ---------------------------------------------------------------- the node


def build_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    plan = current_plan(state, run)
    lesson = build_lesson(run, plan)
    written = write_lesson_files(run, lesson)
    exercises = len(lesson.notebook.exercises) if lesson.notebook else 0
    return {
        "build": lesson.model_dump(mode="json"),
        "status": "built",
        "written": [run.relative(p) for p in written],
        "_progress": f"{len(lesson.sections)} sections, {len(lesson.checks())} checks, {exercises} exercises",
    }


def section_digests(lesson: BuiltLesson) -> list[str]:
    return [_section_digest(s) for s in lesson.sections]
