"""Deterministic review findings: what a rule can tell about a built lesson, with no LLM.

The structure rules (rule ids in brackets; see :mod:`.registry` for every id):

* the lesson file or the notebook missing or invalid -> CRITICAL (the seed's "Notebook missing")
  [lesson-missing, notebook-missing, notebook-invalid]
* a planned outline section, or a planned check question, missing from the build -> IMPROVEMENT
  [section-missing, check-missing]; a check question with no answer [check-unanswered]
* a planned modality that no block of the build carries -> IMPROVEMENT [modality-missing]
* the notebook's exercise count or scaffolding differing from the plan -> IMPROVEMENT
* spaced em dashes in text the student sees -> POLISH
* a concept the records mark NOT TAUGHT, used by the build, that the plan's gap
  resolutions do not resolve -> IMPROVEMENT (CRITICAL when required at DEVELOPED or deeper)

Each finding carries its rule's id (``Finding.rule``, see :mod:`lesson_author.checks.registry`),
so that the next review re-checks whether it is fixed by rule and place, not by title text.
The content rules (notebook syntax and execution, MDX compilation, components, code blocks,
degenerate text, empty sections, coverage against the plan) are in :mod:`.notebook`,
:mod:`.mdx_compile` and :mod:`.content`; :func:`review_checks` runs them all.
"""

from __future__ import annotations

import re

from lesson_author.checks import registry as R
from lesson_author.checks.align import align_sections, match_section  # noqa: F401
from lesson_author.checks.inputs import BuildFiles, CheckOptions, DepthLookup, ReviewInput
from lesson_author.checks.registry import is_deterministic  # noqa: F401  (re-exported)
from lesson_author.course.models import (
    Depth,
    Finding,
    LessonPlan,
    Modality,
    OutlineSection,
    Severity,
)
from lesson_author.lesson.lesson_doc import (
    Aside,
    BuiltLesson,
    CodeBlock,
    ComparisonRow,
    GradientCard,
    PracticeNotebook,
    section_role,
)
from lesson_author.lesson.mdx import visible_text
from lesson_author.text.words import strip_emphasis

NOTEBOOK_MISSING = "Notebook missing"
NOTEBOOK_INVALID = "Notebook invalid"
LESSON_MISSING = "Lesson file missing"
EM_DASHES = "Em dashes with spaces in visible text"
EXERCISE_COUNT = "Exercise count differs from the plan"
EXERCISE_SCAFFOLDING = "Exercise scaffolding differs from the plan"


def _section_name(planned: OutlineSection) -> str:
    return f"{planned.number}. {planned.title}" if planned.number is not None else planned.title


def _location(planned: OutlineSection) -> str:
    if planned.number is not None:
        return f"Section {planned.number} ({planned.title})"
    return f"Section '{planned.title}'"


# ---------------------------------------------------------------- files


def check_files(files: BuildFiles) -> list[Finding]:
    found = []
    if files.lesson is None:
        found.append(
            R.LESSON_MISSING.finding(
                title=LESSON_MISSING,
                location=files.lesson_path,
                issue=f"The built lesson `{files.lesson_path}` does not exist.",
                student_impact="There is no lesson to read.",
                suggested_fix="Build the lesson (`author build SLUG`).",
            )
        )
    if files.notebook is None and files.notebook_error is None:
        found.append(
            R.NOTEBOOK_MISSING.finding(
                title=NOTEBOOK_MISSING,
                location=f"Practice section and notebook `{files.notebook_path}`",
                issue=f"The lesson's practice notebook `{files.notebook_path}` does not exist.",
                student_impact=(
                    "The student opens the practice notebook and finds nothing: the exercises "
                    "where they would apply the lesson are not there."
                ),
                suggested_fix=(
                    f"Create `{files.notebook_path}` with the exercises the planning document "
                    "lists, in order, with their scaffolding labels."
                ),
            )
        )
    elif files.notebook_error is not None:
        found.append(
            R.NOTEBOOK_INVALID.finding(
                title=NOTEBOOK_INVALID,
                location=f"Notebook `{files.notebook_path}`",
                issue=f"The notebook is not a valid nbformat v4 notebook: {files.notebook_error}",
                student_impact="Jupyter or Colab refuses to open the notebook.",
                suggested_fix="Rebuild the notebook so that it validates with nbformat.",
            )
        )
    return found


