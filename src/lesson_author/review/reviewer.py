"""The LLM reviewer: it reads what the student reads.

Two kinds of call:

* **one per section** (phase ``review_section``): the section's full text as the student
  meets it (prose, code, every block: comparisons, cards, asides, checks), its outline
  entry, the misconceptions and modalities the plan puts there and the headings before
  it. The calls are independent and run up to ``run.max_concurrency`` at a time.
* **one whole-lesson pass** (phase ``review``): the section digests (heading and blocks),
  what the section calls found, the automatic checks' findings, the notebook's cells,
  and the previous iteration's findings to verify; it judges the arc (pacing, load,
  repetition across sections, the notebook against the lesson). Its ``section`` is an
  enum of the places that exist (``Section N``, ``Notebook cell N``, ``Whole lesson``):
  a constrained decoder enforces enums, so a finding cannot point nowhere.

What does not fit the provider's context window is split into parts (one call each,
"part k of n" in the prompt), never cut: a section by paragraphs and blocks, the
whole-lesson material by lines and cells; a single piece larger than a part is split
by lines, then by characters. A finding with no concrete issue (empty, degenerate,
an echo of the prompt's own words, or generic like "The module fails the student") is
dropped and counted (:attr:`ReviewerResult.dropped`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lesson_author.checks.review_checks import align_sections, modality_name
from lesson_author.course.models import Finding, LessonPlan, OutlineSection, Severity
from lesson_author.lesson.lesson_doc import (
    Aside,
    BuiltLesson,
    BuiltSection,
    Check,
    CodeBlock,
    ComparisonRow,
    GradientCard,
)
from lesson_author.lesson.schemas import (
    WHOLE_LESSON,
    FixJudgment,
    ReviewerOutput,
    SectionReview,
    reviewer_schema,
    tidy,
)
from lesson_author.llm.schema_budget import schema_token_budget
from lesson_author.text.degenerate import NO_ANSWER, degenerate, words
from lesson_author.text.words import strip_emphasis

REVIEW_SECTION = "review_section"
REVIEW_LESSON = "review"  # the whole-lesson pass keeps the phase name runs and scripts know

# prompt size estimate: characters per token, on the safe side for code and markdown
CHARS_PER_TOKEN = 3.0
# an endpoint model's window is not known here; this is what a part may use there
ENDPOINT_CONTEXT_TOKENS = 32_000
MARGIN_TOKENS = 64
MIN_ROOM_TOKENS = 120  # a part always carries at least this much of the material
CONTINUED = "(continued) "  # marks the later pieces of a piece of text split between parts

# the prompts' own words: a finding that only repeats them names nothing
_PROMPT_WORDS = (
    "the lesson fails the student",
    "the student cannot learn from it",
    "the student learns less than planned",
    "wrong or unusable",
    "unclear or missing",
    "Report only problems you can point to",
    "Read the section as the student would",
    "Judge the lesson as a whole",
)
# words that say nothing about where or what: an issue made only of these is generic
_VAGUE = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "of",
        "in",
        "on",
        "to",
        "for",
        "and",
        "or",
        "but",
        "not",
        "no",
        "with",
        "as",
        "at",
        "by",
        "from",
        "so",
        "very",
        "too",
        "more",
        "less",
        "much",
        "many",
        "some",
        "any",
        "all",
        "lesson",
        "lessons",
        "module",
        "modules",
        "section",
        "sections",
        "student",
        "students",
        "learner",
        "learners",
        "content",
        "material",
        "notebook",
        "whole",
        "overall",
        "general",
        "generally",
        "quality",
        "fails",
        "fail",
        "failing",
        "failed",
        "improvement",
        "improvements",
        "improve",
        "improved",
        "improving",
        "needs",
        "need",
        "needed",
        "should",
        "could",
        "would",
        "might",
        "may",
        "must",
        "better",
        "good",
        "bad",
        "poor",
        "weak",
        "clear",
        "unclear",
        "confusing",
        "work",
        "works",
        "working",
        "enough",
        "well",
        "fine",
        "okay",
        "ok",
        "problem",
        "problems",
        "issue",
        "issues",
        "critical",
        "polish",
        "does",
        "do",
        "doesn't",
        "don't",
        "there",
        "here",
        "which",
        "what",
        "how",
        "has",
        "have",
        "had",
        "can",
        "cannot",
        "also",
    ]
)
MIN_CONCRETE_WORDS = 3


@dataclass(frozen=True)
class Dropped:
    """A reviewer finding left out of the review, and why."""

    title: str
    location: str
    reason: str


@dataclass
class ReviewerResult:
    findings: list[Finding] = field(default_factory=list)
    verification: list[FixJudgment] = field(default_factory=list)
    strengths: list[str] = field(default_factory=list)
    assessment: str = ""
    dropped: list[Dropped] = field(default_factory=list)
    section_calls: int = 0
    lesson_calls: int = 0
    #: sections not sent to the model: the checks found them unreadable (see UNREADABLE)
    skipped: list[str] = field(default_factory=list)


#: Check rules whose CRITICAL finding at a section means there is nothing there for a reviewer
#: to judge: the section must be written again first, and revise acts on the check's finding.
#: Reviewing degenerate prose cost the embedded model most of a review's time for findings
#: that all turned out vague.
UNREADABLE = frozenset({"degenerate-text", "empty-section"})


# ---------------------------------------------------------------- what the student reads


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; a fenced code block stays in one piece."""
    out: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        if not stripped and fence is None:
            if current:
                out.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        out.append("\n".join(current))
    return [p for p in out if p.strip()]


