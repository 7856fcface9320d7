"""The planning document: assembled from the state, rendered by the records renderer, written safely.

``write_plan`` refuses to overwrite a document a person edited since author
wrote it. The hash of what author wrote is kept in ``.author/written.json``
(relative path -> sha256), not inside the document, so the seed format stays
clean. A document author has no hash for (written by hand, or before author)
counts as edited. ``--force`` overwrites anyway.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import LessonPlan
from lesson_author.errors import UserError

from .state import LessonState

if TYPE_CHECKING:
    from .context import RunContext


# ---------------------------------------------------------------- assembling


def header_series(state: LessonState) -> str:
    """The header's **Series:** line after its label, as the seed writes it."""
    info = state.lesson
    assert info is not None
    series = f"{info.series} ({info.series_title})" if info.series_title else info.series
    module = f"{info.module} ({info.module_title})" if info.module_title else info.module
    return f"{series}, **Module:** {module}, **Position:** {info.position_text}"


def assemble_plan(state: LessonState, run: RunContext | None = None) -> LessonPlan:
    """The LessonPlan the state describes so far (checklists are added by plan_checks)."""
    info = state.lesson
    assert info is not None
    orient = state.orient
    analysis = state.analysis
    design = state.design
    plan = LessonPlan(
        title=info.title,
        slug=info.slug,
        series=header_series(state),
        cognitive_load=design.cognitive_load if design else "",
    )
    if orient is not None:
        plan.relevant_concepts = list(orient.relevant_concepts)
        plan.mental_models = orient.mental_models
        plan.not_covered = orient.not_covered
        plan.readiness = orient.readiness
    if analysis is not None:
        plan.target_concept = analysis.target_concept
        plan.prerequisites = list(analysis.prerequisites)
        plan.gaps = list(analysis.gaps)
        plan.misconceptions = list(analysis.misconceptions)
        plan.examples = list(analysis.examples)
    if design is not None:
        plan.narrative_arc = design.narrative_arc
        plan.modalities = list(design.modalities)
        plan.cognitive_load_assessment = design.cognitive_load_assessment
        plan.connections = list(design.connections)
        plan.analogies_to_extend = design.analogies_to_extend
        plan.misleading_analogies = design.misleading_analogies
        plan.scope = design.scope
        plan.outline = list(design.outline)
    return plan


def render_plan(plan: LessonPlan) -> str:
    from lesson_author.course.render import render_lesson_plan

    return render_lesson_plan(plan)


# ---------------------------------------------------------------- hand-edit protection


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _written_path(project_root: Path) -> Path:
    from lesson_author.workspace import written_path

    return written_path(project_root)


def _relative_key(project_root: Path, path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(project_root.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def load_written(project_root: Path) -> dict[str, str]:
    path = _written_path(project_root)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember_written(project_root: Path, path: Path, text: str) -> None:
    """Record that author wrote `text` to `path` (call after every write of a document)."""
    from lesson_author.course.tree import write_atomic

    written = load_written(project_root)
    written[_relative_key(project_root, path)] = content_hash(text)
    target = _written_path(project_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, json.dumps(dict(sorted(written.items())), indent=2) + "\n")


def edited_since_written(project_root: Path, path: Path) -> str | None:
    """Why writing `path` would lose a person's work ('edited' / 'not written by author'), or None."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "not readable as UTF-8 text"
    recorded = load_written(project_root).get(_relative_key(project_root, path))
    if recorded is None:
        return "it exists and author did not write it"
    if recorded != content_hash(current):
        return "it was edited since author wrote it"
    return None


def check_writable(run: RunContext, path: Path) -> None:
    """UserError when writing `path` would overwrite a person's edits (unless --force)."""
    if run.force:
        return
    reason = edited_since_written(run.project_root, path)
    if reason is not None:
        raise UserError(
            f"will not overwrite the planning document: {reason}. Move it away, or run "
            "again with --force to replace it (its edits will be lost)",
            path=run.relative(path),
        )


def write_plan_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Render the plan and write it atomically; remember its hash."""
    from lesson_author.course.tree import write_atomic

    if state.plan is None:
        raise RuntimeError("write_plan ran before plan_checks produced a plan")
    path = run.location.plan_path
    check_writable(run, path)
    text = render_plan(state.plan)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(path), text)
    remember_written(run.project_root, Path(path), text)
    return {
        "plan_path": run.relative(path),
        "plan_hash": content_hash(text),
        "status": "planned",
        "_progress": run.relative(path),
    }