# ---------------------------------------------------------------- plan vs build


def check_sections(plan: LessonPlan, lesson: BuiltLesson) -> list[Finding]:
    found = []
    for planned, built in zip(plan.outline, align_sections(plan.outline, lesson), strict=True):
        if built is None:
            found.append(
                R.SECTION_MISSING.finding(
                    title=f"Planned section missing: {_section_name(planned)}",
                    location=_location(planned),
                    issue=f"The outline plans section {_section_name(planned)}; the build has no such section.",
                    student_impact="The part of the lesson this section was planned to teach is not there.",
                    suggested_fix="Write the section as the outline describes it.",
                )
            )
    return found


def planned_check_count(planned: OutlineSection) -> int:
    """How many questions a planned check section lists (numbered items), at least 1."""
    numbered = re.findall(r"(?m)^\s*\d+\.\s+\S", planned.body)
    return max(1, len(numbered))


def check_checks(plan: LessonPlan, lesson: BuiltLesson) -> list[Finding]:
    found = []
    for planned, built in zip(plan.outline, align_sections(plan.outline, lesson), strict=True):
        if section_role(planned.title) != "check":
            continue
        if built is None:
            continue  # reported as a missing section
        want, have = planned_check_count(planned), len(built.checks())
        if have < want:
            found.append(
                R.CHECK_MISSING.finding(
                    title=f"Planned check missing: {_section_name(planned)}",
                    location=_location(planned),
                    issue=f"The outline plans {want} check question(s) here; the build has {have}.",
                    student_impact="The student moves on without testing the understanding this check was for.",
                    suggested_fix="Add the planned predict-and-verify questions, each with its answer in a reveal.",
                )
            )
    return found


def check_unanswered(lesson: BuiltLesson) -> list[Finding]:
    """Every check question of every section has an answer to reveal."""
    found = []
    for section in lesson.sections:
        unanswered = [c for c in section.checks() if not c.answer.strip()]
        if unanswered:
            name = section.label
            found.append(
                R.CHECK_UNANSWERED.finding(
                    title=f"Check without an answer: {name}",
                    location=name,
                    issue=(
                        f"{len(unanswered)} check question(s) have no answer to reveal: "
                        + "; ".join(f'"{c.question[:80]}"' for c in unanswered[:3])
                    ),
                    student_impact="The student cannot verify their prediction.",
                    suggested_fix="Give every check an answer inside its `<details>` reveal.",
                )
            )
    return found


_MODALITY_KINDS: list[tuple[str, re.Pattern[str], tuple[type, ...]]] = [
    ("interactive", re.compile(r"interactive|widget|hands[- ]on|notebook", re.IGNORECASE), ()),
    (
        "symbolic",
        re.compile(r"symbolic|formula|pseudo-?code|\bcode\b|equation|math", re.IGNORECASE),
        (CodeBlock,),
    ),
    (
        "visual",
        re.compile(r"visual|diagram|comparison|chart|figure|picture", re.IGNORECASE),
        (ComparisonRow, GradientCard),
    ),
    (
        "concrete",
        re.compile(r"concrete|worked|example|numbers?|trace", re.IGNORECASE),
        (CodeBlock, ComparisonRow, GradientCard),
    ),
    ("verbal", re.compile(r"verbal|analog|metaphor|story|narrative", re.IGNORECASE), (Aside,)),
]


def modality_kind(name: str) -> str | None:
    """The kind of a planned modality (``"**Visual**"`` -> visual); None when no rule knows it."""
    for kind, pattern, _ in _MODALITY_KINDS:
        if pattern.search(name):
            return kind
    return None


MODALITY_MISSING = "Planned modality missing:"


def modality_name(modality: Modality) -> str:
    """A planned modality's name as findings write it (``"**Visual**"`` -> ``Visual``)."""
    return strip_emphasis(modality.modality)


def missing_modality(finding: Finding) -> str | None:
    """The modality a ``modality-missing`` finding names; None for other findings."""
    if finding.rule != R.MODALITY_MISSING.id or not finding.title.startswith(MODALITY_MISSING):
        return None
    return finding.title[len(MODALITY_MISSING) :].strip()


