"""Keep the derived parts of the records true: statuses, counts and review lines.

What is derived, and from what:

* a module record's ``**Status:**`` line: ``Complete (4 of 4 lessons built)`` /
  ``In progress (3 of 4 lessons built)`` / ``Not started (0 of 4 lessons built)``,
  counting the lessons the series plan lists for that module against those the
  record has a per-lesson summary or concept rows for;
* each per-lesson summary's ``**Review:**`` line and the ``- Iteration N: ...``
  bullets of its ``**Review notes:**``, from the ``## Review`` sections of that
  lesson's planning document (verdict computed from the findings);
* the ``Lessons`` and ``Status`` cells of the module tables in ``course.md`` and
  in the series plans, the ``Status`` cells of ``course.md``'s series table and
  each series plan's ``**Status:**`` line.

**The author's wording wins while it is true.**  A derived line is rewritten
only when the facts it states (verdict, iteration, counts per severity, built
and planned lesson counts, complete or not) disagree with the records; it is
then written in the canonical form (:func:`review_line`,
:func:`review_note_bullet`, :attr:`ModuleProgress.status_line`), which states
the facts, so a second run changes nothing.  ``Passed at iteration 2/3.
Iteration 1 had 2 improvement findings ...`` stays; ``PASS on iteration 2/3
(iteration 1 had 3 IMPROVEMENT ...)`` when iteration 1 also had a CRITICAL
does not.  Once a line states any count for an iteration, a severity it leaves
out means 0; counts about other iterations (``4 of 5 improvement findings
fixed``, ``3 polish items retained``) are not read as counts.

Missing derived lines are added: a record's ``**Status:**`` line, and the
``**Review:**`` line and review-notes bullets of a summary written in the
structured (seed) format, i.e. one that opens with ``**Label:** value`` lines.
Free-form summaries never get lines added.  Everything else in a file is kept
byte for byte (line endings and BOM included): the edits are made on the text,
line by line, never by re-rendering the file.

:func:`upsert_lesson` is the model-level half used by the pipeline's record
step: it puts one lesson's concept rows and summary into a module record.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lesson_author.course.markdown import Fences
from lesson_author.course.models import (
    ConceptRow,
    Finding,
    LessonPlan,
    LessonSummary,
    ModuleRecord,
    Review,
    Severity,
    Verdict,
    verdict_for,
)
from lesson_author.course.tree import CourseTree, lesson_slugs, write_atomic

SEVERITY_ORDER = (Severity.CRITICAL, Severity.IMPROVEMENT, Severity.POLISH)
COUNT = re.compile(
    r"\b(\d+)\s+(?:[a-z-]+\s+){0,2}?(critical|improvements?|polish(?:es)?)\b", re.IGNORECASE
)
ITERATION = re.compile(r"\biteration\s+(\d+)(?:\s*/\s*(\d+))?", re.IGNORECASE)
BOLD_LABEL = re.compile(r"^\*\*([^*\n]+?):?\*\*:?")
REVIEW_LINE = re.compile(r"^\*\*Review:?\*\*:?[ \t]*", re.IGNORECASE)
REVIEW_NOTES = re.compile(r"^\*\*Review notes:?\*\*:?", re.IGNORECASE)
STATUS_LINE = re.compile(r"^\*\*Status:?\*\*:?[ \t]*", re.IGNORECASE)
ITERATION_BULLET = re.compile(r"^\s*[-*]\s+\**\s*Iteration\s+(\d+)\b", re.IGNORECASE)
HEADING = re.compile(r"^(#{1,6})\s")
MODULE_ID = re.compile(r"\d+\.\d+")


# ---------------------------------------------------------------- facts


@dataclass
class ModuleProgress:
    """Built vs planned lessons of one module."""

    module: str
    planned: list[str]
    built: list[str]
    known: bool = True  # False: the tree has no record for the module, so "built" is unknown

    @property
    def total(self) -> int:
        return len(self.planned)

    @property
    def complete(self) -> bool:
        return self.total > 0 and len(self.built) == self.total

    @property
    def lessons_text(self) -> str:
        return f"{len(self.built)} of {self.total}"

    @property
    def status_line(self) -> str:
        """The record's canonical status: ``Complete (4 of 4 lessons built)``."""
        return (
            f"{record_status_word(len(self.built), self.total)} ({self.lessons_text} lessons built)"
        )

    @property
    def table_status(self) -> str:
        return table_status_word(len(self.built), self.total)


