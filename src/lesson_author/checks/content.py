"""Rules that read the lesson's content: what the student reads, section by section.

* ``mdx-component``: every JSX component the lesson uses is one the lesson format knows
  (an unknown component is a render-time error in MDX) -> CRITICAL, with its section and line;
* ``code-syntax``: a Python code block (``<CodeBlock language="python">`` or a fenced block in
  prose) that ``ast`` cannot parse -> IMPROVEMENT, with its section and the error line;
* ``degenerate-text``: a section whose prose or blocks are degenerate (loops, repeated
  sentences, placeholders; :mod:`lesson_author.text.degenerate`) -> CRITICAL, per section;
* ``empty-section``: a content or check section with a heading and nothing under it -> CRITICAL;
* coverage against the plan: ``concept-not-taught`` (a planned new concept, from the plan's
  "Connections to Prior Concepts" table, named nowhere in the lesson's sections) -> CRITICAL;
  ``misconception-unaddressed`` (no warning or negative example naming a planned misconception;
  IMPROVEMENT, POLISH when it is addressed only outside the section the plan puts it in);
  ``concept-before-taught`` (a new concept named in a section before the one the plan teaches
  it in; hooks and recaps may preview) -> POLISH (a word match cannot tell a forward
  mention from a use that needs the concept).

Word matching reads words through the one text toolkit
(:func:`lesson_author.text.words.content_words`: stemmed, stopwords out, hyphenated names as
their parts).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from lesson_author.checks import registry as R
from lesson_author.checks.inputs import ReviewInput
from lesson_author.course.models import Finding, OutlineSection, Severity
from lesson_author.lesson.lesson_doc import (
    ASIDE_TAGS,
    Aside,
    BuiltSection,
    Check,
    CodeBlock,
    ComparisonRow,
    GradientCard,
    section_role,
)
from lesson_author.lesson.mdx import _CODE, _KNOWN_TAGS
from lesson_author.text.degenerate import NO_ANSWER, Degeneracy, find_degenerate
from lesson_author.text.words import content_words


def _overlap(want: set[str], have: set[str]) -> float:
    return len(want & have) / len(want) if want else 0.0


# ---------------------------------------------------------------- sections as text


def section_pieces(section: BuiltSection) -> list[tuple[str, str, bool]]:
    """(what, text, is_code) for everything the student reads in a section."""
    pieces: list[tuple[str, str, bool]] = []
    for para in re.split(r"\n\s*\n", section.prose):
        if re.fullmatch(r"\s*</?[A-Za-z][^<>]*>\s*", para):
            continue  # a bare tag left in prose (an unknown component): markup, not text
        if para.strip():
            code = bool(re.match(r"\s*(`{3,}|~{3,})", para))
            pieces.append(("prose", para.strip(), code))
    for block in section.blocks:
        if isinstance(block, CodeBlock):
            pieces.append(("CodeBlock", block.code, True))
        elif isinstance(block, ComparisonRow):
            for side in (block.left, block.right):
                pieces.append(("ComparisonRow", " ".join([side.title, *side.items]), False))
        elif isinstance(block, GradientCard | Aside):
            tag = block.tag if isinstance(block, Aside) else "GradientCard"
            pieces.append((tag, f"{block.title}\n\n{block.body}".strip(), False))
        elif isinstance(block, Check):
            pieces.append(("check", block.question, False))
            if block.answer.strip():
                pieces.append(("check answer", block.answer, False))
    return pieces


def section_text(section: BuiltSection) -> str:
    return "\n\n".join(t for _, t, _ in section_pieces(section))


# ---------------------------------------------------------------- MDX text positions


def _headings(text: str) -> list[tuple[int, str]]:
    """(1-based line, heading) of every ``## `` heading outside fenced code."""
    found, fence = [], None
    for n, line in enumerate(text.split("\n"), start=1):
        m = re.match(r"\s*(`{3,}|~{3,})", line)
        if m:
            fence = (
                m.group(1) if fence is None else (None if line.strip().startswith(fence) else fence)
            )
            continue
        if fence is None and re.match(r"##\s+\S", line) and not line.startswith("###"):
            found.append((n, line[2:].strip()))
    return found


def _label_at(inp: ReviewInput, line: int, headings: list[tuple[int, str]]) -> str:
    before = [h for n, h in headings if n <= line]
    if not before or inp.lesson is None:
        return "Lesson header"
    index = len(before) - 1
    if index < len(inp.lesson.sections):
        return inp.lesson.sections[index].label
    return f"Section '{before[-1]}'"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