def modality_blocks(kind: str) -> tuple[type, ...]:
    """The block types that carry a modality of ``kind`` (none for interactive: the notebook)."""
    return next((t for k, _, t in _MODALITY_KINDS if k == kind), ())


def check_modalities(plan: LessonPlan, files: BuildFiles) -> list[Finding]:
    lesson = files.lesson
    assert lesson is not None
    blocks = lesson.blocks()
    found = []
    seen: set[str] = set()
    for modality in plan.modalities:
        name = modality_name(modality)
        kind = modality_kind(name)
        if kind is None or name.lower() in seen:  # a plan may list one modality twice
            continue
        seen.add(name.lower())
        if kind == "interactive":
            carried = files.notebook is not None and bool(files.notebook.exercises)
        else:
            carried = any(isinstance(b, modality_blocks(kind)) for b in blocks)
        if not carried:
            found.append(
                R.MODALITY_MISSING.finding(
                    title=f"{MODALITY_MISSING} {name}",
                    location="Whole lesson",
                    issue=(
                        f"The planning document plans a {name} modality "
                        f'("{modality.what[:200]}"), but no block of the build carries it.'
                    ),
                    student_impact="The student gets one way fewer to see the core concept than planned.",
                    suggested_fix=f"Add a block that delivers the planned {name} modality.",
                )
            )
    return found


def check_exercises(plan: LessonPlan, notebook: PracticeNotebook | None) -> list[Finding]:
    planned = plan.exercises()
    if notebook is None or not planned:
        return []
    built = notebook.exercises
    found = []
    if len(built) != len(planned):
        found.append(
            R.EXERCISE_COUNT.finding(
                title=EXERCISE_COUNT,
                location="Notebook",
                issue=f"The plan lists {len(planned)} exercises; the notebook has {len(built)}.",
                student_impact="The practice does not cover what the lesson planned to practise.",
                suggested_fix="Give the notebook exactly the planned exercises, in order.",
            )
        )
    want = [e.level.capitalize() for e in planned]
    have = [e.level.capitalize() for e in built]
    common = min(len(want), len(have))
    if have[:common] != want[:common]:
        found.append(
            R.EXERCISE_SCAFFOLDING.finding(
                title=EXERCISE_SCAFFOLDING,
                location="Notebook",
                issue=(
                    f"Planned scaffolding {' -> '.join(want)}; the notebook has "
                    f"{' -> '.join(have) or 'no exercises'}."
                ),
                student_impact="The support does not fade the way the plan intended.",
                suggested_fix="Label and scaffold each exercise as the plan does.",
            )
        )
    return found


_SPACED_DASH = re.compile(r"\S[ \t]+\u2014|\u2014[ \t]+\S")


def check_em_dashes(lesson: BuiltLesson) -> list[Finding]:
    places = []
    for where, text in visible_text(lesson):
        if _SPACED_DASH.search(text) and where not in places:
            places.append(where)
    if not places:
        return []
    shown = ", ".join(places[:6]) + (f" and {len(places) - 6} more" if len(places) > 6 else "")
    return [
        R.EM_DASHES.finding(
            title=EM_DASHES,
            location=shown,
            issue="Visible text uses em dashes with spaces around them; the style is an em dash with no spaces.",
            student_impact="Minor: an inconsistent look.",
            suggested_fix="Remove the spaces around the em dashes (or use `--` in code).",
        )
    ]


def _terms(concept: str) -> list[str]:
    """Ways the lesson may name a concept: ``"DMD (Distribution Matching Distillation)"`` ->
    ``["DMD", "Distribution Matching Distillation"]``."""
    parts = [p.strip(" *`\"'") for p in re.split(r"[()/]|,|;", concept)]
    return [p for p in parts if len(p) >= 3 and len(p.split()) <= 6]


def _used(term: str, text: str) -> bool:
    if term.isupper() or re.search(r"[A-Z].*[A-Z]", term):
        return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text) is not None
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE) is not None


