"""The write_plan node: the checked plan, rendered and written atomically.

It refuses to overwrite a planning document a person edited since author wrote it
(unless --force; see lesson_author.workspace), and remembers the hash of what it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lesson_author.course.tree import write_atomic
from lesson_author.workspace import check_plan_writable, content_hash, remember_written

from .context import RunContext
from .plan_document import render_plan
from .state import LessonState


def write_plan_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Render the plan and write it atomically; remember its hash."""
    if state.plan is None:
        raise RuntimeError("write_plan ran before plan_checks produced a plan")
    path = Path(run.location.plan_path)
    check_plan_writable(run.project_root, path, force=run.force)
    text = render_plan(state.plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    remember_written(run.project_root, path, text)
    return {
        "plan_path": run.relative(path),
        "plan_hash": content_hash(text),
        "status": "planned",
        "_progress": run.relative(path),
    }