def record_status_word(built: int, total: int) -> str:
    if total and built >= total:
        return "Complete"
    return "In progress" if built else "Not started"


def table_status_word(built: int, total: int) -> str:
    if total and built >= total:
        return "complete"
    return "in progress" if built else "planned"


def recorded_lessons(record: ModuleRecord | None) -> set[str]:
    """Lessons a module record has a per-lesson summary or concept rows for."""
    if record is None:
        return set()
    return {s.slug for s in record.summaries} | {
        slug for row in record.concepts for slug in lesson_slugs(row.lesson)
    }


def module_progress(tree: CourseTree) -> dict[str, ModuleProgress]:
    """Progress of every module that has planned lessons, in module order."""
    planned: dict[str, list[str]] = {}
    for loc in tree.lessons_in_order():
        planned.setdefault(loc.module, []).append(loc.slug)
    result = {}
    for module, slugs in planned.items():
        record = tree.module_record(module)
        recorded = recorded_lessons(record)
        built = [s for s in slugs if s in recorded]
        result[module] = ModuleProgress(module, slugs, built, known=record is not None)
    return result


@dataclass
class IterationFacts:
    """One review iteration as the planning document records it."""

    number: int
    of: int
    counts: dict[Severity, int]
    verdict: Verdict
    findings: list[Finding] = field(default_factory=list)

    def counts_text(self, sep: str = " + ") -> str:
        parts = [f"{self.counts[s]} {s.value}" for s in SEVERITY_ORDER if self.counts[s]]
        return sep.join(parts) if parts else "no findings"


def review_facts(plan: LessonPlan) -> list[IterationFacts]:
    """The planning document's review iterations, counts and verdicts computed from findings."""
    facts = []
    for i, review in enumerate(plan.reviews, start=1):
        facts.append(_iteration_facts(review, i))
    return facts


def _iteration_facts(review: Review, index: int) -> IterationFacts:
    if review.findings:
        counts = {s: sum(1 for f in review.findings if f.severity is s) for s in SEVERITY_ORDER}
    else:
        counts = {s: int(review.counts.get(s, 0)) for s in SEVERITY_ORDER}
    verdict = verdict_for(s for s, n in counts.items() for _ in range(n))
    return IterationFacts(
        number=review.iteration or index,
        of=review.of or 3,
        counts=counts,
        verdict=verdict,
        findings=list(review.findings),
    )


def review_line(facts: list[IterationFacts]) -> str:
    """The canonical ``**Review:**`` text, e.g.
    ``PASS on iteration 2/3 (iteration 1 had 1 CRITICAL + 3 IMPROVEMENT + 2 POLISH, all fixed;
    iteration 2 found only 2 POLISH)``."""
    last = facts[-1]
    head = f"{last.verdict.value} on iteration {last.number}/{last.of}"
    clauses = [f"iteration {f.number} had {f.counts_text()}" for f in facts[:-1]]
    if clauses and last.verdict is Verdict.PASS:
        clauses[-1] += ", all fixed"
    if any(last.counts.values()):
        if last.verdict is Verdict.PASS:
            clauses.append(f"iteration {last.number} found only {last.counts_text()}")
        else:
            clauses.append(f"iteration {last.number} found {last.counts_text()}, open")
    return f"{head} ({'; '.join(clauses)})" if clauses else head


MAX_BULLET_TITLES = 6


def _titles_text(titles: list[str]) -> str:
    """Finding titles for a review bullet: a title found N times once, as ``title xN`` (a
    list of the same title repeated reads as a loop, and is one), at most MAX_BULLET_TITLES."""
    counts: dict[str, int] = {}
    for title in titles:
        counts[title] = counts.get(title, 0) + 1
    shown = [f"{t} x{n}" if n > 1 else t for t, n in list(counts.items())[:MAX_BULLET_TITLES]]
    more = len(counts) - MAX_BULLET_TITLES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def review_note_bullet(f: IterationFacts) -> str:
    """``- Iteration 1: MAJOR REVISION--1 critical (Notebook missing), 0 improvement, 2 polish (...)``."""
    parts = []
    for s in SEVERITY_ORDER:
        titles = _titles_text([x.title for x in f.findings if x.severity is s])
        part = f"{f.counts[s]} {s.value.lower()}"
        if titles:
            part += f" ({titles})"
        parts.append(part)
    return f"- Iteration {f.number}: {f.verdict.value}--{', '.join(parts)}"