def check_untaught(
    plan: LessonPlan, lesson: BuiltLesson, depth_of: DepthLookup | None = None
) -> list[Finding]:
    text = "\n".join(t for _, t in visible_text(lesson))
    candidates: list[tuple[str, Depth | None]] = []
    for p in plan.prerequisites:
        untaught = p.actual is Depth.NOT_TAUGHT or (
            p.actual is None and "not taught" in p.actual_raw.lower()
        )
        if untaught:
            candidates.append((p.concept, p.required))
    for c in plan.relevant_concepts:
        if c.depth is Depth.NOT_TAUGHT and all(c.concept != name for name, _ in candidates):
            candidates.append((c.concept, None))
    found = []
    for concept, required in candidates:
        if depth_of is not None:
            actual = depth_of(concept)
            if actual is not None and actual > Depth.NOT_TAUGHT:
                continue  # the records have taught it since the plan was written
        terms = _terms(concept)
        if not any(_used(t, text) for t in terms):
            continue
        resolved = any(
            g.resolution.strip() and any(t.lower() in g.gap.lower() for t in terms)
            for g in plan.gaps
        )
        if resolved:
            continue
        severity = (
            Severity.CRITICAL
            if required is not None and required >= Depth.DEVELOPED
            else Severity.IMPROVEMENT
        )
        name = terms[0] if terms else concept
        found.append(
            R.UNTAUGHT_CONCEPT.finding(
                severity=severity,
                title=f"Untaught concept used without a resolution: {name}",
                location="Whole lesson",
                issue=(
                    f"The build uses {concept}, which the records mark NOT TAUGHT, and the plan's "
                    "gap resolutions do not resolve it."
                ),
                student_impact="The student meets a concept the course never taught them.",
                suggested_fix="Teach it in a dedicated subsection (and add a gap resolution), or remove it.",
            )
        )
    return found


# ---------------------------------------------------------------- all together


@R.check(R.LESSON_MISSING, R.NOTEBOOK_MISSING, R.NOTEBOOK_INVALID)
def files_present(inp: ReviewInput) -> list[Finding]:
    return check_files(inp.files)


@R.check(R.SECTION_MISSING)
def sections_present(inp: ReviewInput) -> list[Finding]:
    return check_sections(inp.plan, inp.lesson) if inp.lesson else []


@R.check(R.CHECK_MISSING)
def checks_present(inp: ReviewInput) -> list[Finding]:
    return check_checks(inp.plan, inp.lesson) if inp.lesson else []


@R.check(R.CHECK_UNANSWERED)
def checks_answered(inp: ReviewInput) -> list[Finding]:
    return check_unanswered(inp.lesson) if inp.lesson else []


@R.check(R.MODALITY_MISSING)
def modalities_carried(inp: ReviewInput) -> list[Finding]:
    return check_modalities(inp.plan, inp.files) if inp.lesson else []


@R.check(R.EM_DASHES)
def em_dashes(inp: ReviewInput) -> list[Finding]:
    return check_em_dashes(inp.lesson) if inp.lesson else []


@R.check(R.UNTAUGHT_CONCEPT)
def untaught_concepts(inp: ReviewInput) -> list[Finding]:
    return check_untaught(inp.plan, inp.lesson, inp.depth_of) if inp.lesson else []


@R.check(R.EXERCISE_COUNT, R.EXERCISE_SCAFFOLDING)
def exercises_as_planned(inp: ReviewInput) -> list[Finding]:
    return check_exercises(inp.plan, inp.files.notebook)


# the content rules register themselves on import, after the structure rules above
from lesson_author.checks import content as _content  # noqa: F401
from lesson_author.checks import mdx_compile as _mdx_compile  # noqa: F401
from lesson_author.checks import notebook as _notebook  # noqa: F401


def review_checks(
    plan: LessonPlan,
    files: BuildFiles,
    *,
    depth_of: DepthLookup | None = None,
    options: CheckOptions | None = None,
) -> list[Finding]:
    """Every deterministic finding for the build on disk, most severe first."""
    inp = ReviewInput(plan, files, depth_of=depth_of, options=options or CheckOptions())
    found: list[Finding] = []
    skip = inp.options.skip_rules
    for registered in R.CHECKS:
        if skip and all(r.id in skip for r in registered.rules):
            continue
        for finding in registered.run(inp):
            if finding.rule in skip:
                continue
            if all(
                (f.rule, f.location, f.title) != (finding.rule, finding.location, finding.title)
                for f in found
            ):
                found.append(finding)
    return sorted(found, key=lambda f: -f.severity.rank)
