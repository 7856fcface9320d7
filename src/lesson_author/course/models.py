"""The records tree as data: pydantic models for every record file.

These models are the contract between the parser, the renderer, the records
commands and the pipeline.  Every model that comes from a file remembers the
1-based line it started on (``line``) so that checks can print
``file:line: message``; ``line`` is excluded from comparisons of content
(see :func:`content`).

Fields named ``*_raw`` keep the author's exact text where the typed value is
a normalisation of it (``depth_raw="DEVELOPED (deep)"`` -> ``depth=DEVELOPED``).

Documents (and reviews, findings, per-lesson summaries, which have sections
of their own) carry a ``layout``: their parts in file order, each either a
:class:`RawSection` (text the parser does not type -- unknown sections, stray
text, rules -- kept verbatim) or a :class:`Slot` saying where a typed field
(or one item of a list field) sits and how it was formatted.  The typed
fields stay the single source of truth for what they cover: the renderer
writes their current values into their slots.  A model built from scratch
has an empty layout and renders in the seed format.  Table rows keep cells
no field takes in ``extra`` and their line as written in ``src`` (a
formatting hint, not content).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Ordered(enum.Enum):
    """An enum whose members compare by their declared rank."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank < other.rank  # type: ignore[attr-defined]

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank <= other.rank  # type: ignore[attr-defined]

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank > other.rank  # type: ignore[attr-defined]

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank >= other.rank  # type: ignore[attr-defined]

    def __str__(self) -> str:
        return str(self.value)


class Depth(_Ordered):
    """How far the course has taken a concept. ``NOT_TAUGHT`` ranks lowest."""

    NOT_TAUGHT = "NOT TAUGHT"
    MENTIONED = "MENTIONED"
    INTRODUCED = "INTRODUCED"
    DEVELOPED = "DEVELOPED"
    APPLIED = "APPLIED"

    @classmethod
    def parse(cls, text: str) -> Depth | None:
        """Read a depth word from a table cell; ``None`` when it names none.

        Tolerant of decoration (``**DEVELOPED**``, ``DEVELOPED (deep)``,
        ``not taught``, ``--``).  When a cell names two depths
        (``INTRODUCED -> DEVELOPED``) the highest wins.
        """
        upper = re.sub(r"[*_`]", "", text).upper()
        words = _DEPTH_WORDS.findall(upper)
        if not words:
            return None
        return max(cls(re.sub(r"[ _-]", " ", w)) for w in words)


_DEPTH_WORDS = re.compile("|".join(rf"\b{d.value.replace(' ', '[ _-]')}\b" for d in Depth))


class Severity(_Ordered):
    """Finding severity, least to most severe."""

    POLISH = "POLISH"
    IMPROVEMENT = "IMPROVEMENT"
    CRITICAL = "CRITICAL"


class Verdict(_Ordered):
    """Review verdict, best to worst."""

    PASS = "PASS"
    NEEDS_REVISION = "NEEDS REVISION"
    MAJOR_REVISION = "MAJOR REVISION"

    @classmethod
    def parse(cls, text: str) -> Verdict | None:
        upper = text.upper()
        for v in (cls.MAJOR_REVISION, cls.NEEDS_REVISION, cls.PASS):
            if v.value in upper:
                return v
        return None


class CognitiveLoad(str, enum.Enum):
    BUILD = "BUILD"
    STRETCH = "STRETCH"
    CONSOLIDATE = "CONSOLIDATE"


def verdict_for(severities: Iterable[Severity]) -> Verdict:
    """The verdict rule: any CRITICAL -> MAJOR REVISION; any IMPROVEMENT -> NEEDS REVISION; else PASS."""
    worst = max(severities, default=None)
    if worst is Severity.CRITICAL:
        return Verdict.MAJOR_REVISION
    if worst is Severity.IMPROVEMENT:
        return Verdict.NEEDS_REVISION
    return Verdict.PASS


class Record(BaseModel):
    """Base for every parsed piece: remembers where it came from."""

    model_config = ConfigDict(validate_assignment=False, extra="forbid")

    line: int | None = Field(default=None, description="1-based source line; not content")


NOT_CONTENT = frozenset({"line", "src"})


def content(model: BaseModel) -> Any:
    """The model's content for comparisons: its dump without source positions.

    Drops ``line`` and a row's ``src`` (the row as written, a formatting hint
    whose cells are in the row's fields).  Layouts stay: their verbatim text
    is content the parser did not type.
    """

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in NOT_CONTENT}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(model.model_dump(mode="json"))


# ---------------------------------------------------------------- generic parts


