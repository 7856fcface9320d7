"""analyze: target concept, prerequisite audit, gaps, misconceptions, examples.

The model states the target concept and the prerequisites with the depth the
lesson requires. The audit is computed: each prerequisite is matched against
the student state (:func:`match_known`), its actual depth and source come from
that record row (``NOT TAUGHT`` when none matches), and its status is ``OK``
when actual >= required, else ``GAP``. Each GAP then gets a size and a
resolution from the model; misconceptions and examples come from their own
small calls, so no single reply has to be long.

When plan_checks sends the plan back, only the parts whose checks failed are
asked again (a new prerequisite list also re-plans the gaps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import (
    Depth,
    ExamplePlanned,
    GapResolution,
    Misconception,
    Prerequisite,
)

from . import schemas
from .orient import concept_name, lesson_numbers, source_text, tokens
from .state import AnalysisOutcome, LessonState

if TYPE_CHECKING:
    from lesson_author.course.knowledge import KnownConcept, StudentState

    from .context import RunContext

GAP_BATCH = 3
# a record row matches a prerequisite when it covers this share of the prerequisite's name words
MIN_NAME_COVERAGE = 0.5
MIN_TOTAL_COVERAGE = 0.5
# rows within this share of the best match count as the same concept (the deepest wins)
NEAR_BEST = 0.9

TASKS = ("prerequisites", "gaps", "misconceptions", "examples")


# ---------------------------------------------------------------- the audit (pure)


@dataclass
class Match:
    concept: KnownConcept
    coverage: float


def _weights(student: StudentState) -> dict[str, float]:
    df: dict[str, int] = {}
    for c in student.concepts:
        for t in set(tokens(c.concept)):
            df[t] = df.get(t, 0) + 1
    n = max(1, len(student.concepts))
    return {t: math.log((n + 1) / (k + 0.5)) for t, k in df.items()}


def match_known(
    name: str, student: StudentState, weights: dict[str, float] | None = None
) -> Match | None:
    """The student-state row that is the concept `name` names, or None (NOT TAUGHT).

    * Anchor: the rarest of the name's words that the records use at all must
      appear in the row (its concept or notes); a name none of whose words the
      records use (``DMD``) matches nothing.
    * Coverage: the row must hold at least half of the name's words, rare words
      counting more (words only in the row's notes count half).
    * Among rows nearly as good as the best, and rows whose own name holds every
      word of the prerequisite's name, the deepest wins: the student has a
      concept at the highest depth any lesson took it to.
    """
    weights = weights if weights is not None else _weights(student)
    default = max(weights.values(), default=1.0)
    head = set(tokens(concept_name(name)))
    detail = set(tokens(name)) - head
    if not head:
        head, detail = detail, set()
    seen = [t for t in head if t in weights]
    if not seen:
        return None
    anchor = max(seen, key=lambda t: weights[t])

    def w(t: str) -> float:
        return weights.get(t, default)

    head_total = sum(w(t) for t in head)
    detail_total = sum(w(t) for t in detail)
    scored: list[tuple[float, bool, KnownConcept]] = []
    for c in student.concepts:
        row_words = set(tokens(c.concept))
        note_words = set(tokens(c.notes)) - row_words
        if anchor not in row_words and anchor not in note_words:
            continue
        row_head = set(tokens(concept_name(c.concept)))
        head_cover = (
            sum(w(t) for t in head & row_words) + 0.5 * sum(w(t) for t in head & note_words)
        ) / head_total
        if head_cover < MIN_NAME_COVERAGE:
            continue
        detail_cover = (
            sum(w(t) for t in detail & row_words) / detail_total if detail_total else head_cover
        )
        total = 0.75 * head_cover + 0.25 * detail_cover
        if total < MIN_TOTAL_COVERAGE:
            continue
        row_head_total = sum(w(t) for t in row_head) or 1.0
        tightness = sum(w(t) for t in row_head & (head | detail)) / row_head_total
        scored.append((total + 0.2 * tightness, head <= row_head, c))
    if not scored:
        return None
    best = max(score for score, _, _ in scored)
    same = [(score, c) for score, named, c in scored if score >= NEAR_BEST * best or named]
    score, chosen = max(same, key=lambda sc: (sc[1].depth, sc[0]))
    return Match(chosen, score)


def audit_prerequisite(
    name: str,
    required: Depth,
    reasoning: str,
    student: StudentState,
    numbers: dict[str, str],
    weights: dict[str, float] | None = None,
) -> Prerequisite:
    """One row of the prerequisites table: actual depth, source and status from the records."""
    match = match_known(name, student, weights)
    actual = match.concept.depth if match else Depth.NOT_TAUGHT
    status = "OK" if actual >= required else "GAP"
    return Prerequisite(
        concept=" ".join(name.split()),
        required=required,
        required_raw=str(required),
        actual=actual,
        actual_raw=str(actual),
        source=source_text(match.concept.lesson, numbers) if match else "--",
        status=status,
        reasoning=" ".join(reasoning.split()),
    )


def audit(
    claims: Sequence[tuple[str, Depth, str]], student: StudentState, numbers: dict[str, str]
) -> list[Prerequisite]:
    """The prerequisites table for (concept, required depth, reasoning) claims; repeats dropped."""
    weights = _weights(student)
    rows: list[Prerequisite] = []
    seen: set[str] = set()
    for name, required, reasoning in claims:
        key = " ".join(tokens(name))
        if not key or key in seen:
            continue
        seen.add(key)
        rows.append(audit_prerequisite(name, required, reasoning, student, numbers, weights))
    return rows


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
        "relevant": _relevant(state),
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
        listed = _relevant(state)
        reply = run.complete(
            run.messages("analyze.md.j2", **_context(state, "prerequisites")),
            schemas.analyze_schema(len(listed)),
            phase=schemas.ANALYZE,
        )
        outcome.target_concept = " ".join(reply.target_concept.split())
        outcome.prerequisites = audit(claims(reply, listed), run.student_state, numbers)

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
    return {
        "analysis": outcome,
        "_progress": f"{len(outcome.prerequisites)} prerequisites, {gaps} gap(s)",
    }
