"""The review node: deterministic checks + the LLM reviewer -> one review, written down.

The review reads the lesson and notebook **from disk** (what the student would
get, including an author's hand edits), runs the deterministic checks, asks the
reviewer (``review``) for its findings and its verification of the previous
iteration's findings, merges the two, computes the verdict, and writes the
review into the planning document and ``reviews/<slug>/``.

:func:`route_after_review` is the loop: PASS -> record; not PASS with
iterations left -> revise; otherwise record (which records the open findings).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from lesson_author.checks.inputs import (
    BuildFiles,
    CheckOptions,
    execute_setting,
    skip_rules_setting,
)
from lesson_author.checks.review_checks import review_checks
from lesson_author.course.models import Finding, LessonPlan, Review, Verdict
from lesson_author.errors import UserError
from lesson_author.lesson.lesson_doc import BuiltLesson, PracticeNotebook
from lesson_author.review.documents import append_review_to_plan, write_review_files
from lesson_author.review.findings import (
    make_review,
    merge_findings,
    reviewer_notes,
    verify_previous,
)
from lesson_author.review.reviewer import ReviewerResult, review_content
from lesson_author.state import depth_of as known_depth
from lesson_author.workspace import remember_written

from .context import RunContext
from .lesson_files import (
    current_plan,
    lesson_on_disk,
    lesson_paths,
    lesson_title,
)
from .state import LessonState

REVIEW = "review"
MAX_PREVIOUS_SHOWN = 10


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def deterministic_findings(
    run: RunContext,
    plan: LessonPlan,
    lesson: BuiltLesson | None,
    notebook: PracticeNotebook | None,
    notebook_error: str | None,
) -> list[Finding]:
    """Every rule of ``lesson_author.checks`` on the files on disk (the notebook is executed
    unless execution is off: ``--no-execute``, ``AUTHOR_EXECUTE=0``, ``[tool.author] execute``)."""
    mdx_path, nb_path = lesson_paths(run)
    files = BuildFiles(
        lesson=lesson,
        notebook=notebook,
        notebook_error=notebook_error,
        lesson_path=run.relative(mdx_path),
        notebook_path=run.relative(nb_path),
        lesson_text=_text(mdx_path),
        notebook_text=_text(nb_path),
    )
    try:
        depth_of = partial(known_depth, run.student_state)
    except UserError:  # a records problem must not hide the review; `author check` reports it
        depth_of = None
    options = CheckOptions(
        execute=execute_setting(run.project_root),
        cache_dir=Path(run.project_root) / ".author",
        skip_rules=skip_rules_setting(run.project_root),
    )
    return review_checks(plan, files, depth_of=depth_of, options=options)


def review_lesson(
    run: RunContext,
    plan: LessonPlan,
    *,
    iteration: int,
    of: int,
    previous: Review | None,
) -> tuple[Review, list[Any]]:
    """Review the files on disk; (the review, the verification of ``previous``). Writes nothing."""
    review, statuses, _ = reviewed(run, plan, iteration=iteration, of=of, previous=previous)
    return review, statuses


def _notebook_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def reviewed(
    run: RunContext,
    plan: LessonPlan,
    *,
    iteration: int,
    of: int,
    previous: Review | None,
) -> tuple[Review, list[Any], ReviewerResult]:
    """:func:`review_lesson` and what the LLM reviewer did (calls, findings it dropped)."""
    lesson, notebook, notebook_error = lesson_on_disk(run)
    _, nb_path = lesson_paths(run)
    deterministic = deterministic_findings(run, plan, lesson, notebook, notebook_error)

    earlier: Sequence[Finding] = previous.findings[:MAX_PREVIOUS_SHOWN] if previous else []
    # the LLM reviewer reads the sections, the notebook's cells and the arc (review/reviewer.py)
    output = review_content(
        run,
        plan,
        lesson.model_copy(update={"notebook": notebook}) if lesson is not None else None,
        title=lesson_title(plan, run),
        iteration=iteration,
        of=of,
        deterministic=deterministic,
        previous=earlier,
        notebook_text=_notebook_text(nb_path),
    )
    findings = merge_findings(deterministic, output.findings)
    judgments = output.verification
    review = make_review(
        run.today,
        iteration,
        of,
        findings,
        reviewer_notes(output.strengths, output.assessment),
        previous=previous,
        judgments=judgments,
    )
    statuses = verify_previous(previous, review.findings, judgments) if previous else []
    return review, statuses, output


def write_review(run: RunContext, review: Review, statuses: Sequence[Any]) -> list[str]:
    """Into the planning document and reviews/<slug>/; the paths written (project-relative).

    The planning document's new hash is remembered, so that author's own review sections
    never count as a person's edits (``author plan`` would refuse to overwrite those)."""
    plan_path = run.location.plan_path
    append_review_to_plan(plan_path, review)
    remember_written(run.project_root, plan_path, plan_path.read_text(encoding="utf-8"))
    written = write_review_files(run.project_root, run.location.slug, review, statuses)
    return [run.relative(run.location.plan_path), *(run.relative(p) for p in written)]


def summary_line(review: Review) -> str:
    counts = (
        ", ".join(f"{n} {s.value.lower()}" for s, n in review.counts.items() if n) or "no findings"
    )
    verdict = review.verdict.value if review.verdict else "?"
    return f"iteration {review.iteration}/{review.of}: {verdict} ({counts})"


def review_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    plan = current_plan(state, run)
    iteration = state.iteration + 1
    previous = state.reviews[-1] if state.reviews else None
    review, statuses, output = reviewed(
        run, plan, iteration=iteration, of=max(run.max_iterations, iteration), previous=previous
    )
    written = write_review(run, review, statuses)
    notes = [
        f"review iteration {iteration}: {output.section_calls} section call(s), "
        f"{output.lesson_calls} whole-lesson call(s); dropped {len(output.dropped)} reviewer "
        f"finding(s) that named no concrete issue"
        + "".join(f"; '{d.title}' ({d.location}): {d.reason}" for d in output.dropped[:5])
    ]
    if output.skipped:
        notes.append(
            f"review iteration {iteration}: {len(output.skipped)} section(s) not sent to the "
            "reviewer, the checks found their text degenerate or empty: "
            + ", ".join(output.skipped)
        )
    return {
        "notes": notes,
        "reviews": [*state.reviews, review],
        "iteration": iteration,
        "status": f"reviewed: {review.verdict.value if review.verdict else ''}",
        "written": written,
        "_progress": summary_line(review),
    }


def route_after_review(max_iterations: int):
    def route(state: LessonState) -> str:
        last = state.reviews[-1] if state.reviews else None
        if last is not None and last.verdict is Verdict.PASS:
            return "record"
        if state.iteration < max_iterations:
            return "revise"
        return "record"

    route.__name__ = "after_review"
    return route