class Row(Record):
    """Base of every typed table row.

    ``extra`` holds cells of columns the row type has no field for (in column
    order) and cells beyond the header, so a row renders back whole.  ``src``
    is the row's line as read; the renderer writes it back unchanged while it
    still reads as the row's current content, so odd spacing survives.
    """

    extra: list[str] = Field(default_factory=list)
    src: str = Field(default="", description="the row as written; a formatting hint, not content")


class Slot(BaseModel):
    """Where a typed field (or one item of a list field) sits in a document, with its formatting.

    ``head`` is the text written before the value (a heading line, a bold
    label, blank lines), ``tail`` the text after it up to the next part
    (blank lines, a ``---`` rule, stray text).  ``style`` keeps small
    formatting choices the value's own text does not carry (heading level,
    dash style, a table's header and separator lines ...).  A slot without
    ``index`` for a list field is the list's marker (its heading and intro).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["slot"] = "slot"
    key: str
    index: int | None = None
    head: str = ""
    tail: str = ""
    style: dict[str, str] = Field(default_factory=dict)


class Table(Record):
    """A markdown table as read: header cells, the separator line as written, rows of cells."""

    header: list[str]
    separator: str = ""
    rows: list[list[str]] = Field(default_factory=list)
    row_lines: list[int] = Field(default_factory=list)


class RawSection(Record):
    """A section the parser keeps verbatim (heading line included).

    Also used for stray text between known sections (``heading`` empty,
    ``level`` 0).  ``text`` is exactly what the file had.
    """

    kind: Literal["raw"] = "raw"
    heading: str
    level: int
    text: str


Part = Annotated[Slot | RawSection, Field(discriminator="kind")]
"""One piece of a document's layout: a typed field's place, or verbatim text."""


def layout_field() -> Any:
    return Field(
        default_factory=list,
        description="document order of typed fields (Slot) and verbatim text (RawSection); "
        "empty for a model built from scratch (rendered in the seed format)",
    )


# ---------------------------------------------------------------- course.md


class SeriesRow(Row):
    number: str
    title: str
    status: str
    description: str = ""


class ModuleStatusRow(Row):
    module: str
    title: str
    lessons: str
    status: str


class Course(Record):
    title: str
    goal: str = ""
    series: list[SeriesRow] = Field(default_factory=list)
    modules: list[ModuleStatusRow] = Field(default_factory=list)
    layout: list[Part] = layout_field()


# ---------------------------------------------------------------- series plan


class ModuleRow(Row):
    module: str
    title: str
    lessons: str
    status: str
    focus: str = ""


class LessonRef(Row):
    """A lesson as the series plan lists it."""

    number: int | None = None
    slug: str
    title: str
    description: str = ""
    module: str = Field(description="module id, e.g. '7.4'")


class ConnectionRow(Row):
    concept: str
    earlier: str
    source: str


class SeriesPlan(Record):
    number: str
    title: str
    status: str = ""
    prerequisites: str = ""
    goal: str = ""
    modules: list[ModuleRow] = Field(default_factory=list)
    lessons: list[LessonRef] = Field(default_factory=list)
    connections: list[ConnectionRow] = Field(default_factory=list)
    layout: list[Part] = layout_field()

    def module_lessons(self, module: str) -> list[LessonRef]:
        return [lesson for lesson in self.lessons if lesson.module == module]


# ---------------------------------------------------------------- module plan


class LessonSequenceRow(Row):
    lesson: str
    core_concept: str
    load: str
    rationale: str = ""


class LoadTrajectoryRow(Row):
    lesson: str
    load: str
    notes: str = ""


class ModulePlan(Record):
    module: str
    title: str
    status: str = ""
    prerequisites: str = ""
    goal: str = ""
    narrative_arc: str = ""
    sequence: list[LessonSequenceRow] = Field(default_factory=list)
    topic_allocation: dict[str, str] = Field(
        default_factory=dict, description="lesson slug -> that lesson's allocation text"
    )
    load_trajectory: list[LoadTrajectoryRow] = Field(default_factory=list)
    misconceptions: list[str] = Field(default_factory=list)
    layout: list[Part] = layout_field()


# ---------------------------------------------------------------- module record


class ConceptRow(Row):
    concept: str
    depth: Depth | None = None
    depth_raw: str = ""
    lesson: str
    notes: str = ""


class SummaryPart(Record):
    """One bold-labelled sub-section of a per-lesson summary (``**Concepts taught:** ...``)."""

    label: str
    text: str


class LessonSummary(Record):
    slug: str
    number: int | None = None
    status: str = ""
    cognitive_load: str = ""
    notebook: str = ""
    review: str = ""
    parts: list[SummaryPart] = Field(default_factory=list)
    layout: list[Part] = layout_field()

    def part(self, label: str) -> str | None:
        for p in self.parts:
            if p.label.lower() == label.lower():
                return p.text
        return None


class ModuleRecord(Record):
    module: str
    title: str
    goal: str = ""
    status: str = ""
    concepts: list[ConceptRow] = Field(default_factory=list)
    summaries: list[LessonSummary] = Field(default_factory=list)
    layout: list[Part] = layout_field()

    def summary(self, slug: str) -> LessonSummary | None:
        return next((s for s in self.summaries if s.slug == slug), None)


# ---------------------------------------------------------------- lesson planning document


class RelevantConcept(Row):
    concept: str
    depth: Depth | None = None
    depth_raw: str = ""
    source: str = ""
    notes: str = ""


class Prerequisite(Row):
    concept: str
    required: Depth | None = None
    required_raw: str = ""
    actual: Depth | None = None
    actual_raw: str = ""
    source: str = ""
    status: str = Field(default="", description="OK or GAP as written")
    reasoning: str = ""


class GapResolution(Row):
    gap: str
    size: str = ""
    resolution: str = ""


class Misconception(Row):
    misconception: str
    why: str = ""
    negative_example: str = ""
    where: str = ""


class ExamplePlanned(Row):
    example: str
    type: str = ""
    purpose: str = ""
    why: str = ""


class Modality(Row):
    modality: str
    what: str = ""
    why: str = ""


class Connection(Row):
    new_concept: str
    connects_to: str = ""
    how: str = ""


class OutlineSection(Record):
    number: int | None = None
    title: str
    body: str = ""


class Finding(Record):
    severity: Severity
    rule: str | None = None
    title: str
    location: str = ""
    issue: str = ""
    student_impact: str = ""
    suggested_fix: str = ""
    layout: list[Part] = layout_field()


class Review(Record):
    date: str
    iteration: int | None = None
    of: int | None = None
    counts: dict[Severity, int] = Field(
        default_factory=dict, description="the Summary counts as written"
    )
    verdict: Verdict | None = None
    verdict_raw: str = ""
    findings: list[Finding] = Field(default_factory=list)
    notes: str = ""
    layout: list[Part] = layout_field()

    def computed_verdict(self) -> Verdict:
        return verdict_for(f.severity for f in self.findings)


class ChecklistItem(Record):
    checked: bool
    text: str


class Checklist(Record):
    title: str
    items: list[ChecklistItem] = Field(default_factory=list)


class Exercise(BaseModel):
    """A practice exercise as the outline's Practice section lists it: ``- **[Guided] Title:** task``."""

    level: str = Field(description="Guided, Supported or Independent")
    title: str
    task: str = ""


