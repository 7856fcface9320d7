"""What the LLM is asked to return in the build, review, revise and record phases.

Every schema is small and bounded (each string has ``max_length``, each list
``max_length``) so that constrained decoding has a longest reply and a weak
local model can fill it; no string is longer than :data:`MAX_STRING` (llama.cpp
refuses grammars whose repetitions exceed its limits, about 1000 characters), so
long text comes as a list of paragraphs.  Numbers that point into a list the prompt
shows carry no bounds: a constrained decoder does not enforce integer bounds, so a
number out of range is ignored by the code, not refused (and retried): the lesson is built one section per call, plus one
call for the frame (objective, scope, summary, references, next step), one for
the notebook's setup cell and one per exercise.

The ``to_*`` functions turn a validated reply into the domain model; they also
normalise what a model gets wrong in ways a rule can fix (spaced em dashes,
top-level headings inside a section's prose).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, Field, create_model

from lesson_author.lesson.lesson_doc import (
    Aside,
    Block,
    BuiltExercise,
    BuiltSection,
    Check,
    CodeBlock,
    ComparisonRow,
    ComparisonSide,
    GradientCard,
    Reference,
)
from lesson_author.text.words import content_words


def _text(n: int) -> type[str]:
    return Annotated[str, Field(max_length=n)]  # type: ignore[return-value]


MAX_STRING = 1000  # the longest maxLength llama.cpp's grammar compiler accepts
Title = _text(120)
Line = _text(300)

BlockKind = Literal["comparison", "card", "insight", "warning", "tip", "concept", "code", "check"]


class BlockDraft(BaseModel):
    """One content block. Which fields matter depends on ``kind``:
    comparison: left_title/left_items, right_title/right_items; card, insight, warning, tip,
    concept: title + body; code: language + body (the code) + title (a file name, optional);
    check: body (the question) + answer."""

    kind: BlockKind
    title: Title = ""
    body: _text(900) = ""  # type: ignore[valid-type]
    answer: _text(800) = ""  # type: ignore[valid-type]
    language: _text(20) = ""  # type: ignore[valid-type]
    left_title: _text(80) = ""  # type: ignore[valid-type]
    left_items: Annotated[list[_text(120)], Field(max_length=5)] = []  # type: ignore[valid-type]
    right_title: _text(80) = ""  # type: ignore[valid-type]
    right_items: Annotated[list[_text(120)], Field(max_length=5)] = []  # type: ignore[valid-type]


class SectionDraft(BaseModel):
    """One section of the lesson: the heading the student sees, its prose as up to 4
    paragraphs, and up to 3 blocks."""

    heading: Title
    paragraphs: Annotated[list[_text(700)], Field(min_length=1, max_length=4)]  # type: ignore[valid-type]
    blocks: Annotated[list[BlockDraft], Field(max_length=3)] = []


class ReferenceDraft(BaseModel):
    title: _text(200)  # type: ignore[valid-type]
    url: _text(200) = ""  # type: ignore[valid-type]
    note: _text(200) = ""  # type: ignore[valid-type]


class FrameDraft(BaseModel):
    """The lesson's frame: objective, scope lines, key takeaways, references, next step."""

    objective: _text(500)  # type: ignore[valid-type]
    constraints: Annotated[list[_text(200)], Field(max_length=8)] = []  # type: ignore[valid-type]
    summary: Annotated[list[Line], Field(max_length=6)] = []
    references: Annotated[list[ReferenceDraft], Field(max_length=6)] = []
    next_step: _text(800) = ""  # type: ignore[valid-type]


class SetupDraft(BaseModel):
    """The notebook's setup cell: imports and small helpers, runnable on Colab."""

    setup_code: _text(800)  # type: ignore[valid-type]


class ExerciseDraft(BaseModel):
    """One practice exercise of the notebook."""

    instructions: _text(800)  # type: ignore[valid-type]
    starter_code: _text(800)  # type: ignore[valid-type]
    solution_code: _text(1000)  # type: ignore[valid-type]
    solution_notes: _text(800) = ""  # type: ignore[valid-type]


# ---------------------------------------------------------------- review


class ReviewerFinding(BaseModel):
    severity: Literal["CRITICAL", "IMPROVEMENT", "POLISH"]
    title: _text(100)  # type: ignore[valid-type]
    section: _text(80) = ""  # type: ignore[valid-type]
    issue: _text(400)  # type: ignore[valid-type]
    student_impact: _text(200) = ""  # type: ignore[valid-type]
    suggested_fix: _text(300) = ""  # type: ignore[valid-type]


class FixJudgment(BaseModel):
    """Whether finding number ``finding`` of the previous review is fixed in this build."""

    finding: int = Field(description="the earlier finding's number, as the prompt lists them")
    fixed: bool
    note: _text(200) = ""  # type: ignore[valid-type]


class ReviewerOutput(BaseModel):
    """The whole-lesson pass: findings on the arc, what works well, the verification of
    earlier findings. ``reviewer_schema`` makes ``section`` an enum of the places that exist."""

    findings: Annotated[list[ReviewerFinding], Field(max_length=6)] = []
    verification: Annotated[list[FixJudgment], Field(max_length=10)] = []
    strengths: Annotated[list[_text(200)], Field(max_length=3)] = []  # type: ignore[valid-type]
    assessment: _text(500) = ""  # type: ignore[valid-type]


