"""The record node: put the lesson into its module record, then regenerate what is derived.

The concept rows come from the plan, not from the model: the scope's depth
targets (``- S3-DiT single-stream design: INTRODUCED (...)``), plus each
prerequisite the plan resolved as a gap (taught here to its required depth).
The model (``record``) only writes notes: a note per concept, the mental models
and the analogies.  Everything else in the per-lesson summary is computed:
status, cognitive load, notebook, the review line and review notes (from the
planning document's reviews, in the form ``author records`` keeps), how each
section taught (its blocks), the misconceptions and what is not covered.

The lesson is upserted (re-running replaces its rows, never duplicates them;
other lessons' rows are untouched), then ``records.regenerate`` brings the
status lines up the tree up to date ("4 of 4 lessons built").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lesson_author.course.models import (
    ConceptRow,
    Depth,
    LessonPlan,
    LessonSummary,
    ModuleRecord,
    Review,
    SummaryPart,
    Verdict,
)
from lesson_author.course.records import (
    regenerate,
    review_facts,
    review_line,
    review_note_bullet,
    upsert_lesson,
)
from lesson_author.course.tree import write_atomic
from lesson_author.lesson.lesson_doc import (
    Aside,
    BuiltLesson,
    CodeBlock,
    ComparisonRow,
    GradientCard,
    notebook_filename,
)
from lesson_author.lesson.schemas import RecordDraft, tidy
from lesson_author.text.degenerate import NO_ANSWER, degenerate
from lesson_author.text.words import content_words

from .context import RunContext
from .lesson_files import current_plan, lesson_on_disk, lesson_title, section_digests
from .state import LessonState

RECORD = "record"
_DEPTHS = "MENTIONED|INTRODUCED|DEVELOPED|APPLIED"
_DEPTH_TARGET = re.compile(
    rf"^\s*[-*]\s+(?P<name>.+?)\s*(?::|--|—|-)\s*\**(?P<depth>{_DEPTHS})\**\b[ \t]*(?:\((?P<why>.*)\))?",
    re.MULTILINE,
)


@dataclass
class PlannedConcept:
    concept: str
    depth: Depth
    notes: str


def _clean(text: str) -> str:
    return re.sub(r"[*`]", "", text).strip(" :")


def depth_targets(plan: LessonPlan) -> list[PlannedConcept]:
    """The scope's ``**Depth targets:**`` list (or any ``- name: DEPTH (why)`` lines in it)."""
    scope = plan.scope
    marker = re.search(r"depth targets", scope, re.IGNORECASE)
    text = scope[marker.end() :] if marker else scope
    found = []
    for m in _DEPTH_TARGET.finditer(text):
        found.append(
            PlannedConcept(
                _clean(m.group("name")), Depth(m.group("depth")), (m.group("why") or "").strip()
            )
        )
    return found


def _key(text: str) -> set[str]:
    return content_words(text.split("(", 1)[0])


def _same_concept(a: str, b: str) -> bool:
    ka, kb = _key(a), _key(b)
    return bool(ka) and (ka == kb or len(ka & kb) / max(len(ka), len(kb)) >= 0.75)


def planned_concepts(plan: LessonPlan) -> list[PlannedConcept]:
    """Depth targets, then gap-filled prerequisites not already among them."""
    found = depth_targets(plan)
    for p in plan.prerequisites:
        if p.status.strip().upper() != "GAP" or p.required is None:
            continue
        resolution = next((g.resolution for g in plan.gaps if _key(p.concept) & _key(g.gap)), "")
        if not resolution:
            continue
        if any(_same_concept(p.concept, c.concept) for c in found):
            continue
        actual = p.actual_raw or (p.actual.value if p.actual else "NOT TAUGHT")
        first = re.split(r"(?<=[.!?])\s", resolution.strip(), maxsplit=1)[0]
        found.append(
            PlannedConcept(p.concept, p.required, f"Gap fill: student had {actual}. {first}")
        )
    return found


