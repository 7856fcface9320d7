"""analyze: target concept, prerequisite audit, gaps, misconceptions, examples.

The model states the target concept and the prerequisites with the depth the
lesson requires. It picks them from a list that holds orient's rows and the
prerequisites computed from the plans (:func:`lesson_author.state.computed_prerequisites`:
record rows the plans name for this lesson, and topics no record teaches), so
the computed rows reach the audit whatever the model picked; a computed row it
leaves out is reported as dropped. The audit is computed
(:func:`lesson_author.state.audit`): each prerequisite's actual depth and source
come from the record row it matches (``NOT TAUGHT`` when none matches), and its
status is ``OK`` when actual >= required, else ``GAP``. Each row's reasoning says
whether the plans named it (computed) or the model added it. Each GAP then gets a size and a
resolution from the model; misconceptions and examples come from their own
small calls, so no single reply has to be long.

When plan_checks sends the plan back, only the parts whose checks failed are
asked again (a new prerequisite list also re-plans the gaps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import (
    Depth,
    ExamplePlanned,
    GapResolution,
    Misconception,
    Prerequisite,
)
from lesson_author.state import audit, lesson_numbers
from lesson_author.text.words import name_similarity, tokens

from . import schemas
from .state import AnalysisOutcome, LessonState, PrerequisiteFact

if TYPE_CHECKING:
    from .context import RunContext

GAP_BATCH = 3
# a prerequisite is the computed row of that name when their names are this similar
SAME_NAME = 0.6
COMPUTED = "computed from the plans"
ADDED = "added by the model"

TASKS = ("prerequisites", "gaps", "misconceptions", "examples")


# ---------------------------------------------------------------- computed and added rows


def _listed(state: LessonState) -> list[Any]:
    """What the model picks prerequisites from: orient's rows, then the computed record rows
    orient left out (the plans name them for this lesson)."""
    rows = _relevant(state)
    names = {" ".join(tokens(r.concept)) for r in rows}
    for fact in state.computed_prerequisites:
        if fact.lesson and " ".join(tokens(fact.concept)) not in names:
            names.add(" ".join(tokens(fact.concept)))
            rows.append(fact)
    return rows


def _computed_fact(name: str, state: LessonState) -> PrerequisiteFact | None:
    return next(
        (f for f in state.computed_prerequisites if name_similarity(name, f.concept) >= SAME_NAME),
        None,
    )


def mark_provenance(rows: list[Prerequisite], state: LessonState) -> list[Prerequisite]:
    """Each row's reasoning ends with whether the plans named it, an earlier lesson's planning
    document listed it ("computed: a prerequisite of sdxl"), or the model added it."""
    for row in rows:
        fact = _computed_fact(row.concept, state)
        if fact is None:
            tag = ADDED
        elif fact.listed_earlier:
            tag = f"computed: {fact.named_by}"
        else:
            tag = COMPUTED
        row.reasoning = f"{row.reasoning} ({tag})".strip()
    return rows


def dropped_rows(rows: Sequence[Prerequisite], state: LessonState) -> list[str]:
    """Computed record rows no prerequisite row matches: the model dropped them."""
    return [
        f.concept
        for f in state.computed_prerequisites
        if f.lesson and not any(name_similarity(r.concept, f.concept) >= SAME_NAME for r in rows)
    ]


def claims(reply: schemas.AnalyzeReply, listed: Sequence[Any]) -> list[tuple[str, Depth, str]]:
    """(concept, required depth, reasoning) of each prerequisite: picked rows by their
    records name, then the named ones; an id outside the list is ignored."""
    picked = [
        (listed[p.id - 1].concept, Depth(p.required.value), p.reasoning)
        for p in reply.assumed
        if 1 <= p.id <= len(listed)
    ]
    named = [(p.concept, Depth(p.required.value), p.reasoning) for p in reply.missing]
    return picked + named


def gap_text(row: Prerequisite) -> str:
    return (
        f"{row.concept} at {row.actual_raw or row.actual}, need {row.required_raw or row.required}"
    )


# ---------------------------------------------------------------- the node


def _relevant(state: LessonState) -> list[Any]:
    return list(state.orient.relevant_concepts) if state.orient else []


def _context(state: LessonState, task: str, **extra: Any) -> dict[str, Any]:
    assert state.lesson is not None and state.module is not None
    context: dict[str, Any] = {
        "task": task,
        "lesson": state.lesson,
        "module": state.module,
        "relevant": _listed(state),
        "not_taught": [f.concept for f in state.computed_prerequisites if not f.lesson],
        "target_concept": "",
        "feedback": _feedback(state, task),
        "gaps": [],
        "module_misconceptions": state.module.misconceptions,
    }
    context.update(extra)
    return context


def _feedback(state: LessonState, task: str) -> list[str]:
    return [
        f"{c.text}: {c.detail}" if c.detail else c.text
        for c in state.plan_checks
        if not c.passed and c.owner == "analyze" and c.task == task
    ]


def tasks_to_run(state: LessonState) -> set[str]:
    """All tasks on the first run; on a second run, the failed ones (and what depends on them)."""
    if state.analysis is None or state.reroute_to != "analyze":
        return set(TASKS)
    failed = {c.task for c in state.plan_checks if not c.passed and c.owner == "analyze"}
    failed &= set(TASKS)
    if "prerequisites" in failed:
        failed.add("gaps")
    return failed or set(TASKS)


def _quote(text: str) -> str:
    text = " ".join(text.split()).strip('"“” ')
    return f'"{text}"'


def plan_gaps(
    run: RunContext, state: LessonState, gaps: Sequence[Prerequisite]
) -> list[GapResolution]:
    """A size and a resolution for each GAP, asked in small batches; unanswered gaps stay unresolved."""
    resolved: list[GapResolution] = []
    for start in range(0, len(gaps), GAP_BATCH):
        batch = list(gaps[start : start + GAP_BATCH])
        texts = [gap_text(g) for g in batch]
        reply = run.complete(
            run.messages(
                "analyze.md.j2",
                **_context(
                    state,
                    "gaps",
                    gaps=texts,
                    target_concept=state.analysis.target_concept if state.analysis else "",
                ),
            ),
            schemas.gap_schema(len(batch)),
            phase=schemas.ANALYZE_GAPS,
        )
        answered: dict[int, schemas.GapPlan] = {}
        for plan in reply.gaps:
            if 1 <= plan.gap <= len(batch) and plan.gap not in answered:
                answered[plan.gap] = plan
        for n, text in enumerate(texts, start=1):
            plan = answered.get(n)
            if plan is None:
                continue
            resolved.append(
                GapResolution(
                    gap=text,
                    size=f"{plan.size.value} ({' '.join(plan.size_reason.split())})",
                    resolution=" ".join(plan.resolution.split()),
                )
            )
    return resolved


def analyze_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Phase 2: the model states; the audit is computed from the student state."""
    tasks = tasks_to_run(state)
    previous = state.analysis or AnalysisOutcome()
    outcome = previous.model_copy(deep=True)
    numbers = lesson_numbers(run.tree.lessons_in_order())

    if "prerequisites" in tasks:
        listed = _listed(state)
        reply = run.complete(
            run.messages("analyze.md.j2", **_context(state, "prerequisites")),
            schemas.analyze_schema(len(listed)),
            phase=schemas.ANALYZE,
        )
        outcome.target_concept = " ".join(reply.target_concept.split())
        rows = audit(claims(reply, listed), run.student_state, numbers)
        outcome.prerequisites = mark_provenance(rows, state)
        outcome.dropped = dropped_rows(rows, state)

    if "gaps" in tasks:
        gaps = [p for p in outcome.prerequisites if p.status == "GAP"]
        staged = state.model_copy(update={"analysis": outcome})
        outcome.gaps = plan_gaps(run, staged, gaps) if gaps else []

    if "misconceptions" in tasks:
        reply_m = run.complete(
            run.messages(
                "analyze.md.j2",
                **_context(state, "misconceptions", target_concept=outcome.target_concept),
            ),
            schemas.MisconceptionReply,
            phase=schemas.ANALYZE_MISCONCEPTIONS,
        )
        outcome.misconceptions = [
            Misconception(
                misconception=_quote(m.misconception),
                why=" ".join(m.why.split()),
                negative_example=" ".join(m.negative_example.split()),
                where=" ".join(m.where.split()),
            )
            for m in reply_m.misconceptions
        ]

    if "examples" in tasks:
        reply_e = run.complete(
            run.messages(
                "analyze.md.j2",
                **_context(state, "examples", target_concept=outcome.target_concept),
            ),
            schemas.ExampleReply,
            phase=schemas.ANALYZE_EXAMPLES,
        )
        outcome.examples = [
            ExamplePlanned(
                example=f"**{' '.join(e.title.split())}**: {' '.join(e.description.split())}",
                type=kind,
                purpose=" ".join(e.purpose.split()),
                why=" ".join(e.why.split()),
            )
            for kind, drafts in (("Positive", reply_e.positive), ("Negative", reply_e.negative))
            for e in drafts
        ]

    gaps = sum(1 for p in outcome.prerequisites if p.status == "GAP")
    update: dict[str, Any] = {
        "analysis": outcome,
        "_progress": f"{len(outcome.prerequisites)} prerequisites, {gaps} gap(s)",
    }
    if "prerequisites" in tasks and outcome.dropped:
        # the planning document marks each row computed or added; what the model left out
        # of the computed rows is said in the run's notes
        shown = ", ".join(outcome.dropped[:8]) + (" ..." if len(outcome.dropped) > 8 else "")
        note = (
            f"analyze: the model left out {len(outcome.dropped)} prerequisite(s) computed "
            f"from the plans: {shown} (see `author state {state.slug}`)"
        )
        update["notes"] = [note]
    return update