class SectionFinding(BaseModel):
    """One problem of the section under review (its place is that section)."""

    severity: Literal["CRITICAL", "IMPROVEMENT", "POLISH"]
    title: _text(100)  # type: ignore[valid-type]
    issue: _text(400) = Field(  # type: ignore[valid-type]
        description="what is wrong, pointing at the words, code or block"
    )
    suggested_fix: _text(300) = ""  # type: ignore[valid-type]


class SectionReview(BaseModel):
    """The reviewer's findings on one section (or one part of a long section)."""

    findings: Annotated[list[SectionFinding], Field(max_length=2)] = []


WHOLE_LESSON = "Whole lesson"


def _choices(values: Sequence[str]) -> type:
    return Literal[tuple(dict.fromkeys(values))]  # type: ignore[return-value]


@lru_cache(maxsize=32)
def reviewer_schema(places: tuple[str, ...], previous: int) -> type[ReviewerOutput]:
    """ReviewerOutput whose ``section`` can only be one of ``places`` (the sections and notebook
    cells that exist, and "Whole lesson") and whose verification numbers only 1..``previous``:
    a constrained decoder enforces enums, not free text or integer bounds."""
    finding = create_model(
        "ReviewerFinding",
        __base__=ReviewerFinding,
        section=(_choices([*places, WHOLE_LESSON]), WHOLE_LESSON),
    )
    if previous > 0:
        judgment = create_model(
            "FixJudgment",
            __base__=FixJudgment,
            finding=(
                Literal[tuple(range(1, previous + 1))],  # type: ignore[valid-type]
                Field(description="the earlier finding's number, as the prompt lists them"),
            ),
        )
        verification = (
            Annotated[list[judgment], Field(max_length=previous)],  # type: ignore[valid-type]
            [],
        )
    else:
        verification = (Annotated[list[FixJudgment], Field(max_length=0)], [])
    return create_model(  # type: ignore[call-overload, no-any-return]
        "ReviewerOutput",
        __base__=ReviewerOutput,
        findings=(Annotated[list[finding], Field(max_length=6)], []),  # type: ignore[valid-type]
        verification=verification,
    )


# ---------------------------------------------------------------- record


class ConceptNote(BaseModel):
    concept: int = Field(description="the concept's number, as the prompt lists them")
    notes: _text(400)  # type: ignore[valid-type]


class RecordDraft(BaseModel):
    """Notes for the module record: per concept, and the mental models and analogies used."""

    concept_notes: Annotated[list[ConceptNote], Field(max_length=12)] = []
    mental_models: Annotated[list[Line], Field(max_length=6)] = []
    analogies: Annotated[list[Line], Field(max_length=6)] = []


LLM_SCHEMAS: tuple[type[BaseModel], ...] = (
    SectionDraft,
    FrameDraft,
    SetupDraft,
    ExerciseDraft,
    ReviewerOutput,
    SectionReview,
    RecordDraft,
)

# ---------------------------------------------------------------- reply -> domain

_SPACED_EM_DASH = re.compile(r"[ \t]+\u2014[ \t]*|[ \t]*\u2014[ \t]+")


def tidy(text: str) -> str:
    """A model's text as the course writes it: no spaced em dashes, no ``#``/``##`` headings
    inside a section (they would split the lesson's sections), no trailing spaces."""
    text = _SPACED_EM_DASH.sub("\u2014", text)
    lines = []
    fence = False
    for line in text.strip().splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        elif not fence and re.match(r"^#{1,2}\s", line):
            line = "### " + line.lstrip("#").lstrip()
        lines.append(line.rstrip())
    return "\n".join(lines)


def to_block(draft: BlockDraft) -> Block:
    if draft.kind == "comparison":
        return ComparisonRow(
            left=ComparisonSide(
                title=tidy(draft.left_title), items=[tidy(i) for i in draft.left_items]
            ),
            right=ComparisonSide(
                title=tidy(draft.right_title), items=[tidy(i) for i in draft.right_items]
            ),
        )
    if draft.kind == "code":
        return CodeBlock(
            language=draft.language.strip() or "text",
            code=_SPACED_EM_DASH.sub(" -- ", draft.body).strip("\n"),
            filename=draft.title.strip(),
        )
    if draft.kind == "check":
        return Check(question=tidy(draft.body), answer=tidy(draft.answer))
    if draft.kind == "card":
        return GradientCard(title=tidy(draft.title), body=tidy(draft.body))
    return Aside(kind=draft.kind, title=tidy(draft.title), body=tidy(draft.body))


def to_section(draft: SectionDraft, *, number: int | None, outline_title: str) -> BuiltSection:
    heading = tidy(draft.heading).lstrip("# ").strip() or outline_title
    return BuiltSection(
        number=number,
        outline_title=outline_title,
        heading=" ".join(heading.split()),
        prose=tidy("\n\n".join(p.strip() for p in draft.paragraphs if p.strip())),
        blocks=[to_block(b) for b in draft.blocks],
    )


