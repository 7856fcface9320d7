"""The planning document: assembled from the state, rendered by the records renderer.

plan_checks judges the assembled plan; the write_plan node (write_plan.py) writes it,
guarded against overwriting a person's edits (lesson_author.workspace).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesson_author.course.models import LessonPlan
from lesson_author.course.render import render_lesson_plan

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
    return render_lesson_plan(plan)