def block_text(block: Any) -> str:
    """One content block as plain text the reviewer can read."""
    if isinstance(block, ComparisonRow):
        sides = [f"{side.title}: " + "; ".join(side.items) for side in (block.left, block.right)]
        return "[Comparison] " + " | ".join(sides)
    if isinstance(block, CodeBlock):
        name = f" ({block.filename})" if block.filename else ""
        return f"[Code{name}]\n```{block.language}\n{block.code}\n```"
    if isinstance(block, Check):
        return f"[Check] {block.question}\nAnswer: {block.answer or '(none given)'}"
    if isinstance(block, Aside):
        return f"[{block.kind.capitalize()}: {block.title}] {block.body}"
    if isinstance(block, GradientCard):
        return f"[Card: {block.title}] {block.body}"
    return str(block)


def section_units(section: BuiltSection, lesson: BuiltLesson) -> list[str]:
    """The section's text in reviewable pieces: its paragraphs, then one piece per block; a
    summary / references / next-step / practice section carries the lesson's frame content."""
    units = _paragraphs(section.prose)
    units += [block_text(b) for b in section.blocks]
    role = section.role
    if role == "summary" and not section.prose.strip():
        units += [f"- {s}" for s in lesson.summary]
    elif role == "references" and not section.prose.strip():
        units += [
            f"- {r.title}" + (f" ({r.url})" if r.url else "") + (f": {r.note}" if r.note else "")
            for r in lesson.references
        ]
    elif role == "next" and not section.prose.strip() and lesson.next_step:
        units.append(lesson.next_step)
    elif role == "practice" and lesson.notebook is not None and not section.prose.strip():
        units += [f"- [{e.level}] {e.title}: {e.task}" for e in lesson.notebook.exercises]
    return [u for u in units if u.strip()]


def place_key(section: BuiltSection) -> str:
    """The section's value in the reviewer's enum: ``Section 4`` (or its label if unnumbered)."""
    return f"Section {section.number}" if section.number is not None else section.label


# ---------------------------------------------------------------- fitting the context window


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _messages_tokens(messages: Sequence[dict[str, str]]) -> int:
    return sum(estimate_tokens(m["content"]) + 4 for m in messages)


def model_provider(provider: Any) -> Any:
    """The provider that runs the model, under the cache and usage wrappers (``.inner``)."""
    seen = 0
    while getattr(provider, "inner", None) is not None and seen < 8:
        provider, seen = provider.inner, seen + 1
    return provider


def context_tokens(run: Any) -> int:
    """The provider's context window in tokens (the embedded model's ``n_ctx``), else a
    generous figure for an endpoint model."""
    window = getattr(run, "context_window", None) or getattr(
        model_provider(run.provider), "n_ctx", None
    )
    return int(window) if isinstance(window, int) and window > 0 else ENDPOINT_CONTEXT_TOKENS


