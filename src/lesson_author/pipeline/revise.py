"""The revise node: fix what the last review's findings name, one section at a time.

:func:`revision_targets` maps each finding to what it is about: an outline
section (by the ``Section N`` in its location, a planned section it says is
missing, the section best matching a missing modality or an untaught
concept), the notebook, or the frame (objective, scope, summary, references,
next step).  Each named section gets one ``revise_section`` call with its
current text and its findings; the notebook and the frame are rebuilt when a
finding names them.  Sections no finding names are kept as they are.  The
revision starts from the files on disk, so an author's hand edits are kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lesson_author.build.lesson_doc import (
    FRAME_ROLES,
    BuiltLesson,
    BuiltSection,
    section_role,
)
from lesson_author.build.mdx import render_mdx, visible_text
from lesson_author.build.schemas import SectionDraft, planned_modality_block, to_section
from lesson_author.checks.review_checks import (
    align_sections,
    match_section,
    missing_modality,
    modality_blocks,
    modality_kind,
    modality_name,
)
from lesson_author.course.models import Finding, LessonPlan, Modality, OutlineSection

from .build import (
    build_frame,
    build_notebook,
    current_plan,
    frame_section,
    lesson_on_disk,
    lesson_title,
    with_plan_blocks,
    write_lesson_files,
)
from .concurrency import map_in_order
from .context import RunContext
from .state import LessonState

REVISE_SECTION = "revise_section"
REVISE_FRAME = "revise_frame"
REVISE_NOTEBOOK = "revise_notebook"

_FRAME_WORDS = re.compile(
    r"\b(header|objective|scope|constraint|summary|takeaway|references?|next step)\b", re.IGNORECASE
)


@dataclass
class Targets:
    sections: dict[int, list[Finding]] = field(default_factory=dict)
    notebook: list[Finding] = field(default_factory=list)
    frame: list[Finding] = field(default_factory=list)
    unplaced: list[Finding] = field(default_factory=list)

    def add(self, number: int, finding: Finding) -> None:
        self.sections.setdefault(number, []).append(finding)


def _planned_modality(plan: LessonPlan, name: str) -> Modality | None:
    return next((m for m in plan.modalities if name in modality_name(m)), None)


def with_missing_modalities(
    plan: LessonPlan, section: BuiltSection, findings: Sequence[Finding]
) -> BuiltSection:
    """``section`` with a block from the plan for each missing modality a finding names that
    the revision still left out (a weak model rewrites the prose and forgets the block)."""
    blocks = list(section.blocks)
    for f in findings:
        name = missing_modality(f)
        if name is None:
            continue
        kind, modality = modality_kind(name), _planned_modality(plan, name)
        if (
            kind is None
            or modality is None
            or any(isinstance(b, modality_blocks(kind)) for b in blocks)
        ):
            continue
        block = planned_modality_block(kind, name, modality.what)
        if block is not None:
            blocks.append(block)
    if len(blocks) == len(section.blocks):
        return section
    return section.model_copy(update={"blocks": blocks})


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3}


def _content_sections(plan: LessonPlan) -> list[OutlineSection]:
    return [
        s
        for s in plan.outline
        if s.number is not None and section_role(s.title) not in FRAME_ROLES | {"practice", "check"}
    ]


def best_section(plan: LessonPlan, text: str) -> OutlineSection | None:
    """The content section whose outline shares the most words with ``text``."""
    want = _words(text)
    best, score = None, 0
    for s in _content_sections(plan):
        shared = len(want & _words(s.title + " " + s.body))
        if shared > score:
            best, score = s, shared
    return best


def revision_targets(findings: Sequence[Finding], plan: LessonPlan, lesson: BuiltLesson) -> Targets:
    targets = Targets()
    numbers = {s.number for s in plan.outline if s.number is not None}
    for f in findings:
        where = f"{f.location} {f.title}"
        named = [
            int(n)
            for n in re.findall(r"\bsection\s+(\d+)", f.location, re.IGNORECASE)
            if int(n) in numbers
        ]
        if f.title.startswith("Planned section missing:") or f.title.startswith(
            "Planned check missing:"
        ):
            m = re.search(r":\s*(\d+)\.", f.title)
            if m and int(m.group(1)) in numbers:
                named = [int(m.group(1))]
        if named:
            for n in dict.fromkeys(named):
                planned = next(s for s in plan.outline if s.number == n)
                if section_role(planned.title) in FRAME_ROLES:
                    targets.frame.append(f)
                else:
                    targets.add(n, f)
            continue
        if re.search(r"notebook|exercise", where, re.IGNORECASE):
            targets.notebook.append(f)
            continue
        name = missing_modality(f)
        if name is not None:
            modality = _planned_modality(plan, name)
            if modality_kind(name) == "interactive":
                targets.notebook.append(f)
                continue
            best = best_section(plan, (modality.what if modality else "") + " " + name)
            if best is None:  # no section talks about it: the first explaining section gets it
                content = _content_sections(plan)
                explain = [s for s in content if re.match(r"\s*explain\b", s.title, re.IGNORECASE)]
                best = next(iter(explain or content), None)
            if best is not None and best.number is not None:
                targets.add(best.number, f)
                continue
        if f.title.startswith("Untaught concept used without a resolution:"):
            term = f.title.split(":", 1)[1].strip()
            using = [
                s
                for s in lesson.sections
                if s.number is not None
                and term.lower()
                in " ".join(t for w, t in visible_text(lesson) if w.startswith(s.label)).lower()
            ]
            if using:
                targets.add(using[0].number, f)  # type: ignore[arg-type]
                continue
        if _FRAME_WORDS.search(f.location):
            targets.frame.append(f)
            continue
        best = best_section(plan, where)
        if (
            best is not None
            and best.number is not None
            and len(_words(where) & _words(best.title)) >= 1
        ):
            targets.add(best.number, f)
        else:
            targets.unplaced.append(f)
    return targets


def _section_text(section: BuiltSection | None, lesson: BuiltLesson) -> str:
    """The section as MDX, for the reviser to read."""
    if section is None:
        return ""
    one = lesson.model_copy(
        update={
            "sections": [section],
            "notebook": None,
            "summary": [],
            "references": [],
            "next_step": "",
            "constraints": [],
        }
    )
    text = render_mdx(one)
    return text[text.index("## ") :] if "## " in text else text


def revise_section(
    run: RunContext,
    plan: LessonPlan,
    lesson: BuiltLesson,
    planned: OutlineSection,
    findings: Sequence[Finding],
) -> BuiltSection:
    current = match_section(planned, lesson, plan.outline)
    messages = run.messages(
        "revise.md.j2",
        lesson={"title": lesson_title(plan, run), "slug": run.location.slug},
        target_concept=plan.target_concept,
        section={"number": planned.number, "title": planned.title, "body": planned.body.strip()},
        current=_section_text(current, lesson),
        findings=list(findings),
    )
    draft = run.complete(messages, SectionDraft, phase=REVISE_SECTION)
    revised = to_section(draft, number=planned.number, outline_title=planned.title)
    return with_missing_modalities(plan, with_plan_blocks(plan, planned, revised), findings)


def _in_outline_order(
    plan: LessonPlan, lesson: BuiltLesson, revised: dict[int, BuiltSection]
) -> list[BuiltSection]:
    """The lesson's sections with the revised ones in place and missing planned ones inserted."""
    out: list[BuiltSection] = []
    matched: set[int] = set()
    for planned, existing in zip(plan.outline, align_sections(plan.outline, lesson), strict=True):
        if existing is not None:
            matched.add(id(existing))
        if planned.number in revised:
            out.append(revised[planned.number])
        elif existing is not None:
            out.append(
                existing.model_copy(
                    update={"number": planned.number, "outline_title": planned.title}
                )
            )
        elif section_role(planned.title) in FRAME_ROLES:
            out.append(frame_section(planned))
    kept_extra = [  # sections an author added that the outline does not plan
        s
        for s in lesson.sections
        if id(s) not in matched and s.role not in FRAME_ROLES | {"practice"}
    ]
    return out + kept_extra