@R.check(R.MDX_COMPONENT)
def known_components(inp: ReviewInput) -> list[Finding]:
    text = inp.files.lesson_text
    if not text:
        return []
    text = text.replace("\r\n", "\n")
    code = [(m.start(), m.end()) for m in _CODE.finditer(text)]
    comments = [(m.start(), m.end()) for m in re.finditer(r"(?s)\{/\*.*?\*/\}", text)]
    headings = _headings(text)
    found: dict[str, list[int]] = {}
    for m in re.finditer(r"(?<!\\)</?([A-Z][A-Za-z0-9_.]*)", text):
        if any(a <= m.start() < b for a, b in code + comments):
            continue
        if m.group(1) not in _KNOWN_TAGS:
            found.setdefault(m.group(1), []).append(_line_of(text, m.start()))
    findings = []
    known = ", ".join(sorted(t for t in _KNOWN_TAGS if t[0].isupper()))
    for tag, lines in found.items():
        where = _label_at(inp, lines[0], headings)
        findings.append(
            R.MDX_COMPONENT.finding(
                title=f"Unknown component <{tag}>",
                location=where,
                issue=(
                    f"`{inp.files.lesson_path}` line {lines[0]} uses <{tag}>, which the lesson "
                    f"format does not provide (known: {known})."
                ),
                student_impact="The page fails to render where the component is used.",
                suggested_fix=f"Replace <{tag}> with one of the known components or plain Markdown.",
            )
        )
    return findings


# ---------------------------------------------------------------- code blocks

_PYTHON = {"python", "py", "python3", "ipython"}


def python_error(code: str) -> str | None:
    """Why ``code`` is not Python (``line N: message``), or None when it parses."""
    try:
        ast.parse(code)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        return f"line {exc.lineno}: {exc.msg}" + (f" (`{line[:80]}`)" if line else "")
    except ValueError as exc:  # e.g. null bytes
        return str(exc)
    return None


def _python_blocks(section: BuiltSection) -> Iterable[tuple[str, str]]:
    for block in section.blocks:
        if isinstance(block, CodeBlock) and block.language.strip().lower() in _PYTHON:
            yield "CodeBlock", block.code
    for m in re.finditer(
        r"(?ms)^(`{3,}|~{3,})[ \t]*(\w+)[^\n]*\n(.*?)\n?^\1[ \t]*$", section.prose
    ):
        if m.group(2).lower() in _PYTHON:
            yield "fenced block", m.group(3)


@R.check(R.CODE_SYNTAX)
def code_parses(inp: ReviewInput) -> list[Finding]:
    if inp.lesson is None:
        return []
    found = []
    for section in inp.lesson.sections:
        for what, code in _python_blocks(section):
            error = python_error(code)
            if error is None:
                continue
            found.append(
                R.CODE_SYNTAX.finding(
                    title="Python code block does not parse",
                    location=section.label,
                    issue=f"A Python {what} in this section is not valid Python: {error}.",
                    student_impact="The student copies code that does not run.",
                    suggested_fix="Fix the code so that it parses, or mark pseudocode as `text`.",
                )
            )
            break  # one per section: the identity is rule + section
    return found


# ---------------------------------------------------------------- degenerate text, empty sections


def pieces_degeneracy(pieces: list[tuple[str, str, bool]]) -> list[tuple[str, Degeneracy]]:
    """(what, reason) for each piece of a section that is degenerate; when none is, the
    repeats across its paragraphs and blocks (one prose text)."""
    reasons = [(what, r) for what, text, code in pieces for r in find_degenerate(text, code=code)]
    if not reasons:
        prose = "\n\n".join(t for _, t, code in pieces if not code)
        reasons = [("section", r) for r in find_degenerate(prose) if r.kind != "placeholder"]
    return reasons


@R.check(R.DEGENERATE_TEXT)
def degenerate_sections(inp: ReviewInput) -> list[Finding]:
    lesson = inp.lesson
    if lesson is None:
        return []
    found = []
    places: list[tuple[str, list[tuple[str, str, bool]]]] = [
        ("Lesson header", [("title", lesson.title, False), ("objective", lesson.objective, False)]),
        *((s.label, [("heading", s.heading, False), *section_pieces(s)]) for s in lesson.sections),
        ("Summary", [("summary", s, False) for s in lesson.summary]),
    ]
    for where, pieces in places:
        reasons = pieces_degeneracy(pieces)
        if not reasons:
            continue
        what, first = reasons[0]
        found.append(
            R.DEGENERATE_TEXT.finding(
                title="Degenerate text",
                location=where,
                issue=(
                    f"The {what} here is degenerate ({first.kind}: {first.detail}): "
                    f'"{first.excerpt}"'
                    + (f"; {len(reasons) - 1} more in this section" if len(reasons) > 1 else "")
                ),
                student_impact="The student reads repetition or placeholders instead of teaching.",
                suggested_fix="Rewrite the section's text from its outline entry.",
            )
        )
    return found