EXERCISE_LINE = re.compile(
    r"^\s*(?:[-*]|\d+\.)\s+\**\[(Guided|Supported|Independent)\]\s*(.*?)(?::\**|\**:)\s*(.*)$",
    re.IGNORECASE,
)


class LessonPlan(Record):
    """A lesson planning document (seed 004's format)."""

    title: str
    slug: str
    series: str = Field(default="", description="the **Series:** line after the label, as written")
    module: str = Field(default="", description="a **Module:** line of its own, as written")
    status: str = Field(default="", description="a **Status:** line, as written")
    position: str = Field(default="", description="a **Position:** line of its own, as written")
    cognitive_load: str = ""
    # Phase 1: Orient
    relevant_concepts: list[RelevantConcept] = Field(default_factory=list)
    mental_models: str = ""
    not_covered: str = ""
    readiness: str = ""
    # Phase 2: Analyze
    target_concept: str = ""
    prerequisites: list[Prerequisite] = Field(default_factory=list)
    gaps: list[GapResolution] = Field(default_factory=list)
    misconceptions: list[Misconception] = Field(default_factory=list)
    examples: list[ExamplePlanned] = Field(default_factory=list)
    # Phase 3: Design
    narrative_arc: str = ""
    modalities: list[Modality] = Field(default_factory=list)
    cognitive_load_assessment: str = ""
    connections: list[Connection] = Field(default_factory=list)
    analogies_to_extend: str = ""
    misleading_analogies: str = ""
    scope: str = ""
    outline: list[OutlineSection] = Field(default_factory=list)
    # Reviews and checklists
    reviews: list[Review] = Field(default_factory=list)
    checklists: list[Checklist] = Field(default_factory=list)
    layout: list[Part] = layout_field()

    def practice_section(self) -> OutlineSection | None:
        return next((s for s in self.outline if "practice" in s.title.lower()), None)

    def exercises(self) -> list[Exercise]:
        """The exercises the outline's Practice section lists, in order."""
        section = self.practice_section()
        if section is None:
            return []
        found = []
        for text in section.body.splitlines():
            m = EXERCISE_LINE.match(text)
            if m:
                level, title, task = m.groups()
                found.append(
                    Exercise(level=level.capitalize(), title=title.strip(" *"), task=task.strip())
                )
        return found