def concept_rows(
    slug: str, planned: list[PlannedConcept], draft: RecordDraft | None
) -> list[ConceptRow]:
    notes = {
        n.concept: tidy(n.notes) for n in (draft.concept_notes if draft else []) if n.notes.strip()
    }
    rows = []
    for i, c in enumerate(planned, start=1):
        text = notes.get(i) or c.notes
        rows.append(
            ConceptRow(
                concept=c.concept,
                depth=c.depth,
                depth_raw=c.depth.value,
                lesson=slug,
                notes=usable(" ".join(text.split())),
            )
        )
    return rows


_ITEM = re.compile(r"^(\s*(?:[-*]|\d+\.)\s+)(.*)$")


def usable(text: str) -> str:
    """``text``, or the marker when it is degenerate: the record is what later lessons and
    ``author check`` read, so a loop the model wrote (or that the summary assembled from its
    block titles) goes in as ``(no usable answer)``, never as content."""
    return NO_ANSWER if degenerate(text) is not None else text


def usable_lines(lines: list[str]) -> list[str]:
    """Each summary line checked on its own (a list item is what ``author check`` reads)."""
    out = []
    for line in lines:
        m = _ITEM.match(line)
        prefix, body = (m.group(1), m.group(2)) if m else ("", line)
        out.append(prefix + usable(body) if body.strip() else line)
    return out


# ---------------------------------------------------------------- the summary


def _block_words(lesson: BuiltLesson, number: int | None) -> str:
    section = lesson.section(number) if number is not None else None
    if section is None:
        return ""
    words = []
    for b in section.blocks:
        if isinstance(b, ComparisonRow):
            words.append(f"ComparisonRow: {b.left.title} vs {b.right.title}")
        elif isinstance(b, GradientCard):
            words.append(f'GradientCard "{b.title}"')
        elif isinstance(b, Aside):
            words.append(f'{b.tag} "{b.title}"')
        elif isinstance(b, CodeBlock):
            words.append(f"CodeBlock ({b.language})")
    checks = len(section.checks())
    if checks:
        words.append(f"{checks} predict-and-verify question{'s' if checks != 1 else ''}")
    return "; ".join(words)


def how_taught(lesson: BuiltLesson | None) -> list[str]:
    if lesson is None:
        return []
    lines = []
    for s in lesson.sections:
        blocks = _block_words(lesson, s.number)
        if blocks:
            lines.append(f"- {s.heading}: {blocks}.")
    checks = len(lesson.checks())
    if checks:
        lines.append(f"- Check-your-understanding: {checks} predict-and-verify questions.")
    return lines