# ---------------------------------------------------------------- reading the facts a line states


def first_verdict(text: str) -> Verdict | None:
    """The verdict a text names first (``Passed at ...`` reads as PASS)."""
    upper = text.upper()
    hits = []
    for v in Verdict:
        pos = upper.find(v.value)
        if pos >= 0:
            hits.append((pos, -len(v.value), v))
    return min(hits)[2] if hits else None


def _severity(word: str) -> Severity:
    w = word.lower()
    if w.startswith("crit"):
        return Severity.CRITICAL
    if w.startswith("impr"):
        return Severity.IMPROVEMENT
    return Severity.POLISH


NOT_A_COUNT_BEFORE = re.compile(r"\bof\s+$", re.IGNORECASE)
NOT_A_COUNT_AFTER = re.compile(
    r"^\s*(?:findings?|items?)?\s*(?:were\s+|was\s+|all\s+)?"
    r"(?:fixed|resolved|retained|remaining|carried|addressed)\b",
    re.IGNORECASE,
)


def stated_counts(text: str) -> dict[Severity, int]:
    """``{IMPROVEMENT: 3, POLISH: 2}`` from ``3 IMPROVEMENT + 2 POLISH`` or ``2 minor polish
    findings`` (counts written in digits; up to two words between number and severity).

    Counts about other iterations' findings are not this iteration's counts and are
    skipped: ``4 of 5 improvement findings fixed``, ``3 polish items retained``.
    """
    found: dict[Severity, int] = {}
    for m in COUNT.finditer(text):
        if NOT_A_COUNT_BEFORE.search(text[: m.start()]) or NOT_A_COUNT_AFTER.match(text[m.end() :]):
            continue
        found.setdefault(_severity(m.group(2)), int(m.group(1)))
    return found


def _counts_agree(stated: dict[Severity, int], actual: dict[Severity, int]) -> bool:
    """Stated counts must match; once any count is stated, an unstated severity means 0."""
    if not stated:
        return True
    return all(stated.get(s, 0) == actual[s] for s in SEVERITY_ORDER)


def review_line_is_true(text: str, facts: list[IterationFacts]) -> bool:
    """Does an author's ``**Review:**`` text state the same facts as the planning document?"""
    last = facts[-1]
    if first_verdict(text) is not last.verdict:
        return False
    by_number = {f.number: f for f in facts}
    matches = list(ITERATION.finditer(text))
    if not matches:
        return False
    first = matches[0]
    if int(first.group(1)) != last.number or (first.group(2) and int(first.group(2)) != last.of):
        return False
    for i, m in enumerate(matches):
        number = int(m.group(1))
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        segment = text[m.end() : end]
        if number not in by_number:
            return False
        if not _counts_agree(stated_counts(segment), by_number[number].counts):
            return False
    return True


def bullet_is_true(text: str, f: IterationFacts) -> bool:
    """Does an ``- Iteration N: ...`` bullet state the same verdict and counts as iteration N?"""
    body = ITERATION_BULLET.sub("", text, count=1)
    stated = first_verdict(body)
    if stated is not None and stated is not f.verdict:
        return False
    return _counts_agree(stated_counts(body), f.counts)


UNKNOWN_SCOPE = re.compile(
    r"\?|open[- ]ended|no fixed|not fixed|ongoing|unbounded|\btbd\b|to be decided", re.IGNORECASE
)


def open_scope_is_true(text: str, built: int) -> bool:
    """A status of a module or series without a fixed scope (``1 of ? lessons built --
    open-ended``): the planned lessons are no total, so only a stated built count can be
    false."""
    m = re.search(r"(\d+)\s+of\s+\?", text)
    return m is None or int(m.group(1)) == built


def status_line_is_true(text: str, built: int, total: int) -> bool:
    """Does a status text (``Complete (6 lessons)``, ``3 of 4``) agree with built/total?

    Only what the text states and the records contradict is false: a scope the
    text leaves open (``?``, ``open-ended``) is not a claim of completeness.
    """
    if UNKNOWN_SCOPE.search(text):
        return open_scope_is_true(text, built)
    if says_complete(text) != (total > 0 and built >= total):
        return False
    return lessons_count_is_true(text, built, total, required=False)


