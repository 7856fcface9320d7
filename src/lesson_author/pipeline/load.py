"""load: the lesson's place in the course, its module context and candidate concepts. No LLM.

Everything here comes from the records tree: the series plan (number, title,
description, position), the module plan (narrative, topic allocation, planned
load, misconceptions), the module record (the previous lesson's load) and the
student state (the candidate concept rows, see orient.select_candidates).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import CognitiveLoad
from lesson_author.workspace import check_plan_writable

from .orient import CANDIDATE_TOKEN_BUDGET, lesson_numbers, select_candidates, tokens
from .state import LessonInfo, LessonState, ModuleContext

if TYPE_CHECKING:
    from lesson_author.course.models import ModulePlan, ModuleRecord, SeriesPlan

    from .context import RunContext

NARRATIVE_CHARS = 1500
MAX_MODULE_MISCONCEPTIONS = 4


def _load_word(text: str) -> str:
    """BUILD / STRETCH / CONSOLIDATE named in `text`, or ''."""
    upper = text.upper()
    for load in CognitiveLoad:
        if re.search(rf"\b{load.value}\b", upper):
            return load.value
    return ""


def _mentions(text: str, slug: str, number: int | None, title: str) -> bool:
    lowered = text.lower()
    if slug in lowered or (title and title.lower() in lowered):
        return True
    return number is not None and re.search(rf"\blesson {number}\b", lowered) is not None


def lesson_narrative(plan: ModulePlan | None, slug: str, number: int | None, title: str) -> str:
    """The module narrative's opening paragraph and the paragraph about this lesson."""
    if plan is None or not plan.narrative_arc.strip():
        return ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", plan.narrative_arc) if p.strip()]
    chosen = paragraphs[:1] + [p for p in paragraphs[1:] if _mentions(p, slug, number, title)]
    text = "\n\n".join(chosen)
    return text if len(text) <= NARRATIVE_CHARS else text[: NARRATIVE_CHARS - 3].rstrip() + "..."


def planned_load(plan: ModulePlan | None, slug: str) -> tuple[str, str]:
    """(load, rationale) the module plan gives the lesson."""
    if plan is None:
        return "", ""
    for row in plan.sequence:
        if slug in row.lesson:
            return _load_word(row.load), row.rationale
    for row in plan.load_trajectory:
        if slug in row.lesson:
            return _load_word(row.load), row.notes
    return "", ""


def previous_load(
    record: ModuleRecord | None, plan: ModulePlan | None, previous: str | None
) -> str:
    """The previous lesson's load: the record's summary first (what was built), else the plan."""
    if not previous:
        return ""
    if record is not None:
        summary = record.summary(previous)
        if summary is not None and _load_word(summary.cognitive_load):
            return _load_word(summary.cognitive_load)
    return planned_load(plan, previous)[0]


def relevant_misconceptions(plan: ModulePlan | None, lesson_text: str) -> list[str]:
    """The module plan's misconceptions that share words with this lesson's topics."""
    if plan is None:
        return []
    query = set(tokens(lesson_text))
    scored = []
    for n, text in enumerate(plan.misconceptions):
        shared = len(set(tokens(text)) & query)
        if shared >= 2:
            scored.append((-shared, n, text))
    return [text for _, _, text in sorted(scored)[:MAX_MODULE_MISCONCEPTIONS]]


def series_connections(series: SeriesPlan | None) -> list[tuple[str, str, str]]:
    if series is None:
        return []
    return [(row.concept, row.earlier, row.source) for row in series.connections]


def lesson_text(info: LessonInfo, module: ModuleContext) -> str:
    """What the lesson is about, as the plans say it: the query for candidate selection.

    The allocation's "NOT: ..." lines name what the lesson leaves out; they are not its topics.
    """
    allocation = "\n".join(
        line
        for line in module.topic_allocation.splitlines()
        if not re.match(r"^\s*(?:[-*]\s*)?\**NOT\b", line)
    )
    return "\n".join(part for part in (info.title, info.description, allocation) if part)


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
    tree = run.tree
    check_readable(run)
    check_plan_writable(run.project_root, loc.plan_path, force=run.force)
    series = tree.series_plan(loc.series)
    module_plan = tree.module_plan(loc.module)
    record = tree.module_record(loc.module)
    order = tree.lessons_in_order()
    module_lessons = [x.slug for x in order if x.module == loc.module]
    previous = (
        module_lessons[: module_lessons.index(loc.slug)] if loc.slug in module_lessons else []
    )
    ref = loc.ref
    module_row = next(
        (m for m in (series.modules if series else []) if m.module == loc.module), None
    )

    info = LessonInfo(
        slug=loc.slug,
        title=ref.title,
        description=ref.description,
        number=ref.number,
        series=loc.series,
        series_title=series.title if series else "",
        module=loc.module,
        module_title=(module_plan.title if module_plan else "")
        or (module_row.title if module_row else ""),
        position_in_module=loc.position_in_module,
        module_size=loc.module_size,
        position_in_series=loc.position_in_series,
        series_size=loc.series_size,
        position_text=loc.position_text,
        plan_path=run.relative(loc.plan_path),
        record_path=run.relative(loc.record_path),
        module_plan_path=run.relative(loc.module_plan_path),
        series_plan_path=run.relative(loc.series_plan_path),
    )
    load, rationale = planned_load(module_plan, loc.slug)
    allocation = module_plan.topic_allocation.get(loc.slug, "") if module_plan else ""
    module = ModuleContext(
        module_goal=module_plan.goal if module_plan else "",
        narrative_arc=lesson_narrative(module_plan, loc.slug, ref.number, ref.title),
        topic_allocation=allocation.strip(),
        planned_load=load,
        sequence_rationale=rationale,
        previous_lessons=previous,
        previous_lesson=previous[-1] if previous else "",
        previous_load=previous_load(record, module_plan, previous[-1] if previous else None),
    )
    text = lesson_text(info, module)
    module.misconceptions = relevant_misconceptions(module_plan, text)
    connections = series_connections(series)
    module.series_connections = [
        f"{c} <- {e} ({s})"
        for c, e, s in connections
        if len(set(tokens(c)) & set(tokens(text))) >= 2
    ]
    candidates = select_candidates(
        run.student_state,
        lesson_text=text,
        previous_lessons=previous,
        connections=connections,
        numbers=lesson_numbers(order),
        token_budget=run.candidate_tokens or CANDIDATE_TOKEN_BUDGET,
    )
    return {
        "lesson": info,
        "module": module,
        "candidates": candidates,
        "status": "planning",
        "_progress": f"{len(run.student_state.concepts)} concepts known, {len(candidates)} candidates",
    }
