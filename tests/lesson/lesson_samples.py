"""Shared helpers for the build / review / lesson-pipeline tests.

* the seed z-image planning document (``../shared/seeds/004``) as a fresh plan: its review
  sections removed, a Practice section with the four exercises its review names added;
* a temp copy of the example course (``lessons/``) with that plan in place;
* a scripted "author" model: valid replies for every build/revise/record schema, and the
  reviewer replies a test scripts, iteration by iteration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from example_course import copy_example_course

from lesson_author.lesson.schemas import (
    ExerciseDraft,
    FrameDraft,
    RecordDraft,
    ReviewerOutput,
    SectionDraft,
    SectionReview,
    SetupDraft,
)

PROJECT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LESSON_AUTHOR_SHARED") or PROJECT.parent / "shared")
SEED_004 = SHARED / "seeds" / "004_f37c31f4a5f7254a.txt"
SEED_001 = SHARED / "seeds" / "001_af5e51969666283b.txt"
SEED_002 = SHARED / "seeds" / "002_583086d69e78ccc8.txt"

requires_shared = pytest.mark.skipif(
    not SEED_004.is_file(),
    reason="../shared is absent (a fresh clone): the seed documents are needed",
)

PRACTICE = """#### 17. Practice

Notebook with four exercises:

- **[Guided] Pipeline Inspection:** load the pipeline config and list the S3-DiT components.
- **[Guided] Single-Stream vs Dual-Stream:** count the projection and FFN parameters of both designs.
- **[Supported] Generation and Turbo Comparison:** generate with the base model and with Turbo.
- **[Independent] Architecture Capstone Trace:** trace one prompt through the whole pipeline.

"""


def seed_plan_text(*, practice: bool = True) -> str:
    """Seed 004 as a plan not yet built: no review sections; optionally a Practice section."""
    text = SEED_004.read_text(encoding="utf-8")
    start = text.index("## Review -- 2026-02-20 (Iteration 1/3)")
    end = text.index("## Checklists")
    text = text[:start] + text[end:]
    if practice:
        # the outline ends with "#### 16. Next Step ... ---"; the practice section goes after it
        at = text.rindex("---\n\n## Checklists")
        text = text[:at] + PRACTICE + text[at:]
    return text


def make_course(tmp_path: Path, *, practice: bool = True) -> Path:
    """A temp copy of the example course with seed 004 as z-image's planning document."""
    root = tmp_path / "lessons"
    copy_example_course(root)
    plan = root / "series-7" / "module-7-4" / "lessons" / "z-image.md"
    plan.write_text(seed_plan_text(practice=practice), encoding="utf-8")
    return root


# ---------------------------------------------------------------- the scripted model

_SECTION = re.compile(r"## The section to write: (\d+)\. (.+)")
_REVISED = re.compile(r"## The planned outline for this section: (\d+)\. (.+)")


def section_reply(number: int, title: str) -> SectionDraft:
    lowered = title.lower()
    if "check" in lowered:
        blocks = [
            {
                "kind": "check",
                "body": f"Predict question {i} of {title}?",
                "answer": f"Answer {i}, because.",
            }
            for i in (1, 2)
        ]
    elif number == 4:
        blocks = [
            {
                "kind": "comparison",
                "left_title": "MMDiT",
                "left_items": ["separate projections"],
                "right_title": "S3-DiT",
                "right_items": ["shared projections"],
            },
            {"kind": "code", "language": "text", "body": "per block: 3 * d_model^2 params"},
            {
                "kind": "warning",
                "title": "Misconception: no modality awareness",
                "body": "Refiner layers come first.",
            },
        ]
    elif number == 9:
        blocks = [
            {
                "kind": "insight",
                "title": "Spear and shield",
                "body": "DMD (Distribution Matching Distillation) has two parts.",
            }
        ]
    else:
        blocks = []
    return SectionDraft(
        heading=f"Heading {number}",
        paragraphs=[f"Prose of section {number}: {title}."],
        blocks=blocks,
    )


def author_reply(messages: list[dict[str, str]], schema: type, phase: str) -> Any:
    """A valid reply for every schema but the reviewer's."""
    prompt = messages[-1]["content"] if messages else ""
    if schema is SectionDraft:
        m = _SECTION.search(prompt) or _REVISED.search(prompt)
        number, title = (int(m.group(1)), m.group(2).strip()) if m else (0, "section")
        return section_reply(number, title)
    if schema is FrameDraft:
        return FrameDraft(
            objective="Explain how S3-DiT simplifies MMDiT.",
            constraints=["S3-DiT single-stream", "NOT: training details"],
            summary=["Translate once, then speak together.", "Spear and shield."],
            references=[{"title": "Z-Image paper", "url": "", "note": "arXiv:2511.22699"}],
            next_step="Read the next paper.",
        )
    if schema is SetupDraft:
        return SetupDraft(setup_code="import math")
    if schema is ExerciseDraft:
        return ExerciseDraft(
            instructions="Do the exercise.",
            starter_code="# TODO",
            solution_code="print(1)",
            solution_notes="Why.",
        )
    if schema is RecordDraft:
        return RecordDraft(
            concept_notes=[
                {"concept": 1, "notes": "Parameter counting; ComparisonRow MMDiT vs S3-DiT."}
            ],
            mental_models=[
                '"Translate once, then speak together"--refiner layers first, then shared.'
            ],
            analogies=['"Spear and shield" for DMD.'],
        )
    raise AssertionError(f"unexpected schema {schema.__name__} in phase {phase}")


def scripted_author(
    reviews: Sequence[ReviewerOutput | dict[str, Any]],
    sections: Callable[[list[dict[str, str]]], SectionReview | dict[str, Any]] | None = None,
) -> Callable[..., Any]:
    """The script: ``reviews[i]`` answers the i-th whole-lesson reviewer call; ``sections``
    answers each section review (default: no findings); everything else is ``author_reply``."""
    pending = list(reviews)

    def script(messages: list[dict[str, str]], schema: type, phase: str) -> Any:
        if issubclass(schema, ReviewerOutput):
            if not pending:
                raise AssertionError("the reviewer was asked more often than the test scripted")
            return pending.pop(0)
        if schema is SectionReview:
            return sections(messages) if sections is not None else SectionReview()
        return author_reply(messages, schema, phase)

    return script


PASS_REVIEW = ReviewerOutput(strengths=["Checks test comprehension."], assessment="Ready to ship.")


def _place(where: str) -> str:
    """A test's section reference as the reviewer's enum value (``4`` -> ``Section 4``)."""
    m = re.fullmatch(r"(?:section\s*)?(\d+)", where.strip(), re.IGNORECASE)
    if m:
        return f"Section {m.group(1)}"
    return where if where.startswith("Notebook cell") else "Whole lesson"


def reviewer_says(
    *findings: tuple[str, str, str], verification: Sequence[dict[str, Any]] = ()
) -> ReviewerOutput:
    """A whole-lesson reviewer reply with (severity, title, section) findings."""
    return ReviewerOutput(
        findings=[
            {
                "severity": s,
                "title": t,
                "section": _place(where),
                "issue": f"{t}: the words in {where} say so.",
                "student_impact": "Confusing.",
                "suggested_fix": "Fix it.",
            }
            for s, t, where in findings
        ],
        verification=list(verification),
        strengths=["The narrative arc is strong."],
        assessment="Needs work.",
    )