def to_references(drafts: list[ReferenceDraft]) -> list[Reference]:
    return [Reference(title=tidy(r.title), url=r.url.strip(), note=tidy(r.note)) for r in drafts]


def to_exercise(draft: ExerciseDraft, *, level: str, title: str, task: str) -> BuiltExercise:
    return BuiltExercise(
        level=level,
        title=title,
        task=task,
        instructions=tidy(draft.instructions),
        starter_code=draft.starter_code.strip("\n"),
        solution_code=draft.solution_code.strip("\n"),
        solution_notes=tidy(draft.solution_notes),
    )


# ---------------------------------------------------------------- what the outline already gives

_NUMBERED = re.compile(r"(?m)^\s*(\d+)\.\s+")
_ANSWER = re.compile(r"\(\s*Answer:\s*(.*)\)\s*$", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"(?ms)^(`{3,}|~{3,})([^\n`]*)\n(.*?)\n?^\1[ \t]*$")


def planned_checks(body: str) -> list[Check]:
    """The check questions an outline section writes out (``1. "Question?" (Answer: ...)``)."""
    starts = list(_NUMBERED.finditer(body))
    found = []
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(body)
        item = " ".join(body[m.end() : end].split())
        answer = _ANSWER.search(item)
        question = item[: answer.start()] if answer else item
        question = question.strip().strip('"\u201c\u201d').strip()
        if question:
            found.append(
                Check(question=tidy(question), answer=tidy(answer.group(1)) if answer else "")
            )
    return found


def planned_code(body: str) -> list[CodeBlock]:
    """The code / pseudocode blocks an outline section writes out."""
    return [
        CodeBlock(language=m.group(2).strip() or "text", code=m.group(3).strip("\n"))
        for m in _FENCE.finditer(body)
        if m.group(3).strip()
    ]


def complete_from_outline(
    section: BuiltSection,
    outline_body: str,
    role: str,
    misconceptions: Sequence[tuple[str, str]] = (),
) -> BuiltSection:
    """A built section with what its plan spells out and the model left out: the planned
    check questions (with their planned answers) of a check section, the outline's code
    blocks when the section has no code, and a WarningBlock with the planned negative
    example for each (misconception, negative example) the section addresses that no
    warning of the section carries. A weak model still yields the planned checks, the
    planned symbolic modality and the misconceptions; a strong one has written them."""
    blocks = list(section.blocks)
    if role == "check":
        planned = planned_checks(outline_body)
        have = sum(1 for b in blocks if isinstance(b, Check))
        blocks += planned[have:]
    if not any(isinstance(b, CodeBlock) for b in blocks):
        blocks += planned_code(outline_body)
    warnings = [b for b in blocks if isinstance(b, Aside) and b.kind == "warning"]
    for claim, negative in misconceptions:
        claim = claim.strip().strip('"\u201c\u201d')
        words = content_words(claim)
        carried = any(
            len(words & content_words(w.title + " " + w.body)) >= max(1, len(words) // 2)
            for w in warnings
        )
        if claim and negative.strip() and not carried:
            title = claim if len(claim) <= 90 else claim[:87].rsplit(" ", 1)[0] + "..."
            blocks.append(
                Aside(kind="warning", title=f"Misconception: {tidy(title)}", body=tidy(negative))
            )
    if len(blocks) == len(section.blocks):
        return section
    return section.model_copy(update={"blocks": blocks})


_VERSUS = re.compile(r"\s+(?:vs\.?|versus)\s+", re.IGNORECASE)
_BLOCK_PREFIX = re.compile(r"^\s*(?:ComparisonRow|GradientCard|Diagram|Card)\s*:\s*", re.IGNORECASE)


def _lead_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 2]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def planned_modality_block(kind: str, name: str, what: str) -> Block | None:
    """A block that carries a planned modality, from the plan's own description of it, for
    when a revision still leaves the modality out: a comparison when the description sets
    two things side by side ("A vs B"), else a card (visual, concrete), an insight aside
    (verbal) or the formula as a code block (symbolic). Interactive modalities live in the
    notebook: None."""
    what = tidy(_BLOCK_PREFIX.sub("", what))
    if not what or kind == "interactive":
        return None
    if kind in ("visual", "concrete"):
        sentences = _sentences(what)
        sides = _VERSUS.split(sentences[0].rstrip("."), maxsplit=1) if sentences else []
        if len(sides) == 2 and all(sides):
            rest = sentences[1:]
            left, right = (s.strip() for s in sides)
            lead = [next(iter(_lead_words(side)), side.lower()) for side in (left, right)]

            def about(word: str) -> list[str]:
                return [s for s in rest if word in s.lower()]

            return ComparisonRow(
                left=ComparisonSide(title=left, items=about(lead[0])),
                right=ComparisonSide(title=right, items=about(lead[1])),
            )
        return GradientCard(title=name, body=what)
    if kind == "verbal":
        return Aside(kind="insight", title=name, body=what)
    if kind == "symbolic":
        return CodeBlock(language="text", code=what)
    return None