@R.check(R.NO_ANSWER)
def unanswered_sections(inp: ReviewInput) -> list[Finding]:
    """Places where the lesson shows NO_ANSWER: text the model could not write, which the
    student would miss. A section that is all marker is an empty section (its own rule)."""
    lesson = inp.lesson
    if lesson is None:
        return []
    places: list[tuple[str, list[str]]] = [
        ("Lesson header", [lesson.title, lesson.objective]),
        *((s.label, [s.heading, *(t for _, t, _ in section_pieces(s))]) for s in lesson.sections),
        ("Summary", list(lesson.summary)),
    ]
    empty = {s.label for s in lesson.sections if _is_empty(s)}  # reported as empty sections
    found = []
    for where, texts in places:
        times = sum(t.count(NO_ANSWER) for t in texts) if where not in empty else 0
        if not times:
            continue
        found.append(
            R.NO_ANSWER.finding(
                title="Text the model could not write",
                location=where,
                issue=f'{times} place(s) here say "{NO_ANSWER}": the model gave no usable text.',
                student_impact="The student meets a gap where the lesson should teach.",
                suggested_fix="Write the missing text from the section's outline entry.",
            )
        )
    return found


def _is_empty(section: BuiltSection) -> bool:
    """A content or check section with no text but NO_ANSWER and no blocks (practice, summary,
    references and next step carry frame blocks)."""
    prose = section.prose.strip()
    empty = (not prose or prose == NO_ANSWER) and not section.blocks
    return section.role in ("content", "check") and empty


@R.check(R.EMPTY_SECTION)
def empty_sections(inp: ReviewInput) -> list[Finding]:
    if inp.lesson is None:
        return []
    found = []
    for section in inp.lesson.sections:
        if _is_empty(section):
            found.append(
                R.EMPTY_SECTION.finding(
                    title="Empty section",
                    location=section.label,
                    issue=f'The section "{section.heading}" has a heading and no content.',
                    student_impact="The part of the lesson this section was planned to teach is missing.",
                    suggested_fix="Write the section from its outline entry.",
                )
            )
    return found


# ---------------------------------------------------------------- coverage against the plan


def _terms(concept: str) -> list[set[str]]:
    """Ways the lesson may name a planned concept, as content-word sets:
    ``"Decoupled-DMD (two-part distillation)"`` -> ``[{decoupled, dmd}, {two, part, distillation}]``."""
    concept = re.sub(r"[*`\"]", "", concept)
    parts = [concept.split("(")[0], *re.findall(r"\(([^)]*)\)", concept)]
    terms = [content_words(p) for p in parts]
    return [t for t in terms if t]


def _names(text: str, terms: list[set[str]]) -> bool:
    have = content_words(text)
    return any(t <= have for t in terms)


def new_concepts(inp: ReviewInput) -> list[str]:
    """The plan's new concepts: the "Connections to Prior Concepts" table's first column."""
    seen, found = set(), []
    for row in inp.plan.connections:
        name = row.new_concept.strip()
        if name and name.lower() not in seen:
            seen.add(name.lower())
            found.append(name)
    return found


def _teaching_sections(inp: ReviewInput) -> list[tuple[OutlineSection, BuiltSection | None]]:
    return [
        (p, b)
        for p, b in zip(inp.plan.outline, inp.aligned, strict=True)
        if section_role(p.title) == "content"
    ]


_PREVIEW = re.compile(
    r"\b(hook|context|recap|intro(duction)?|overview|motivation)\b", re.IGNORECASE
)


