"""load: the lesson's place in the course, its module context and candidate concepts. No LLM.

Everything comes from :func:`lesson_author.state.lesson_state`: the series plan
(number, title, description, position), the module plan (narrative, topic
allocation, planned load, misconceptions), the module record (the previous
lesson's load) and the student state (candidate rows, computed prerequisites).
The same function backs ``author state SLUG``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lesson_author.state import CANDIDATE_TOKEN_BUDGET, lesson_state
from lesson_author.workspace import check_plan_writable

from .state import LessonState

if TYPE_CHECKING:
    from .context import RunContext


def check_readable(run: RunContext) -> None:
    """Read every record file the run will write back (course.md, the series plan, the
    module plan and record, the planning document): a RecordsError naming file and line
    now, before the first model call, rather than after the lesson is built."""
    tree, loc = run.tree, run.location
    for path, read in (
        (tree.course_path, lambda: tree.course()),
        (loc.series_plan_path, lambda: tree.series_plan(loc.series)),
        (loc.module_plan_path, lambda: tree.module_plan(loc.module)),
        (loc.record_path, lambda: tree.module_record(loc.module)),
        (loc.plan_path, lambda: tree.lesson_plan_at(loc.plan_path)),
    ):
        if path.is_file():
            read()


def load_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Locate the lesson, read its module context, select candidate concepts. No LLM."""
    loc = run.location
    check_readable(run)
    check_plan_writable(run.project_root, loc.plan_path, force=run.force)
    student = lesson_state(
        run.tree,
        loc.slug,
        token_budget=run.candidate_tokens or CANDIDATE_TOKEN_BUDGET,
        student=run.student_state,
        relative=run.relative,
    )
    candidates = student.candidates
    return {
        "lesson": student.info,
        "module": student.module,
        "candidates": candidates,
        "computed_prerequisites": student.prerequisite_facts(),
        "status": "planning",
        "_progress": f"{len(run.student_state.concepts)} concepts known, {len(candidates)} candidates",
    }