def revise_lesson(
    run: RunContext, plan: LessonPlan, lesson: BuiltLesson, findings: Sequence[Finding]
) -> tuple[BuiltLesson, list[str]]:
    """The revised lesson and what was revised (``["section 4", "notebook"]``)."""
    targets = revision_targets(findings, plan, lesson)
    numbers = sorted(targets.sections)

    def revise_one(number: int) -> BuiltSection:
        planned = next(s for s in plan.outline if s.number == number)
        return revise_section(run, plan, lesson, planned, targets.sections[number])

    # each call reads the unrevised lesson: the sections are revised independently, several at once
    revised = dict(
        zip(numbers, map_in_order(revise_one, numbers, workers=run.max_concurrency), strict=True)
    )
    sections = _in_outline_order(plan, lesson, revised)
    updated = lesson.model_copy(update={"sections": sections})
    done = [f"section {n}" for n in sorted(revised)]
    if targets.frame:
        frame = build_frame(run, plan, sections, phase=REVISE_FRAME)
        updated = updated.model_copy(update=frame)
        done.append("frame")
    if targets.notebook or lesson.notebook is None:
        notebook = build_notebook(
            run,
            plan,
            title=updated.title,
            takeaways=updated.summary,
            feedback=targets.notebook,
            phase=REVISE_NOTEBOOK,
        )
        updated = updated.model_copy(update={"notebook": notebook})
        done.append("notebook")
    elif updated.notebook is not None:
        updated = updated.model_copy(
            update={"notebook": updated.notebook.model_copy(update={"takeaways": updated.summary})}
        )
    if targets.unplaced:
        done.append(f"{len(targets.unplaced)} finding(s) name no section")
    return updated, done


def revise_node(state: LessonState, run: RunContext) -> dict[str, Any]:
    plan = current_plan(state, run)
    on_disk, notebook, _error = lesson_on_disk(run)
    if on_disk is None:
        on_disk = BuiltLesson.model_validate(state.build) if state.build else None
    if on_disk is None:
        on_disk = BuiltLesson(slug=run.location.slug, title=lesson_title(plan, run))
    lesson = on_disk.model_copy(update={"notebook": notebook})
    findings = state.reviews[-1].findings if state.reviews else []
    revised, done = revise_lesson(run, plan, lesson, findings)
    written = write_lesson_files(run, revised, overwrite_edits=True)
    return {
        "build": revised.model_dump(mode="json"),
        "status": "revised",
        "written": [run.relative(p) for p in written],
        "_progress": f"after iteration {state.iteration}: {', '.join(done) or 'nothing to revise'}",
    }