@R.check(R.CONCEPT_NOT_TAUGHT, R.CONCEPT_BEFORE_TAUGHT)
def concepts_taught(inp: ReviewInput) -> list[Finding]:
    lesson = inp.lesson
    if lesson is None:
        return []
    content = [s for s in lesson.sections if s.role == "content"]
    texts = {id(s): section_text(s) + "\n" + s.heading for s in content}
    found = []
    for concept in new_concepts(inp):
        terms = _terms(concept)
        if not terms:
            continue
        if not any(_names(texts[id(s)], terms) for s in content):
            planned = next(
                (p for p, _ in _teaching_sections(inp) if _names(p.title + " " + p.body, terms)),
                None,
            )
            where = (
                f"Section {planned.number} ({planned.title})"
                if planned is not None and planned.number is not None
                else "Whole lesson"
            )
            found.append(
                R.CONCEPT_NOT_TAUGHT.finding(
                    title=f"Planned concept not taught: {concept}",
                    location=where,
                    issue=f"The plan lists {concept} as a new concept; no section of the lesson names it.",
                    student_impact="The student never meets a concept the lesson exists to teach.",
                    suggested_fix=f"Teach {concept} in the section the outline plans for it.",
                )
            )
            continue
        # the section the plan teaches it in: first content section whose title names it,
        # else whose outline body names it; "used before" looks for the concept's main name
        # only (a parenthetical gloss such as "DMD + RL" is too loose to place a use)
        terms = terms[:1]
        pairs = _teaching_sections(inp)
        home = next((b for p, b in pairs if _names(p.title, terms)), None) or next(
            (b for p, b in pairs if _names(p.body, terms) and not _PREVIEW.search(p.title)), None
        )
        if home is None:
            continue
        for section in lesson.sections:
            if section is home:
                break
            if (
                section.role != "content"
                or _PREVIEW.search(section.outline_title or section.heading)
                or not _names(texts[id(section)], terms)
            ):
                continue
            found.append(
                R.CONCEPT_BEFORE_TAUGHT.finding(
                    title=f"Concept used before it is taught: {concept}",
                    location=section.label,
                    issue=(
                        f"This section uses {concept}, which the plan teaches later, in "
                        f"{home.label}."
                    ),
                    student_impact="The student meets a term before the lesson explains it.",
                    suggested_fix=(
                        f"Move the use after {home.label}, or explain {concept} briefly here."
                    ),
                )
            )
            break
    return found


_MARKER = re.compile(
    r"\b(misconception|mistake|mistaken|wrong|myth|tempting|trap|not|isn't|doesn't|don't|"
    r"never|actually|careful)\b",
    re.IGNORECASE,
)


def _addresses(section: BuiltSection, want: set[str]) -> bool:
    for what, text, code in section_pieces(section):
        if code:
            continue
        score = _overlap(want, content_words(text))
        if what == ASIDE_TAGS["warning"] and score >= 0.4:
            return True
        if score >= 0.5 and _MARKER.search(text):
            return True
    return False


def _planned_place(inp: ReviewInput, where: str) -> list[int]:
    """Indexes of outline sections a misconception's "Where to Address" names."""
    numbers = [int(n) for n in re.findall(r"\b(?:section|§)\s*#?(\d+)", where, re.IGNORECASE)]
    hits = [i for i, p in enumerate(inp.plan.outline) if p.number in numbers]
    if hits:
        return hits
    want = content_words(re.sub(r"\bsections?\b", "", where, flags=re.IGNORECASE))
    scored = [
        (_overlap(want, content_words(p.title)), i)
        for i, p in enumerate(inp.plan.outline)
        if section_role(p.title) == "content"
    ]
    best = max(scored, default=(0.0, -1))
    return [best[1]] if best[0] >= 0.5 else []


@R.check(R.MISCONCEPTION_UNADDRESSED)
def misconceptions_addressed(inp: ReviewInput) -> list[Finding]:
    lesson = inp.lesson
    if lesson is None:
        return []
    found = []
    for m in inp.plan.misconceptions:
        statement = m.misconception.strip().strip("\"'“”")
        if NO_ANSWER in statement:
            continue  # the plan has no misconception here to address; no-answer reports it
        want = content_words(statement)
        if len(want) < 2:
            continue
        places = [inp.aligned[i] for i in _planned_place(inp, m.where)]
        places = [s for s in places if s is not None]
        if any(_addresses(s, want) for s in places):
            continue
        elsewhere = next((s for s in lesson.sections if _addresses(s, want)), None)
        where = places[0].label if places else "Whole lesson"
        if elsewhere is not None:
            if not places:
                continue
            found.append(
                R.MISCONCEPTION_UNADDRESSED.finding(
                    severity=Severity.POLISH,
                    title=f"Misconception addressed away from its planned place: {statement[:80]}",
                    location=where,
                    issue=(
                        f'The plan addresses "{statement}" in {where}; the lesson does it in '
                        f"{elsewhere.label}."
                    ),
                    student_impact="The correction comes where the plan did not expect the error.",
                    suggested_fix=f"Move the warning or negative example to {where}.",
                )
            )
            continue
        found.append(
            R.MISCONCEPTION_UNADDRESSED.finding(
                title=f"Planned misconception not addressed: {statement[:80]}",
                location=where,
                issue=(
                    f'The plan expects the student to think "{statement}" and plans to address it'
                    f" ({m.where or 'no place given'}); no warning or negative example names it."
                ),
                student_impact="The student keeps the wrong idea the lesson was planned to correct.",
                suggested_fix=(
                    "Add a WarningBlock that names the misconception and gives the plan's "
                    f"negative example: {m.negative_example[:160]}"
                ),
            )
        )
    return found
