"""plan_checks: the planning document's checklists, computed from the plan. No LLM.

Each item of the seed's two checklists ("Prerequisite Audit", "Pedagogical
Design") is a function of the plan and the student state, and names the node
(and the part of its work) that owns it. A failed item sends the plan back to
its owner once, with the failure as feedback; the owner then returns straight
here. An item that still fails stays unchecked in the document, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lesson_author.course.models import Checklist, ChecklistItem, Depth, LessonPlan
from lesson_author.text.words import concept_name, overlap
from lesson_author.text.words import word_set as _words

from .plan_document import assemble_plan
from .state import LessonState, PlanCheck

if TYPE_CHECKING:
    from lesson_author.course.knowledge import StudentState

    from .context import RunContext

PREREQUISITE_AUDIT = "Prerequisite Audit"
PEDAGOGICAL_DESIGN = "Pedagogical Design"
OWNERS = ("orient", "analyze", "design")
MAX_REROUTES = 1
MIN_NARRATIVE_WORDS = 40
MIN_RESOLUTION_WORDS = 6
# two items whose words overlap this much are the same item said twice
SAME_ITEM = 0.8
LEVELS = ("Guided", "Supported", "Independent")


def _same(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return a.strip().lower() == b.strip().lower()
    return overlap(wa, wb) >= SAME_ITEM


def distinct(items: Sequence[str]) -> list[str]:
    """`items` without near-repeats (a small model often says one thing three times)."""
    kept: list[str] = []
    for item in items:
        if item.strip() and not any(_same(item, k) for k in kept):
            kept.append(item)
    return kept


def _sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if len(s.split()) >= 3])


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


class _Collector:
    def __init__(self) -> None:
        self.items: list[PlanCheck] = []

    def add(
        self, checklist: str, text: str, passed: bool, detail: str, owner: str, task: str
    ) -> None:
        self.items.append(
            PlanCheck(
                checklist=checklist, text=text, passed=passed, detail=detail, owner=owner, task=task
            )
        )


def compute_checks(
    plan: LessonPlan,
    student: StudentState | None,
    *,
    new_concepts: Sequence[str] = (),
    record_lessons: Sequence[str] = (),
) -> list[PlanCheck]:
    """Every checklist item for `plan`, passed or not, with the reason."""
    out = _Collector()
    audit = PREREQUISITE_AUDIT
    prereqs = plan.prerequisites

    # -- Prerequisite Audit
    missing_depth = [p.concept for p in prereqs if p.required is None]
    out.add(
        audit,
        "Every assumed concept listed with required depth",
        bool(prereqs) and not missing_depth,
        f"{_plural(len(prereqs), 'prerequisite')}"
        + (f"; no required depth for: {', '.join(missing_depth)}" if missing_depth else "")
        if prereqs
        else "no prerequisites listed: name the concepts this lesson assumes, each with a required depth",
        "analyze",
        "prerequisites",
    )

    known_lessons = set(record_lessons)
    untraced = [
        r.concept
        for r in plan.relevant_concepts
        if r.depth is not Depth.NOT_TAUGHT
        and known_lessons
        and _source_lesson(r.source) not in known_lessons
    ]
    untraced += [
        p.concept
        for p in prereqs
        if p.actual is not Depth.NOT_TAUGHT
        and known_lessons
        and _source_lesson(p.source) not in known_lessons
    ]
    traced_rows = [r for r in plan.relevant_concepts if r.depth is not Depth.NOT_TAUGHT]
    if not traced_rows:
        detail = "no relevant concept picked from the records: pick candidate rows by their [id]"
    elif untraced:
        detail = f"not found in the records: {', '.join(untraced)}"
    else:
        detail = f"{_plural(len(traced_rows), 'concept')} and every prerequisite depth read from the module records"
    out.add(
        audit,
        "Each traced via the records (not the curriculum plan)",
        bool(traced_rows) and not untraced,
        detail,
        "orient",
        "orient",
    )

    mismatched = [
        p.concept
        for p in prereqs
        if p.required is not None
        and p.actual is not None
        and p.status != ("OK" if p.actual >= p.required else "GAP")
    ]
    out.add(
        audit,
        "Depth match verified for each",
        bool(prereqs) and not mismatched,
        (
            f"status disagrees with depths for: {', '.join(mismatched)}"
            if mismatched
            else "actual depth >= required depth -> OK, else GAP"
        )
        if prereqs
        else "no prerequisites to verify",
        "analyze",
        "prerequisites",
    )

    gaps = [p for p in prereqs if p.status == "GAP"]
    resolutions = {g.gap.rsplit(" at ", 1)[0].strip().lower(): g for g in plan.gaps}
    unresolved = [p for p in gaps if _resolution(resolutions, p.concept) is None]
    gap_names = "; ".join(
        f"{p.concept} at {p.actual_raw or p.actual}, need {p.required_raw or p.required}"
        for p in gaps
    )
    if not gaps:
        detail = "no gaps: every prerequisite is at the required depth"
    elif unresolved:
        detail = f"no resolution for: {', '.join(p.concept for p in unresolved)}"
    else:
        detail = (
            f"{_plural(len(gaps), 'gap')}: {gap_names}; each resolved in the Gap Resolution table"
        )
    out.add(audit, "No untaught concepts remain", not unresolved, detail, "analyze", "gaps")

    exercises = plan.exercises()
    levels = [e.level for e in exercises]
    ranks = [LEVELS.index(level) for level in levels if level in LEVELS]
    ordered = bool(ranks) and ranks == sorted(ranks) and set(ranks) == {0, 1, 2}
    distinct_ex = distinct([f"{e.title} {e.task}" for e in exercises])
    jump_ok = ordered and len(distinct_ex) == len(exercises)
    if not exercises:
        detail = "no exercises in the outline's Practice section"
    elif not ordered:
        detail = (
            f"exercises go {' -> '.join(levels)}; they must go Guided -> Supported -> Independent"
        )
    elif len(distinct_ex) != len(exercises):
        detail = "two exercises ask the same thing"
    else:
        detail = f"{_plural(len(exercises), 'exercise')}: {' -> '.join(levels)}, one step of scaffolding at a time"
    out.add(
        audit, "No multi-concept jumps in widgets/exercises", jump_ok, detail, "design", "practice"
    )

    weak = [p.concept for p in unresolved] + [
        g.gap for g in plan.gaps if len(g.resolution.split()) < MIN_RESOLUTION_WORDS
    ]
    if not gaps:
        detail = "no gaps to resolve"
    elif weak:
        detail = f"no explicit resolution plan for: {', '.join(weak)}"
    else:
        detail = "; ".join(f"{g.gap}: {g.size.split(' (')[0]}" for g in plan.gaps)
    out.add(audit, "All gaps have explicit resolution plans", not weak, detail, "analyze", "gaps")

    # -- Pedagogical Design
    design = PEDAGOGICAL_DESIGN
    narrative = plan.narrative_arc.strip()
    words = len(narrative.split())
    ok = words >= MIN_NARRATIVE_WORDS and _sentences(narrative) >= 2
    out.add(
        design,
        "Narrative motivation stated as a coherent paragraph",
        ok,
        f"{words} words"
        if ok
        else f"the narrative arc has {words} words; it needs a paragraph of at least {MIN_NARRATIVE_WORDS} words in several sentences",
        "design",
        "design",
    )

    kinds = distinct([m.modality.strip("* ") for m in plan.modalities])
    with_reason = [
        m for m in plan.modalities if len(m.why.split()) >= 3 and len(m.what.split()) >= 3
    ]
    ok = len(kinds) >= 3 and len(with_reason) >= 3
    out.add(
        design,
        "At least 3 modalities planned for the core concept, each with rationale",
        ok,
        f"{_plural(len(kinds), 'modality')}: {', '.join(kinds)}"
        if ok
        else f"{_plural(len(kinds), 'distinct modality')}, {len(with_reason)} with what and why; plan at least 3 different ones",
        "design",
        "design",
    )

    positive = [e for e in plan.examples if e.type.lower().startswith("positive")]
    negative = [e for e in plan.examples if e.type.lower().startswith("negative")]
    pos_distinct = distinct([e.example for e in positive])
    purposeful = all(len(e.purpose.split()) >= 3 for e in plan.examples)
    ok = len(pos_distinct) >= 2 and len(negative) >= 1 and purposeful
    out.add(
        design,
        "At least 2 positive examples + 1 negative example, each with stated purpose",
        ok,
        f"{len(pos_distinct)} positive + {len(negative)} negative"
        + ("" if purposeful else "; an example has no stated purpose")
        + ("" if len(pos_distinct) == len(positive) else "; two positive examples are the same"),
        "analyze",
        "examples",
    )

    mis = distinct([m.misconception for m in plan.misconceptions])
    with_negative = [m for m in plan.misconceptions if len(m.negative_example.split()) >= 4]
    ok = len(mis) >= 3 and len(with_negative) >= 3
    out.add(
        design,
        "At least 3 misconceptions identified with negative examples",
        ok,
        _plural(len(mis), "misconception")
        + (
            ""
            if len(mis) == len(plan.misconceptions)
            else f"; {len(plan.misconceptions) - len(mis)} more only repeat one of these"
        )
        + (
            ""
            if len(with_negative) >= len(mis)
            else f", {len(with_negative)} with a negative example"
        ),
        "analyze",
        "misconceptions",
    )

    new = distinct(list(new_concepts))
    ok = 1 <= len(new) <= 3
    out.add(
        design,
        "Cognitive load <= 3 new concepts",
        ok,
        f"{_plural(len(new), 'new concept')}: {', '.join(new)}" if new else "no new concept named",
        "design",
        "design",
    )

    unconnected = []
    for name in new:
        targets = [
            c.connects_to
            for c in plan.connections
            if _same(c.new_concept, name) or c.new_concept == name
        ]
        if not any(_is_known(t, student, plan) for t in targets):
            unconnected.append(name)
    ok = bool(new) and not unconnected
    out.add(
        design,
        "Every new concept connected to at least one existing concept",
        ok,
        "; ".join(f"{c.new_concept} to {c.connects_to}" for c in plan.connections)
        if ok
        else f"not connected to a concept the records show: {', '.join(unconnected) or 'no new concepts'}",
        "design",
        "design",
    )

    scope = plan.scope
    ok = "**This lesson IS about:**" in scope and "**This lesson is NOT about:**" in scope
    ok = ok and _list_after(scope, "IS about") and _list_after(scope, "NOT about")
    out.add(
        design,
        "Scope boundaries explicitly stated",
        ok,
        "in scope, out of scope and depth targets listed"
        if ok
        else "state what the lesson IS and is NOT about",
        "design",
        "scope",
    )
    return out.items


def _source_lesson(source: str) -> str:
    return source.split(" (")[0].strip()


def _resolution(resolutions: dict[str, Any], concept: str) -> Any:
    """The gap row that resolves `concept`: same name, or the same name before its parenthesis."""
    wanted = concept.strip().lower()
    if wanted in resolutions:
        return resolutions[wanted]
    head = _words(concept_name(concept))
    for key, row in resolutions.items():
        other = _words(concept_name(key))
        if head and other and len(head & other) / min(len(head), len(other)) >= 0.5:
            return row
    return None


def _is_known(text: str, student: StudentState | None, plan: LessonPlan) -> bool:
    """Does `text` ("MMDiT from 7.4.3 + LoRA") name a concept the student has?

    Each part must carry its rarest word into the name of a record row (or of a
    relevant-concept / OK prerequisite row of the plan); words like "the
    student" name nothing.
    """
    names = [r.concept for r in plan.relevant_concepts if r.depth is not Depth.NOT_TAUGHT]
    names += [p.concept for p in plan.prerequisites if p.status == "OK"]
    if student is not None:
        names += [c.concept for c in student.concepts]
    row_words = [_words(n) for n in names]
    frequency: dict[str, int] = {}
    for words in row_words:
        for word in words:
            frequency[word] = frequency.get(word, 0) + 1
    for part in re.split(r"\s*(?:\+|,|;|\band\b|\bwith\b)\s*", text):
        known_words = [w for w in _words(part) if w in frequency]
        if not known_words:
            continue
        rarest = min(known_words, key=lambda w: frequency[w])
        if frequency[rarest] <= max(3, len(names) // 10):
            return True
    return False


def _list_after(text: str, label: str) -> bool:
    after = text.split(label, 1)[1] if label in text else ""
    block = after.split("\n\n", 1)[0]
    return any(
        line.strip().startswith("- ") and len(line.split()) > 1 for line in block.splitlines()
    )


def checklists(checks: Sequence[PlanCheck]) -> list[Checklist]:
    """The document's Checklists section: one item per check, the reason in parentheses."""
    lists: dict[str, Checklist] = {}
    for c in checks:
        target = lists.setdefault(c.checklist, Checklist(title=c.checklist))
        text = f"{c.text} ({c.detail})" if c.detail else c.text
        target.items.append(ChecklistItem(checked=c.passed, text=text))
    return list(lists.values())


