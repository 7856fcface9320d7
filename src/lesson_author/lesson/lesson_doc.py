"""The built lesson as data: what `build` produces, `render_mdx` writes and `read_mdx` reads back.

A :class:`BuiltLesson` has a header (title, objective, constraints), one
:class:`BuiltSection` per section of the plan's outline in the outline's order
(each with prose and the course's content blocks), the summary, references and
next step, and the practice notebook's content.  No LLM and no I/O in here.

Sections remember the outline section they were built for (``number`` and
``outline_title``) so that checks can tell a planned section from a missing one
and revisions can address one section at a time.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field

# ---------------------------------------------------------------- blocks


class ComparisonSide(BaseModel):
    title: str
    items: list[str] = Field(default_factory=list)
    color: str = ""


class ComparisonRow(BaseModel):
    """Two columns side by side (``<ComparisonRow left={{...}} right={{...}} />``)."""

    kind: Literal["comparison"] = "comparison"
    left: ComparisonSide
    right: ComparisonSide


class GradientCard(BaseModel):
    """A titled card (``<GradientCard title="...">body</GradientCard>``)."""

    kind: Literal["card"] = "card"
    title: str
    body: str = ""
    color: str = ""


ASIDE_TAGS = {
    "insight": "InsightBlock",
    "warning": "WarningBlock",
    "tip": "TipBlock",
    "concept": "ConceptBlock",
}


class Aside(BaseModel):
    """A side note: insight, warning (misconceptions), tip or concept."""

    kind: Literal["insight", "warning", "tip", "concept"]
    title: str
    body: str = ""

    @property
    def tag(self) -> str:
        return ASIDE_TAGS[self.kind]


class CodeBlock(BaseModel):
    kind: Literal["code"] = "code"
    language: str = "text"
    code: str
    filename: str = ""


class Check(BaseModel):
    """A check-your-understanding question with its answer behind a ``<details>`` reveal."""

    kind: Literal["check"] = "check"
    question: str
    answer: str = ""
    predict_and_verify: bool = True


Block = Annotated[
    ComparisonRow | GradientCard | Aside | CodeBlock | Check, Field(discriminator="kind")
]

# ---------------------------------------------------------------- sections

SectionRole = Literal["content", "check", "practice", "summary", "references", "next"]

_ROLE_PATTERNS: list[tuple[SectionRole, re.Pattern[str]]] = [
    ("summary", re.compile(r"\bsummar|\bkey takeaways?\b|\bwrap[- ]?up\b", re.IGNORECASE)),
    ("references", re.compile(r"\breferences?\b|\bfurther reading\b", re.IGNORECASE)),
    ("next", re.compile(r"\bnext step", re.IGNORECASE)),
    ("practice", re.compile(r"\bpractice\b|\bnotebook\b|\bexercises?\b", re.IGNORECASE)),
    ("check", re.compile(r"\bcheck\b|\bquiz\b", re.IGNORECASE)),
]

# roles whose content comes from the lesson frame (one call), not from a section call
FRAME_ROLES: frozenset[str] = frozenset({"summary", "references", "next"})


def section_role(title: str) -> SectionRole:
    """What an outline section is for, from its title (``"10. Check #3"`` -> ``check``)."""
    for role, pattern in _ROLE_PATTERNS:
        if pattern.search(title):
            return role
    return "content"


class BuiltSection(BaseModel):
    number: int | None = Field(default=None, description="the outline section's number")
    outline_title: str = Field(default="", description="the outline section's title as planned")
    heading: str = Field(description="the heading the student sees")
    prose: str = ""
    blocks: list[Block] = Field(default_factory=list)

    @property
    def role(self) -> SectionRole:
        return section_role(self.outline_title or self.heading)

    @property
    def label(self) -> str:
        """How findings name the section: ``Section 4 (Explain: S3-DiT ...)``."""
        title = self.outline_title or self.heading
        return (
            f"Section {self.number} ({title})" if self.number is not None else f"Section '{title}'"
        )

    def checks(self) -> list[Check]:
        return [b for b in self.blocks if isinstance(b, Check)]


# ---------------------------------------------------------------- notebook content


class BuiltExercise(BaseModel):
    level: str = Field(description="Guided, Supported or Independent")
    title: str
    task: str = ""
    instructions: str = ""
    starter_code: str = ""
    solution_code: str = ""
    solution_notes: str = ""


class PracticeNotebook(BaseModel):
    title: str
    setup_code: str = ""
    exercises: list[BuiltExercise] = Field(default_factory=list)
    takeaways: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- the lesson


class Reference(BaseModel):
    title: str
    url: str = ""
    note: str = ""


class BuiltLesson(BaseModel):
    slug: str
    title: str
    objective: str = ""
    constraints: list[str] = Field(default_factory=list)
    sections: list[BuiltSection] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    next_step: str = ""
    notebook: PracticeNotebook | None = None

    def section(self, number: int) -> BuiltSection | None:
        return next((s for s in self.sections if s.number == number), None)

    def blocks(self) -> list[Block]:
        return [b for s in self.sections for b in s.blocks]

    def checks(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks()]

    def replace_section(self, new: BuiltSection) -> BuiltLesson:
        """A copy with the section of the same number (or heading) replaced by ``new``."""
        sections = []
        for old in self.sections:
            same = (
                old.number == new.number if new.number is not None else old.heading == new.heading
            )
            sections.append(new if same else old)
        return self.model_copy(update={"sections": sections})


def notebook_filename(slug: str) -> str:
    return f"{slug}.ipynb"


def mdx_filename(slug: str) -> str:
    return f"{slug}.mdx"