def says_complete(text: str) -> bool:
    lower = text.lower()
    return bool(re.search(r"(?<!in)complete", lower)) and "not complete" not in lower


def lessons_count_is_true(text: str, built: int, total: int, *, required: bool = True) -> bool:
    """``k of N`` must say built and planned; a bare ``N`` (``2``, ``2 (complete)``) must be
    the planned count.  A cell that states no count is not false (unknown is not false);
    an empty one, where a count is ``required``, is filled in."""
    if UNKNOWN_SCOPE.search(text):
        return open_scope_is_true(text, built)
    m = re.search(r"(\d+)\s+of\s+(\d+)", text)
    if m:
        return int(m.group(1)) == built and int(m.group(2)) == total
    m = re.search(r"(\d+)\s+lessons?\b", text) or (
        re.match(r"\s*(\d+)\b", text) if required else None
    )
    if m:
        return int(m.group(1)) == total
    return not required or bool(text.strip())  # an empty cell is filled in


# ---------------------------------------------------------------- text surgery


class _Text:
    """A file's lines with their endings; edits keep every untouched byte."""

    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)
        self.eol = "\r\n" if self.lines and self.lines[0].endswith("\r\n") else "\n"

    def __str__(self) -> str:
        return "".join(self.lines)

    def body(self, i: int) -> str:
        body = self.lines[i].rstrip("\r\n")
        return body.removeprefix("\ufeff") if i == 0 else body

    def ending(self, i: int) -> str:
        line = self.lines[i]
        return line[len(line.rstrip("\r\n")) :] or self.eol

    def headings(self) -> dict[int, int]:
        """Line index -> level of every ATX heading outside code fences."""
        found: dict[int, int] = {}
        fences = Fences()
        for i in range(len(self.lines)):
            body = self.body(i)
            if fences.fence_line(body):
                continue
            if not fences.inside:
                h = HEADING.match(body)
                if h:
                    found[i] = len(h.group(1))
        return found

    def replace(self, i: int, body: str) -> None:
        bom = "\ufeff" if i == 0 and self.lines[0].startswith("\ufeff") else ""
        self.lines[i] = bom + body + self.ending(i)

    def insert(self, i: int, bodies: Iterable[str]) -> None:
        if i > 0 and not self.lines[i - 1].endswith(("\n", "\r")):
            self.lines[i - 1] += self.eol
        self.lines[i:i] = [b + self.eol for b in bodies]


def _split_cells(line: str) -> tuple[list[str], int, int]:
    """The ``|``-separated parts of a table row and the [first, stop) range of its cells."""
    parts = re.split(r"(?<!\\)\|", line)
    first = 1 if parts and not parts[0].strip() else 0
    stop = len(parts) - 1 if len(parts) > 1 and not parts[-1].strip() else len(parts)
    return parts, first, stop


def _cell(line: str, column: int) -> str | None:
    parts, first, stop = _split_cells(line)
    index = first + column
    return parts[index].strip() if index < stop else None


def _set_cell(line: str, column: int, value: str) -> str:
    """``line`` with one cell's content replaced, its padding and every other byte kept."""
    parts, first, stop = _split_cells(line)
    index = first + column
    if index >= stop:
        return line
    old = parts[index]
    lead = old[: len(old) - len(old.lstrip())] or " "
    trail = old[len(old.rstrip()) :] or " "
    parts[index] = f"{lead}{value}{trail}"
    return "|".join(parts)


def _tables(doc: _Text) -> list[tuple[list[str], list[int]]]:
    """(header cells lowercased, row line indexes) of every pipe table."""
    tables = []
    i = 0
    n = len(doc.lines)
    while i < n:
        if (
            doc.body(i).lstrip().startswith("|")
            and i + 1 < n
            and re.match(r"^\s*\|?\s*:?-{2,}", doc.body(i + 1))
        ):
            parts, first, stop = _split_cells(doc.body(i))
            header = [c.strip().strip("*").lower() for c in parts[first:stop]]
            rows = []
            j = i + 2
            while j < n and doc.body(j).lstrip().startswith("|"):
                rows.append(j)
                j += 1
            tables.append((header, rows))
            i = j
        else:
            i += 1
    return tables


def _col(header: list[str], name: str) -> int | None:
    for i, h in enumerate(header):
        if h == name:
            return i
    return None