def _misconceptions(plan: LessonPlan, lesson: BuiltLesson | None) -> list[str]:
    warnings = [b for b in (lesson.blocks() if lesson else []) if isinstance(b, Aside)]
    lines = []
    for i, m in enumerate(plan.misconceptions, start=1):
        claim = m.misconception.strip().strip('"')
        first = re.split(r"(?<=[.!?])\s", m.negative_example.strip(), maxsplit=1)[0]
        words = _key(claim)
        carried = next(
            (
                w
                for w in warnings
                if len(words & _key(w.title + " " + w.body)) >= max(1, len(words) // 3)
            ),
            None,
        )
        tail = f" {carried.tag}." if carried else ""
        lines.append(f'{i}. "{claim}"--{first}{tail}')
    return lines


def _not_covered(plan: LessonPlan) -> list[str]:
    m = re.search(
        r"is NOT about:?\**\s*\n(.*?)(?:\n\s*\n\**\w|\Z)", plan.scope, re.DOTALL | re.IGNORECASE
    )
    if not m:
        return []
    return [line.strip() for line in m.group(1).splitlines() if re.match(r"^\s*[-*]\s", line)]


def lesson_status(reviews: list[Review]) -> str:
    last = reviews[-1] if reviews else None
    if last is None:
        return "Built, not reviewed"
    if last.verdict is Verdict.PASS:
        return "Complete"
    verdict = last.verdict.value if last.verdict else "not PASS"
    return f"Built, review open ({verdict} on iteration {last.iteration}/{last.of})"


def lesson_summary(
    run: RunContext,
    plan: LessonPlan,
    lesson: BuiltLesson | None,
    rows: list[ConceptRow],
    draft: RecordDraft | None,
) -> LessonSummary:
    facts = review_facts(plan)
    load = plan.cognitive_load.split()[0].strip("*") if plan.cognitive_load.strip() else ""
    notebook = run.location.build_dir / notebook_filename(run.location.slug)
    parts: list[tuple[str, list[str]]] = [
        (
            "Concepts taught",
            [f"- {r.concept} ({r.depth_raw})" + (f"--{r.notes}" if r.notes else "") for r in rows],
        ),
        (
            "Mental models established",
            [f"- {tidy(m)}" for m in (draft.mental_models if draft else []) if m.strip()],
        ),
        (
            "Analogies used",
            [f"- {tidy(a)}" for a in (draft.analogies if draft else []) if a.strip()],
        ),
        ("How concepts were taught", how_taught(lesson)),
        ("Misconceptions addressed", _misconceptions(plan, lesson)),
        ("What is NOT covered", _not_covered(plan)),
        ("Review notes", [review_note_bullet(f) for f in facts]),
    ]
    return LessonSummary(
        slug=run.location.slug,
        number=run.location.position_in_module,
        status=lesson_status(plan.reviews),
        cognitive_load=load,
        notebook=f"`{notebook.relative_to(run.location.module_dir).as_posix()}`"
        if notebook.is_file()
        else "none",
        review=review_line(facts) if facts else "not reviewed",
        parts=[
            # the review notes are the tool's own facts (records --check verifies them)
            SummaryPart(
                label=label,
                text="\n".join(lines if label == "Review notes" else usable_lines(lines)),
            )
            for label, lines in parts
            if lines
        ],
    )


def _empty_record(run: RunContext) -> ModuleRecord:
    module_plan = run.tree.module_plan(run.location.module)
    return ModuleRecord(
        module=run.location.module,
        title=module_plan.title if module_plan else "",
        goal=module_plan.goal if module_plan else "",
    )


def record_lesson(run: RunContext, plan: LessonPlan, lesson: BuiltLesson | None) -> list[Path]:
    """Upsert the lesson into its module record and regenerate the tree; the paths written."""
    from lesson_author.course.render import render_module_record

    planned = planned_concepts(plan)
    draft: RecordDraft | None = None
    if planned:
        messages = run.messages(
            "record.md.j2",
            lesson={"title": lesson_title(plan, run), "slug": run.location.slug},
            target_concept=plan.target_concept,
            concepts=[
                {"concept": c.concept, "depth": c.depth.value, "notes": c.notes} for c in planned
            ],
            sections=section_digests(lesson) if lesson else [],
        )
        draft = run.complete(messages, RecordDraft, phase=RECORD)
    rows = concept_rows(run.location.slug, planned, draft)
    summary = lesson_summary(run, plan, lesson, rows, draft)
    record = run.tree.module_record(run.location.module) or _empty_record(run)
    updated = upsert_lesson(record, run.location.slug, rows, summary)
    path = run.location.record_path
    write_atomic(path, render_module_record(updated))
    written = [path]
    for changed, text in regenerate(run.tree).items():
        write_atomic(changed, text)
        written.append(changed)
    return written


def record_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    plan = current_plan(state, run)
    lesson, _notebook, _error = lesson_on_disk(run)
    written = record_lesson(run, plan, lesson)
    last = state.reviews[-1] if state.reviews else None
    passed = last is not None and last.verdict is Verdict.PASS
    status = "recorded" if passed else "stopped"
    open_ = len(last.findings) if last is not None and not passed else 0
    paths = [run.relative(p) for p in written]
    if passed:
        message = f"recorded in {paths[0]}"
    else:
        message = (
            f"stopped after {state.iteration} iteration(s) with {open_} open finding(s); "
            f"recorded in {paths[0]}"
        )
    return {"status": status, "written": paths, "notes": [message], "_progress": message}