def next_owner(checks: Sequence[PlanCheck], reroutes: dict[str, int]) -> str | None:
    """The earliest node owning a failed check that has not been sent the plan back yet."""
    failing = {c.owner for c in checks if not c.passed}
    for owner in OWNERS:
        if owner in failing and reroutes.get(owner, 0) < MAX_REROUTES:
            return owner
    return None


def plan_checks_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    """Compute the checklists; send the plan back to a failing check's owner once."""
    plan = assemble_plan(state, run)
    student = run.student_state
    checks = compute_checks(
        plan,
        student,
        new_concepts=state.design.new_concepts if state.design else [],
        record_lessons=student.lessons,
    )
    plan.checklists = checklists(checks)
    owner = next_owner(checks, state.reroutes)
    failed = [c for c in checks if not c.passed]
    update: dict[str, Any] = {"plan": plan, "plan_checks": checks, "reroute_to": owner}
    if owner is not None:
        reroutes = dict(state.reroutes)
        reroutes[owner] = reroutes.get(owner, 0) + 1
        feedback = dict(state.feedback)
        feedback[owner] = [f"{c.text}: {c.detail}" for c in failed if c.owner == owner]
        update.update(reroutes=reroutes, feedback=feedback)
        update["_progress"] = f"{len(failed)} failed; back to {owner}"
    else:
        update["_progress"] = f"{len(checks) - len(failed)}/{len(checks)} items checked" + (
            f"; unchecked: {', '.join(c.text for c in failed)}" if failed else ""
        )
        if failed:
            update["notes"] = [f"unchecked after one retry: {c.text} ({c.detail})" for c in failed]
    return update