def _fix_module_tables(doc: _Text, progress: dict[str, ModuleProgress]) -> None:
    """``| Module | Title | Lessons | Status |`` tables: Lessons and Status cells."""
    for header, rows in _tables(doc):
        mcol, lcol, scol = _col(header, "module"), _col(header, "lessons"), _col(header, "status")
        if mcol is None or (lcol is None and scol is None):
            continue
        for i in rows:
            line = doc.body(i)
            cell = _cell(line, mcol) or ""
            m = MODULE_ID.search(cell)
            p = progress.get(m.group(0)) if m else None
            if p is None or not p.known:
                continue
            built = len(p.built)
            if lcol is not None:
                current = _cell(line, lcol)
                if current is not None and not lessons_count_is_true(current, built, p.total):
                    line = _set_cell(line, lcol, p.lessons_text)
            if scol is not None:
                current = _cell(line, scol)
                if current is not None and not status_line_is_true(current, built, p.total):
                    line = _set_cell(line, scol, p.table_status)
            if line != doc.body(i):
                doc.replace(i, line)


def _series_progress(progress: dict[str, ModuleProgress], series: str) -> tuple[int, int] | None:
    mods = [p for m, p in progress.items() if m.split(".")[0] == series]
    if not mods or not all(p.known for p in mods):
        return None  # a module without a record: the series' progress is unknown
    return sum(len(p.built) for p in mods), sum(p.total for p in mods)


def _fix_series_table(doc: _Text, progress: dict[str, ModuleProgress]) -> None:
    """``course.md``'s ``| Series | Title | Status |`` table: Status cells."""
    for header, rows in _tables(doc):
        scol_series, scol = _col(header, "series"), _col(header, "status")
        if scol_series is None or scol is None:
            continue
        for i in rows:
            line = doc.body(i)
            number = re.search(r"\d+", _cell(line, scol_series) or "")
            counts = _series_progress(progress, str(int(number.group(0)))) if number else None
            current = _cell(line, scol)
            if counts is None or current is None:
                continue
            built, total = counts
            if UNKNOWN_SCOPE.search(current):
                continue
            if says_complete(current) != (total > 0 and built >= total):
                doc.replace(i, _set_cell(line, scol, table_status_word(built, total)))


def _header_end(doc: _Text) -> int:
    """Index of the document's first section heading after its title (end of the header)."""
    return next((i for i in doc.headings() if i > 0), len(doc.lines))


def _header_status_index(doc: _Text) -> int | None:
    """The ``**Status:**`` line of a document's header (before its first section)."""
    return next((i for i in range(_header_end(doc)) if STATUS_LINE.match(doc.body(i))), None)


def _fix_header_status(doc: _Text, built: int, total: int, canonical: str, insert: bool) -> None:
    i = _header_status_index(doc)
    if i is not None:
        body = doc.body(i)
        label = STATUS_LINE.match(body).group(0)  # type: ignore[union-attr]
        if not status_line_is_true(body[len(label) :], built, total):
            doc.replace(i, f"**Status:** {canonical}")
        return
    if not insert:
        return
    # after the header's last bold label line (e.g. **Goal:**), else after the title
    at = None
    for j in range(_header_end(doc)):
        if BOLD_LABEL.match(doc.body(j)):
            at = j + 1
    if at is None:
        at = 1 if doc.lines and doc.body(0).startswith("#") else 0
        doc.insert(at, ["", f"**Status:** {canonical}"])
    else:
        doc.insert(at, [f"**Status:** {canonical}"])


# ---------------------------------------------------------------- per-lesson summaries


def _slug_pattern(slug: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9-]){re.escape(slug)}(?![a-z0-9-])")


def _summary_block(doc: _Text, summary: LessonSummary) -> tuple[int, int] | None:
    """[start, end) line indexes of a per-lesson summary: its heading to the next heading
    of the same or a higher level."""
    headings = doc.headings()
    pattern = _slug_pattern(summary.slug)
    start = None
    if (
        summary.line
        and (summary.line - 1) in headings
        and pattern.search(doc.body(summary.line - 1))
    ):
        start = summary.line - 1
    if start is None:
        start = next(
            (i for i, level in headings.items() if level >= 3 and pattern.search(doc.body(i))), None
        )
    if start is None:
        return None
    level = headings[start]
    end = next((i for i, lv in headings.items() if i > start and lv <= level), len(doc.lines))
    return start, end


