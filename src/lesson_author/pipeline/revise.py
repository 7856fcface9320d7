"""The revise node: fix what the last review's findings name, one section at a time.

:func:`revision_targets` maps each finding to what it is about, keyed on the finding's
``rule`` (the deterministic rule that raised it; None for the LLM reviewer's findings):
an outline section (by the ``Section N`` in its location, a planned section it says is
missing, the section best matching a missing modality or an untaught concept), one
notebook cell (``notebook-runs`` / ``notebook-syntax`` / ``notebook-exercise`` at
``Notebook cell N``: the cell's setup code or exercise goes back to the notebook writer
with the error output, and only it is regenerated), the whole notebook, or the frame
(objective, scope, summary, references, next step).  Each named section gets one
``revise_section`` call with its current full text and its findings' issues and fixes.
Sections no finding names are kept as they are.  The revision starts from the files on
disk, so an author's hand edits are kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lesson_author.checks.review_checks import (
    EM_DASHES,
    EXERCISE_COUNT,
    EXERCISE_SCAFFOLDING,
    LESSON_MISSING,
    MODALITY_MISSING,
    NOTEBOOK_INVALID,
    NOTEBOOK_MISSING,
    align_sections,
    match_section,
    missing_modality,
    modality_blocks,
    modality_kind,
    modality_name,
)
from lesson_author.course.models import Finding, LessonPlan, Modality, OutlineSection
from lesson_author.lesson.lesson_doc import (
    FRAME_ROLES,
    BuiltExercise,
    BuiltLesson,
    BuiltSection,
    PracticeNotebook,
    section_role,
)
from lesson_author.lesson.mdx import render_mdx, visible_text
from lesson_author.lesson.notebook import NotebookInvalid, parse_notebook
from lesson_author.lesson.schemas import (
    ExerciseDraft,
    SectionDraft,
    SetupDraft,
    planned_modality_block,
    to_exercise,
    to_section,
)

from .concurrency import map_in_order
from .context import RunContext
from .lesson_files import (
    current_plan,
    lesson_on_disk,
    lesson_paths,
    lesson_title,
    write_lesson_files,
)
from .lesson_writer import build_frame, build_notebook, frame_section, with_plan_blocks
from .state import LessonState

REVISE_SECTION = "revise_section"
REVISE_FRAME = "revise_frame"
REVISE_NOTEBOOK = "revise_notebook"

_FRAME_WORDS = re.compile(
    r"\b(header|objective|scope|constraint|summary|takeaway|references?|next step)\b", re.IGNORECASE
)


# rules whose finding is about one notebook cell (location "Notebook cell N")
CELL_RULES = frozenset({"notebook-runs", "notebook-syntax", "notebook-exercise"})
# rules whose finding needs the whole notebook written again
NOTEBOOK_RULES = frozenset(
    {"notebook-missing", "notebook-invalid", "exercise-count", "exercise-scaffolding"}
)
# rules that name a planned section in their title ("Planned section missing: 4. ...")
PLANNED_SECTION_RULES = frozenset({"section-missing", "check-missing"})
# rules a revision of the lesson cannot act on
NOT_REVISABLE = frozenset({"notebook-not-run"})
_CELL = re.compile(r"\bnotebook\s+cell\s+(\d+)\b", re.IGNORECASE)

# findings read from documents written before findings carried rule ids: the rule their
# title names (the titles review_checks used then)
_LEGACY_TITLES = {
    NOTEBOOK_MISSING: "notebook-missing",
    NOTEBOOK_INVALID: "notebook-invalid",
    LESSON_MISSING: "lesson-missing",
    EXERCISE_COUNT: "exercise-count",
    EXERCISE_SCAFFOLDING: "exercise-scaffolding",
    EM_DASHES: "em-dashes",
}
_LEGACY_PREFIXES = {
    "Planned section missing:": "section-missing",
    "Planned check missing:": "check-missing",
    MODALITY_MISSING: "modality-missing",
    "Untaught concept used without a resolution:": "untaught-concept",
}


def finding_rule(finding: Finding) -> str | None:
    """The rule id of a deterministic finding (None: the LLM reviewer's). A finding without a
    ``rule`` (one read back from a document written before rule ids) gets the rule its
    title names."""
    if finding.rule:
        return finding.rule
    title = finding.title.strip()
    if title in _LEGACY_TITLES:
        return _LEGACY_TITLES[title]
    return next((r for p, r in _LEGACY_PREFIXES.items() if title.startswith(p)), None)


def notebook_cell(location: str) -> int | None:
    """N of a ``Notebook cell N`` location."""
    m = _CELL.search(location)
    return int(m.group(1)) if m else None


@dataclass
class Targets:
    sections: dict[int, list[Finding]] = field(default_factory=dict)
    notebook: list[Finding] = field(default_factory=list)
    cells: dict[int, list[Finding]] = field(default_factory=dict)
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
    """Long words only, unstemmed: where a finding goes is decided by a word it shares with a
    section, and text.words.content_words would let a number or a stem place it ("Symbolic_1"
    shares "1" with the hook; tests/pipeline/test_lesson_graph.py)."""
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
        rule = finding_rule(f)
        cell = notebook_cell(f.location)
        if cell is not None and (rule is None or rule in CELL_RULES):
            targets.cells.setdefault(cell, []).append(f)
            continue
        if rule in NOTEBOOK_RULES or rule in CELL_RULES:
            targets.notebook.append(f)
            continue
        if rule in NOT_REVISABLE:
            targets.unplaced.append(f)
            continue
        named = [
            int(n)
            for n in re.findall(r"\bsection\s+(\d+)", f.location, re.IGNORECASE)
            if int(n) in numbers
        ]
        if rule in PLANNED_SECTION_RULES:
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
        name = missing_modality(f) if rule == "modality-missing" else None
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
        if rule == "untaught-concept" and ":" in f.title:
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


# ---------------------------------------------------------------- one notebook cell


def cell_owner(notebook_text: str | None, cell: int) -> str | int | None:
    """What notebook cell ``cell`` (1-based, file order) belongs to: ``"setup"``, an exercise
    number, or None (a cell of neither, or no readable notebook)."""
    if not notebook_text:
        return None
    try:
        cells = parse_notebook(notebook_text).cells
    except NotebookInvalid:
        return None
    if not 1 <= cell <= len(cells):
        return None
    meta = cells[cell - 1].get("metadata", {})
    for key in ("exercise", "solution"):
        if isinstance(meta.get(key), int):
            return int(meta[key])
    from lesson_author.lesson.notebook import _match_exercise

    exercise = 0
    for k, c in enumerate(cells[:cell], start=1):
        source = c.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if c.cell_type == "markdown" and _match_exercise(source) is not None:
            exercise += 1
        if k == cell:
            if exercise:
                return exercise
            first_code = next(
                (i for i, x in enumerate(cells, start=1) if x.cell_type == "code"), None
            )
            return "setup" if c.cell_type == "code" and k == first_code else None
    return None


def _exercise_code(exercise: BuiltExercise) -> str:
    parts = []
    if exercise.starter_code.strip():
        parts.append(f"# starter code\n{exercise.starter_code.strip()}")
    if exercise.solution_code.strip():
        parts.append(f"# solution\n{exercise.solution_code.strip()}")
    return "\n\n".join(parts)


def revise_notebook_cells(
    run: RunContext,
    plan: LessonPlan,
    notebook: PracticeNotebook,
    owners: dict[str | int, list[Finding]],
) -> PracticeNotebook:
    """The notebook with only the named parts written again: the setup cell and/or the named
    exercises, each by the notebook writer with its current code and the findings (their
    issue carries the error output). Every other exercise stays as it is."""
    planned = plan.exercises()
    common = {
        "lesson": {"title": notebook.title, "slug": plan.slug or run.location.slug},
        "target_concept": plan.target_concept,
        "exercises": planned,
        "total": max(len(planned), len(notebook.exercises)),
    }
    setup_code = notebook.setup_code
    if "setup" in owners:
        reply = run.complete(
            run.messages(
                "notebook.md.j2",
                exercise=None,
                number=0,
                feedback=owners["setup"],
                current=notebook.setup_code,
                **common,
            ),
            SetupDraft,
            phase=REVISE_NOTEBOOK,
        )
        setup_code = reply.setup_code
    numbers = sorted(n for n in owners if isinstance(n, int) and 1 <= n <= len(notebook.exercises))

    def rewrite(number: int) -> BuiltExercise:
        built = notebook.exercises[number - 1]
        exercise = planned[number - 1] if number <= len(planned) else built
        draft = run.complete(
            run.messages(
                "notebook.md.j2",
                exercise=exercise,
                number=number,
                feedback=owners[number],
                current=_exercise_code(built),
                **common,
            ),
            ExerciseDraft,
            phase=REVISE_NOTEBOOK,
        )
        return to_exercise(draft, level=built.level, title=built.title, task=built.task)

    rewritten = dict(
        zip(numbers, map_in_order(rewrite, numbers, workers=run.max_concurrency), strict=True)
    )
    exercises = [rewritten.get(k, e) for k, e in enumerate(notebook.exercises, start=1)]
    return notebook.model_copy(update={"setup_code": setup_code, "exercises": exercises})


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
    run: RunContext,
    plan: LessonPlan,
    lesson: BuiltLesson,
    findings: Sequence[Finding],
    *,
    notebook_text: str | None = None,
) -> tuple[BuiltLesson, list[str]]:
    """The revised lesson and what was revised (``["section 4", "notebook"]``).
    ``notebook_text``: the notebook file as it is, to tell which exercise a cell belongs to."""
    targets = revision_targets(findings, plan, lesson)
    owners: dict[str | int, list[Finding]] = {}
    for cell, about in targets.cells.items():
        owner = cell_owner(notebook_text, cell) if lesson.notebook is not None else None
        if owner is None:  # a cell of no exercise (or no notebook): the notebook is rewritten
            targets.notebook += about
        else:
            owners.setdefault(owner, []).extend(about)
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
    elif owners and updated.notebook is not None:
        notebook = revise_notebook_cells(run, plan, updated.notebook, owners)
        notebook = notebook.model_copy(update={"takeaways": updated.summary})
        updated = updated.model_copy(update={"notebook": notebook})
        done += [
            "notebook setup cell" if o == "setup" else f"notebook exercise {o}" for o in owners
        ]
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
    nb_path = lesson_paths(run)[1]
    try:
        notebook_text = nb_path.read_text(encoding="utf-8") if nb_path.is_file() else None
    except (OSError, UnicodeDecodeError):
        notebook_text = None
    revised, done = revise_lesson(run, plan, lesson, findings, notebook_text=notebook_text)
    written = write_lesson_files(run, revised, overwrite_edits=True)
    return {
        "build": revised.model_dump(mode="json"),
        "status": "revised",
        "written": [run.relative(p) for p in written],
        "_progress": f"after iteration {state.iteration}: {', '.join(done) or 'nothing to revise'}",
    }