def reply_tokens(run: Any, schema: type) -> int:
    """The longest reply ``schema`` allows, as the provider decodes it (the embedded one under
    its compact caps)."""
    decoding = getattr(model_provider(run.provider), "decoding_schema", None)
    js = json.loads(decoding(schema)) if callable(decoding) else schema.model_json_schema()
    return schema_token_budget(js) or 0


def prompt_budget(run: Any, schema: type) -> int:
    """Tokens a prompt may use: the window less the reply's room (at most a third of it)."""
    window = context_tokens(run)
    reserve = min(reply_tokens(run, schema), window // 3)
    return window - reserve - MARGIN_TOKENS


def split_text(text: str, room_tokens: int) -> list[str]:
    """``text`` in pieces of at most ``room_tokens`` (estimated): by lines, then by characters.
    Nothing is dropped: the pieces hold every character of ``text``, in order (a piece ends at
    a line break where it can)."""
    limit = max(1, int(room_tokens * CHARS_PER_TOKEN))
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def pack(units: Sequence[tuple[str, str]], room_tokens: int) -> list[list[tuple[str, str]]]:
    """(group, text) units in order, in parts whose estimated size fits ``room_tokens``; a
    unit larger than a part is split (:func:`split_text`), its later pieces marked."""
    room = max(MIN_ROOM_TOKENS, room_tokens)
    pieces: list[tuple[str, str]] = []
    for group, text in units:
        split = split_text(text, room - 2 - estimate_tokens(CONTINUED))
        pieces.append((group, split[0]))
        pieces += [(group, f"{CONTINUED}{rest}") for rest in split[1:]]
    parts: list[list[tuple[str, str]]] = [[]]
    used = 0
    for group, text in pieces:
        size = estimate_tokens(text) + 2
        if parts[-1] and used + size > room:
            parts.append([])
            used = 0
        parts[-1].append((group, text))
        used += size
    return [p for p in parts if p] or [[]]


def _fitted(
    render: Callable[[list[tuple[str, str]], dict[str, int] | None], list[dict[str, str]]],
    units: Sequence[tuple[str, str]],
    budget: int,
) -> list[list[dict[str, str]]]:
    """The messages of each call: one when everything fits, else one per part."""
    whole = render(list(units), None)
    if _messages_tokens(whole) <= budget:
        return [whole]
    fixed = _messages_tokens(render([], {"index": 1, "total": 1}))
    parts = pack(units, budget - fixed)
    if len(parts) == 1:
        return [render(parts[0], None)]
    return [
        render(part, {"index": k, "total": len(parts)}) for k, part in enumerate(parts, start=1)
    ]


# ---------------------------------------------------------------- concrete findings


def vague_reason(title: str, issue: str) -> str | None:
    """Why a finding names no concrete issue (None: it does)."""
    text = " ".join(issue.split())
    if not text or text == NO_ANSWER:
        return "no issue text"
    bad = degenerate(text, echoes=_PROMPT_WORDS) or degenerate(title, echoes=_PROMPT_WORDS)
    if bad is not None:
        return f"degenerate: {bad.detail}"
    concrete = [
        w
        for w in words(f"{title} {text}".lower())
        if w.isalnum() and w not in _VAGUE and not w.isdigit()
    ]
    if len(set(concrete)) < MIN_CONCRETE_WORDS:
        return "generic: it names nothing in the lesson"
    return None


def _finding(
    severity: str, title: str, location: str, issue: str, impact: str, fix: str
) -> Finding:
    return Finding(
        severity=Severity(severity),
        title=" ".join(tidy(title).split()) or "Reviewer finding",
        location=location,
        issue=tidy(issue),
        student_impact=tidy(impact),
        suggested_fix=tidy(fix),
    )


def _keep(found: Finding, dropped: list[Dropped]) -> bool:
    reason = vague_reason(found.title, found.issue)
    if reason is None:
        return True
    dropped.append(Dropped(found.title, found.location, reason))
    return False


# ---------------------------------------------------------------- the section calls


def modalities_for(plan: LessonPlan, planned: OutlineSection) -> list[str]:
    """The plan's modalities this section carries: those whose description shares the most
    words with this section's outline entry among all content sections."""
    from lesson_author.pipeline.revise import best_section

    found = []
    for m in plan.modalities:
        best = best_section(plan, f"{modality_name(m)} {m.what}")
        if best is not None and best.number == planned.number:
            what = re.split(r"(?<=[.!?])\s", m.what.strip(), maxsplit=1)[0][:200]
            found.append(strip_emphasis(f"{modality_name(m)}: {what}".strip(": ")))
    return found


@dataclass
class _SectionJob:
    section: BuiltSection
    messages: list[dict[str, str]]


def section_jobs(
    run: Any,
    plan: LessonPlan,
    lesson: BuiltLesson,
    title: str,
    skip: frozenset[str] = frozenset(),
) -> list[_SectionJob]:
    """Every section call (one per non-empty section; more when a section must be split).
    Sections whose label is in ``skip`` are not reviewed."""
    from lesson_author.pipeline.lesson_writer import misconceptions_for

    planned_of: dict[int, OutlineSection] = {}
    for planned, built in zip(plan.outline, align_sections(plan.outline, lesson), strict=True):
        if built is not None:
            planned_of[id(built)] = planned
    budget = prompt_budget(run, SectionReview)
    jobs: list[_SectionJob] = []
    for i, section in enumerate(lesson.sections):
        units = section_units(section, lesson)
        if not units or section.label in skip:  # the checks' findings speak for these
            continue
        planned = planned_of.get(id(section))
        context = {
            "lesson": {"title": title, "slug": lesson.slug},
            "target_concept": plan.target_concept,
            "previous_headings": [s.heading for s in lesson.sections[:i]],
            "section": {
                "title": f"{planned.number}. {planned.title}"
                if planned is not None and planned.number is not None
                else section.outline_title or section.heading,
                "plan": planned.body.strip() if planned is not None else "(not in the plan)",
            },
            "misconceptions": [
                strip_emphasis(m.misconception) for m in misconceptions_for(plan, planned)
            ]
            if planned is not None
            else [],
            "modalities": modalities_for(plan, planned) if planned is not None else [],
        }

        def render(
            part: list[tuple[str, str]], label: dict[str, int] | None, context=context
        ) -> list[dict[str, str]]:
            return run.messages(
                "review_section.md.j2",
                **context,
                text="\n\n".join(t for _, t in part),
                part=label,
            )

        for messages in _fitted(render, [("text", u) for u in units], budget):
            jobs.append(_SectionJob(section, messages))
    return jobs


def review_sections(
    run: Any,
    plan: LessonPlan,
    lesson: BuiltLesson,
    title: str,
    result: ReviewerResult,
    deterministic: Sequence[Finding] = (),
) -> None:
    from lesson_author.pipeline.concurrency import map_in_order

    unreadable = frozenset(
        f.location
        for f in deterministic
        if f.rule in UNREADABLE and f.severity is Severity.CRITICAL
    )
    result.skipped = [s.label for s in lesson.sections if s.label in unreadable]
    jobs = section_jobs(run, plan, lesson, title, unreadable)
    replies = map_in_order(
        lambda job: run.complete(job.messages, SectionReview, phase=REVIEW_SECTION),
        jobs,
        workers=run.max_concurrency,
    )
    result.section_calls = len(jobs)
    for job, reply in zip(jobs, replies, strict=True):
        for f in reply.findings:
            found = _finding(f.severity, f.title, job.section.label, f.issue, "", f.suggested_fix)
            if _keep(found, result.dropped):
                result.findings.append(found)


# ---------------------------------------------------------------- the whole-lesson pass


def notebook_cells(notebook_text: str | None) -> list[str]:
    """``Notebook cell N (code): source`` for each cell of a readable notebook, 1-based in file
    order (the cell numbers the notebook checks use)."""
    if not notebook_text:
        return []
    from lesson_author.lesson.notebook import NotebookInvalid, parse_notebook

    try:
        nb = parse_notebook(notebook_text)
    except NotebookInvalid:
        return []  # the checks report an invalid notebook
    cells = []
    for n, cell in enumerate(nb.cells, start=1):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        cells.append(f"Notebook cell {n} ({cell.cell_type}):\n{src.strip() or '(empty)'}")
    return cells


def _digest(section: BuiltSection) -> str:
    kinds = []
    for b in section.blocks:
        name = getattr(b, "title", "") or (
            f"{b.left.title} vs {b.right.title}" if isinstance(b, ComparisonRow) else ""
        )
        kinds.append(f"{b.kind}{f' {name!r}' if name else ''}")
    return f"{place_key(section)}: {section.heading}" + (f" [{', '.join(kinds)}]" if kinds else "")


def _line(f: Finding) -> str:
    return f"[{f.severity.value}] {f.title} ({f.location}): {f.issue}"


def review_whole(
    run: Any,
    plan: LessonPlan,
    lesson: BuiltLesson | None,
    title: str,
    *,
    iteration: int,
    of: int,
    deterministic: Sequence[Finding],
    previous: Sequence[Finding],
    notebook_text: str | None,
    result: ReviewerResult,
) -> None:
    sections = lesson.sections if lesson is not None else []
    cells = notebook_cells(notebook_text)
    places = {place_key(s): s.label for s in sections}
    places.update({c.split(" (", 1)[0]: c.split(" (", 1)[0] for c in cells})
    schema = reviewer_schema(tuple(places), len(previous))
    units: list[tuple[str, str]] = [("digests", _digest(s)) for s in sections] or [
        ("digests", "(the lesson file is missing)")
    ]
    units += [("section_findings", _line(f)) for f in result.findings]
    units += [("deterministic", _line(f)) for f in deterministic]
    units += [("cells", c) for c in cells]
    context = {
        "lesson": {"title": title, "slug": lesson.slug if lesson else plan.slug},
        "iteration": iteration,
        "of": of,
        "target_concept": plan.target_concept,
        "modalities": [strip_emphasis(modality_name(m)) for m in plan.modalities],
        "previous": [f"{k}. {_line(f)}" for k, f in enumerate(previous, start=1)],
    }

    def render(part: list[tuple[str, str]], label: dict[str, int] | None) -> list[dict[str, str]]:
        groups: dict[str, list[str]] = {
            "digests": [],
            "section_findings": [],
            "deterministic": [],
            "cells": [],
        }
        for group, text in part:
            groups[group].append(text)
        return run.messages("review_lesson.md.j2", **context, **groups, part=label)

    calls = _fitted(render, units, prompt_budget(run, schema))
    result.lesson_calls = len(calls)
    judged: dict[int, FixJudgment] = {}
    for messages in calls:
        reply: ReviewerOutput = run.complete(messages, schema, phase=REVIEW_LESSON)
        for f in reply.findings:
            location = places.get(f.section, WHOLE_LESSON)
            found = _finding(
                f.severity, f.title, location, f.issue, f.student_impact, f.suggested_fix
            )
            if _keep(found, result.dropped):
                result.findings.append(found)
        for j in reply.verification:
            if not 1 <= j.finding <= len(previous):
                continue
            seen = judged.get(j.finding)
            if seen is None or (seen.fixed and not j.fixed):  # any part that sees it open wins
                judged[j.finding] = j
        result.strengths += [s for s in reply.strengths if s.strip()]
        if reply.assessment.strip():
            result.assessment = " ".join(x for x in (result.assessment, reply.assessment) if x)
    result.verification = [judged[k] for k in sorted(judged)]
    result.strengths = list(dict.fromkeys(result.strengths))


def review_content(
    run: Any,
    plan: LessonPlan,
    lesson: BuiltLesson | None,
    *,
    title: str,
    iteration: int,
    of: int,
    deterministic: Sequence[Finding],
    previous: Sequence[Finding],
    notebook_text: str | None,
) -> ReviewerResult:
    """The reviewer's findings on the lesson as written: the section calls, then the
    whole-lesson pass over their findings (see the module docstring)."""
    result = ReviewerResult()
    if lesson is not None:
        review_sections(run, plan, lesson, title, result, deterministic)
    review_whole(
        run,
        plan,
        lesson,
        title,
        iteration=iteration,
        of=of,
        deterministic=deterministic,
        previous=previous,
        notebook_text=notebook_text,
        result=result,
    )
    return result