def _header_run_end(doc: _Text, start: int, end: int) -> int | None:
    """Index after the summary's leading ``**Label:** value`` lines; None when it has none."""
    j = start + 1
    last = None
    while j < end and BOLD_LABEL.match(doc.body(j)) and not doc.body(j).rstrip().endswith(":**"):
        last = j
        j += 1
    return None if last is None else last + 1


def _fix_summary(doc: _Text, summary: LessonSummary, facts: list[IterationFacts]) -> None:
    block = _summary_block(doc, summary)
    if block is None:
        return
    start, end = block
    header_end = _header_run_end(doc, start, end)
    structured = header_end is not None

    # the **Review:** line
    line_text = review_line(facts)
    review_at = next(
        (
            i
            for i in range(start + 1, end)
            if REVIEW_LINE.match(doc.body(i)) and not REVIEW_NOTES.match(doc.body(i))
        ),
        None,
    )
    if review_at is not None:
        body = doc.body(review_at)
        label = REVIEW_LINE.match(body).group(0)  # type: ignore[union-attr]
        if not review_line_is_true(body[len(label) :], facts):
            doc.replace(review_at, f"**Review:** {line_text}")
    elif structured:
        doc.insert(header_end, [f"**Review:** {line_text}"])  # type: ignore[arg-type]
        end += 1

    # the iteration bullets of **Review notes:**
    notes_at = next((i for i in range(start + 1, end) if REVIEW_NOTES.match(doc.body(i))), None)
    if notes_at is None:
        if not structured:
            return
        last = end - 1
        while last > start and not doc.body(last).strip():
            last -= 1
        doc.insert(last + 1, ["", "**Review notes:**", *(review_note_bullet(f) for f in facts)])
        return
    part_end = end
    for j in range(notes_at + 1, end):
        if BOLD_LABEL.match(doc.body(j)):
            part_end = j
            break
    _fix_bullets(doc, notes_at, part_end, facts)


def _fix_bullets(doc: _Text, notes_at: int, part_end: int, facts: list[IterationFacts]) -> None:
    """Keep true iteration bullets, rewrite false ones, drop ones for iterations that never
    ran, add missing ones after the previous iteration's bullet."""
    by_number = {f.number: f for f in facts}
    bullets: list[tuple[int, int, int]] = []  # (number, first line, end line)
    j = notes_at + 1
    while j < part_end:
        m = ITERATION_BULLET.match(doc.body(j))
        if not m:
            j += 1
            continue
        k = j + 1
        while (
            k < part_end
            and doc.body(k).strip()
            and not re.match(r"^\s*[-*]\s", doc.body(k))
            and doc.body(k).startswith((" ", "\t"))
        ):
            k += 1
        bullets.append((int(m.group(1)), j, k))
        j = k
    # plan edits bottom-up so indexes stay valid
    edits: list[tuple[int, int, list[str]]] = []  # (start, end, new bodies)
    seen: dict[int, int] = {}
    for number, first, stop in bullets:
        f = by_number.get(number)
        text = " ".join(doc.body(x).strip() for x in range(first, stop))
        if f is None or number in seen:
            edits.append((first, stop, []))
            continue
        seen[number] = stop
        if not bullet_is_true(text, f):
            edits.append((first, stop, [review_note_bullet(f)]))
    if bullets:
        anchor = notes_at + 1
    else:  # prose only: the bullets go after it
        anchor = part_end
        while anchor > notes_at + 1 and not doc.body(anchor - 1).strip():
            anchor -= 1
    for f in facts:
        if f.number in seen:
            anchor = seen[f.number]
            continue
        edits.append((anchor, anchor, [review_note_bullet(f)]))
    for first, stop, bodies in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        del doc.lines[first:stop]
        if bodies:
            doc.insert(first, bodies)


# ---------------------------------------------------------------- public API


def _record_text(
    tree: CourseTree, module: str, progress: ModuleProgress | None
) -> tuple[Path, str, str] | None:
    path = tree.record_path(module)
    record = tree.module_record(module)
    if record is None:
        return None
    old = _read(path)
    doc = _Text(old)
    # bottom-up, so that lines added to one summary do not move the ones above it
    for summary in reversed(record.summaries):
        if not _is_slug(summary.slug):
            continue
        plan_path = tree.module_lesson_path(module, summary.slug)
        if not plan_path.is_file():
            continue
        facts = review_facts(tree.lesson_plan_at(plan_path))
        if facts:
            _fix_summary(doc, summary, facts)
    if progress is not None and progress.total:
        _fix_header_status(
            doc, len(progress.built), progress.total, progress.status_line, insert=True
        )
    return path, old, str(doc)


