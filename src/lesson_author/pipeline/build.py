"""The build node: the lesson, section by section, and its practice notebook.

The model calls are in lesson_writer.py (revise reuses them), the files in lesson_files.py.
"""

from __future__ import annotations

from typing import Any

from .context import RunContext
from .lesson_files import current_plan, write_lesson_files
from .lesson_writer import build_lesson
from .state import LessonState


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