def _read(path: Path) -> str:
    """The file's exact text (no newline translation, BOM kept), for byte-exact edits."""
    return path.read_bytes().decode("utf-8")


def _is_slug(text: str) -> bool:
    return re.fullmatch(r"[a-z0-9][a-z0-9-]*", text) is not None


def regenerate(tree: CourseTree) -> dict[Path, str]:
    """The new text of every file whose derived parts are stale (nothing is written).

    Parses every file it needs first, so a file that cannot be read raises a
    :class:`~lesson_author.errors.RecordsError` before anything is computed.
    """
    progress = module_progress(tree)
    changed: dict[Path, str] = {}

    def keep(path: Path, old: str, new: str) -> None:
        if new != old:
            changed[path] = new

    for module in tree.planned_modules():
        result = _record_text(tree, module, progress.get(module))
        if result is not None:
            keep(*result)

    for path, _plan in tree.series_plans():
        series = path.parent.name.split("-", 1)[1]
        old = _read(path)
        doc = _Text(old)
        _fix_module_tables(doc, progress)
        counts = _series_progress(progress, series)
        if counts is not None:
            built, total = counts
            word = record_status_word(built, total)
            _fix_header_status(doc, built, total, word, insert=False)
        keep(path, old, str(doc))

    if tree.course() is not None:
        path = tree.course_path
        old = _read(path)
        doc = _Text(old)
        _fix_module_tables(doc, progress)
        _fix_series_table(doc, progress)
        keep(path, old, str(doc))
    return changed


def write_regenerated(tree: CourseTree) -> list[Path]:
    """Regenerate and write every stale file atomically; the paths written, in order."""
    changes = regenerate(tree)
    for path, text in changes.items():
        write_atomic(path, text)
    return list(changes)


def stale_diff(tree: CourseTree) -> str:
    """A unified diff of what :func:`regenerate` would change; ``""`` when the records are fresh."""
    out = []
    for path, new in regenerate(tree).items():
        old = _read(path)
        try:
            name = path.relative_to(tree.root).as_posix()
        except ValueError:
            name = path.as_posix()
        out.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def upsert_lesson(
    record: ModuleRecord, slug: str, concepts: list[ConceptRow], summary: LessonSummary
) -> ModuleRecord:
    """``record`` with ``slug``'s concept rows and per-lesson summary put in (a new model).

    The lesson's existing rows are replaced where the first of them stood; a lesson
    new to the record goes after the last row (and summary) of the lessons before
    it (by the summaries' lesson numbers; at the end when they have none).  Rows
    and summaries of other lessons are the same objects' copies, untouched, so
    they render to the same bytes.
    """
    new = record.model_copy(deep=True)
    rows = [r.model_copy(update={"lesson": slug, "line": None}) for r in concepts]
    summary = summary.model_copy(update={"slug": slug, "line": None}, deep=True)
    number = summary.number

    order = {s.slug: s.number for s in new.summaries}

    def earlier(lesson: str) -> bool:
        n = order.get(lesson)
        return number is None or (n is not None and n < number)

    existing = [i for i, r in enumerate(new.concepts) if r.lesson == slug]
    if existing:
        at = existing[0]
        kept = [r for r in new.concepts if r.lesson != slug]
        new.concepts = kept[:at] + rows + kept[at:]
    else:
        at = 0
        for i, r in enumerate(new.concepts):
            if earlier(r.lesson):
                at = i + 1
        if number is None:
            at = len(new.concepts)
        new.concepts = new.concepts[:at] + rows + new.concepts[at:]

    index = next((i for i, s in enumerate(new.summaries) if s.slug == slug), None)
    if index is not None:
        new.summaries[index] = summary
    else:
        at = len(new.summaries)
        if number is not None:
            at = next(
                (
                    i
                    for i, s in enumerate(new.summaries)
                    if s.number is not None and s.number > number
                ),
                len(new.summaries),
            )
        new.summaries.insert(at, summary)
    return new
