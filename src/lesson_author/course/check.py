"""Validate a records tree: problems an author should fix, each at ``file:line``.

What is checked (``code`` in brackets):

* a file that cannot be read or parsed (``parse``); the other checks go on without it;
* a depth cell that names no depth word (``unknown-depth``): concept index rows,
  and the depth columns of a planning document's Phase 1 and prerequisite tables;
* a concept index row or per-lesson summary naming a lesson that no series plan
  or module plan lists (``unknown-lesson``);
* a lesson planning document whose slug its series plan does not list, or lists
  under another module, or whose ``**Slug:**`` differs from its file name
  (``unplanned-lesson``, ``wrong-module``, ``slug-mismatch``);
* a slug listed twice by the plans (``duplicate-slug``) or not slug-shaped (``bad-slug``);
* a review whose verdict contradicts its findings (``verdict``) or has none
  (``missing-verdict``), and Summary counts that disagree with the findings (``counts``).
* degenerate text (a loop, a repeated sentence, a placeholder...) in any record or
  planning document (``degenerate-text``): an error in a record, a warning in a plan;
* a section the tools read that the parser cannot (``unread-section``);
* table rows after a blank line, which markdown shows as text (``split-table``).

A series folder without a ``plan.md`` is checked against its module plans'
lesson sequences instead.

Each problem has a level.  **Errors** are broken data (a file that does not
parse, an unknown depth, a lesson no plan lists, counts that disagree with
the findings, degenerate text in a record).  **Warnings** are style and rule
deviations the course's own authors make on purpose or that lose nothing
yet: a verdict that departs from the verdict rule (``verdict``; e.g. NEEDS
REVISION beside one CRITICAL), a section a lesson's tools read that is
written in a form the parser does not read (``unread-section``: topic
allocation, outline, connections, target concept), table rows after a blank line
(``split-table``: the tools read them, markdown shows them as text), and degenerate text in
the prose of a planning document (``degenerate-text``).  ``author check``
exits 1 on errors only, unless ``--strict``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lesson_author.course.markdown import Fences, heading_of
from lesson_author.course.models import (
    LessonPlan,
    ModulePlan,
    ModuleRecord,
    SeriesPlan,
    Severity,
)
from lesson_author.course.parse import read_text
from lesson_author.course.tree import (
    LESSONS_DIR,
    MODULE_DIR,
    SERIES_DIR,
    SLUG,
    CourseTree,
    lesson_slugs,
)
from lesson_author.errors import RecordsError
from lesson_author.text.words import strip_emphasis

ERROR = "error"
WARNING = "warning"
WARNING_CODES = frozenset({"verdict", "unread-section", "split-table"})


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str
    code: str
    level: str = ERROR

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {'warning: ' if self.level == WARNING else ''}{self.message}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(
        self, path: Path, line: int | None, message: str, code: str, level: str | None = None
    ) -> None:
        level = level or (WARNING if code in WARNING_CODES else ERROR)
        self.problems.append(Problem(path, line, message, code, level))

    def load(self, path: Path, loader: Callable[[Path], Any]) -> Any | None:
        try:
            return loader(path)
        except RecordsError as exc:
            self.add(exc.path or path, exc.line, exc.message, "parse")
            return None


# sections a lesson's tools read: (document type, field, name, heading/label pattern)
READ_SECTIONS: tuple[tuple[type, str, str, re.Pattern[str]], ...] = (
    (ModulePlan, "topic_allocation", "topic allocation", re.compile(r"topic allocation")),
    (LessonPlan, "outline", "lesson outline", re.compile(r"^lesson outline")),
    (LessonPlan, "connections", "connections", re.compile(r"^connections to prior concepts")),
    (LessonPlan, "target_concept", "target concept", re.compile(r"^target concept")),
)
LABEL_LINE = re.compile(r"^\s*(?:[-*]\s+)?\*\*([^*\n]+?):?\*\*:?")


def markers(text: str) -> list[tuple[int, str]]:
    """(line, lower-cased name) of every heading and line-opening bold label, outside fences."""
    found: list[tuple[int, str]] = []
    fences = Fences()
    for n, line in enumerate(text.splitlines(), 1):
        if fences.fence_line(line) or fences.inside:
            continue
        h = heading_of(line) if line.startswith("#") else None
        name = h[1] if h else (lm.group(1) if (lm := LABEL_LINE.match(line)) else None)
        if name is not None:
            found.append((n, strip_emphasis(name).rstrip(":").lower()))
    return found


def unread_sections(text: str, model: object) -> list[tuple[int, str]]:
    """(line, name) of each section the document names but the parser read as empty."""
    marks: list[tuple[int, str]] | None = None
    found = []
    for kind, name, label, pattern in READ_SECTIONS:
        if not isinstance(model, kind) or getattr(model, name):
            continue
        marks = markers(text) if marks is None else marks
        hit = next((line for line, title in marks if pattern.search(title)), None)
        if hit is not None:
            found.append((hit, label))
    return found


def _unmapped_topics(model: object) -> list[str]:
    """Topic allocation entries of a module plan that name no lesson slug."""
    if not isinstance(model, ModulePlan):
        return []
    return [key for key in model.topic_allocation if not SLUG.fullmatch(key)]


def _check_unread(out: _Collector, path: Path, model: object) -> None:
    needs = any(
        isinstance(model, kind) and not getattr(model, name) for kind, name, _, _ in READ_SECTIONS
    )
    unmapped = _unmapped_topics(model)
    if not needs and not unmapped:
        return
    try:
        text = read_text(path)
    except RecordsError:
        return
    for line, label in unread_sections(text, model):
        out.add(
            path,
            line,
            f"the {label} here is written in a form the parser does not read "
            "(planning and review will see none)",
            "unread-section",
        )
    lines = text.splitlines()
    for key in unmapped:
        line = next(
            (n for n, t in enumerate(lines, 1) if f"**{key}" in t or f"| {key} " in t), None
        )
        out.add(
            path,
            line,
            f"topic allocation entry '{_short(key)}' names no lesson of this module's "
            "sequence (label it by slug): its topics reach no lesson",
            "unread-section",
        )


def scan_degenerate(text: str) -> list[tuple[int, str]]:
    """(line, what) of every degenerate span of a markdown document."""
    from lesson_author.text.degenerate import scan_markdown

    return [
        (span.line, f"{span.reason.kind}: {span.reason.detail}") for span in scan_markdown(text)
    ]


class TextScans:
    """Degenerate-text scans by content hash, kept in a JSON file between runs when given one.

    The detector reads every paragraph, list item and cell: on a 6 MB course that
    costs seconds, so a file whose text has not changed is not scanned again.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.known: dict[str, list[list[Any]]] = {}
        self.dirty = False
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self.known = data
            except (OSError, ValueError):
                self.known = {}

    def scan(self, text: str) -> list[tuple[int, str]]:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key not in self.known:
            self.known[key] = [list(hit) for hit in scan_degenerate(text)]
            self.dirty = True
        return [(int(line), str(what)) for line, what in self.known[key]]

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            temp.write_text(json.dumps(self.known), encoding="utf-8")
            os.replace(temp, self.path)
        except OSError:
            temp.unlink(missing_ok=True)  # a cache that cannot be written costs time only


def _check_degenerate(out: _Collector, tree: CourseTree, scans: TextScans) -> None:
    """Degenerate text in any record or planning document; in a record it is broken data."""
    for path in tree.record_files():
        try:
            text = read_text(path)
        except RecordsError:
            continue  # reported as a parse problem
        level = ERROR if path.name in ("record.md", "course.md") else WARNING
        for line, what in scans.scan(text):
            out.add(path, line, f"degenerate text ({what})", "degenerate-text", level)


def _module_of(path: Path) -> str | None:
    """``series-7/module-7-4/...`` -> ``"7.4"``."""
    for part in path.parts:
        m = MODULE_DIR.fullmatch(part)
        if m:
            return f"{int(m.group(1))}.{int(m.group(2))}"
    return None


def _series_of(path: Path) -> str | None:
    for part in path.parts:
        m = SERIES_DIR.fullmatch(part)
        if m:
            return str(int(m.group(1)))
    return None


PLACEHOLDER = re.compile(r"[-\u2014\u2013\s]*|N/?A", re.IGNORECASE)
NOT_TAUGHT_WORDS = re.compile(
    r"\b(MISSING|NONE|ABSENT|ASSUMED|NOT\s+(EXPLICITLY\s+)?(TAUGHT|COVERED|EXPLICIT))\b"
)
DEPTHS = "use MENTIONED, INTRODUCED, DEVELOPED, APPLIED or NOT TAUGHT"
SPLIT_ROW = " (the row has more cells than its header: an unescaped '|' in a cell?)"


def depth_cell_ok(raw: str, *, not_taught_words: bool) -> bool:
    """A depth cell that names no depth word but is still fine: blank, a dash placeholder
    (``--``, ``-- (mental model)``) and, where the student's actual depth is meant, the
    words authors use for "not taught" (``MISSING``, ``Not explicitly taught``, ``assumed``)."""
    text = re.sub(r"\([^)]*\)", " ", raw)
    text = strip_emphasis(text)
    if PLACEHOLDER.fullmatch(text):
        return True
    return not_taught_words and NOT_TAUGHT_WORDS.search(text.upper()) is not None


def _slug_cell(text: str) -> str | None:
    bare = text.strip().strip("*").strip().strip("`")
    if SLUG.fullmatch(bare):
        return bare
    m = re.search(r"`([a-z0-9][a-z0-9-]*)`", text)
    return m.group(1) if m else None


def check_tree(
    tree: CourseTree, *, text: bool = True, scans: TextScans | None = None
) -> list[Problem]:
    """Every problem found in the tree, in course (file) order, then line order.

    ``text``: also scan every file for degenerate text (``scans`` keeps results by
    content between runs).
    """
    out = _Collector()

    if tree.course_path.is_file():
        out.load(tree.course_path, lambda p: tree.course())

    # ---- plans: which lesson lives in which module, by whose word
    series_plans: dict[str, tuple[Path, SeriesPlan]] = {}
    module_plans: dict[str, tuple[Path, ModulePlan]] = {}
    records: dict[str, tuple[Path, ModuleRecord]] = {}
    lesson_docs: list[tuple[Path, LessonPlan]] = []

    for series in tree.series_numbers():
        path = tree.series_plan_path(series)
        if path.is_file():
            plan = out.load(path, lambda p, s=series: tree.series_plan(s))
            if plan is not None:
                series_plans[series] = (path, plan)
        for module in tree.module_ids(series):
            for target, getter, store in (
                (tree.module_plan_path(module), tree.module_plan, module_plans),
                (tree.record_path(module), tree.module_record, records),
            ):
                if target.is_file():
                    model = out.load(target, lambda p, g=getter, m=module: g(m))
                    if model is not None:
                        store[module] = (target, model)
            lessons = tree.module_dir(module) / LESSONS_DIR
            if lessons.is_dir():
                for doc_path in sorted(lessons.glob("*.md")):
                    doc = out.load(doc_path, tree.lesson_plan_at)
                    if doc is not None:
                        lesson_docs.append((doc_path, doc))

    # slug -> (module, path, line) as listed by series plans
    listed: dict[str, tuple[str, Path, int | None]] = {}
    for series, (path, plan) in series_plans.items():
        for ref in plan.lessons:
            slug = _slug_cell(ref.slug)
            if slug is None or slug != ref.slug:
                out.add(
                    path,
                    ref.line,
                    f"lesson slug '{ref.slug}' is not a slug "
                    "(lowercase letters, digits and hyphens)",
                    "bad-slug",
                )
                if slug is None:
                    continue
            if slug in listed:
                first = listed[slug]
                out.add(
                    path,
                    ref.line,
                    f"duplicate lesson slug '{slug}' (also listed at {first[1]}:{first[2] or 1})",
                    "duplicate-slug",
                )
                continue
            listed[slug] = (ref.module, path, ref.line)
            if ref.module.split(".")[0] != series:
                out.add(
                    path,
                    ref.line,
                    f"lesson '{slug}' is listed under module {ref.module}, "
                    f"which is not in series {series}",
                    "wrong-module",
                )

    # lessons of series without a plan: their module plans' sequences
    by_module_plan: dict[str, str] = {}
    for module, (path, mplan) in module_plans.items():
        for row in mplan.sequence:
            slug = _slug_cell(row.lesson)
            if slug:
                by_module_plan.setdefault(slug, module)
        for slug in mplan.topic_allocation:
            if SLUG.fullmatch(slug):
                by_module_plan.setdefault(slug, module)

    known = set(listed) | set(by_module_plan)

    # ---- module records
    for module, (path, record) in records.items():
        for slot in record.layout:
            for line in sorted(int(k[4:]) for k in getattr(slot, "style", {}) if k[:4] == "gap@"):
                out.add(
                    path,
                    line,
                    "table rows after a blank line: markdown ends the table there and shows "
                    "these rows as text (the tools still read them as rows)",
                    "split-table",
                )
        for row in record.concepts:
            split = bool(row.extra) and row.depth is None
            if row.depth is None:
                out.add(
                    path,
                    row.line,
                    f"unknown depth '{row.depth_raw}' for concept "
                    f"'{_short(row.concept)}' ({DEPTHS})" + (SPLIT_ROW if split else ""),
                    "unknown-depth",
                )
            if split:
                continue
            slugs = lesson_slugs(row.lesson)
            unknown = [s for s in slugs if s not in known]
            if not slugs or unknown:
                named = (
                    f"lesson '{unknown[0]}'" if unknown else f"'{row.lesson}', not a lesson slug,"
                )
                out.add(
                    path,
                    row.line,
                    f"concept '{_short(row.concept)}' names {named} which no plan lists",
                    "unknown-lesson",
                )
        for summary in record.summaries:
            if summary.slug not in known:
                out.add(
                    path,
                    summary.line,
                    f"per-lesson summary '{summary.slug}' matches no lesson "
                    "the plans list (name the lesson's slug in its heading)",
                    "unknown-lesson",
                )

    for path, mplan in module_plans.values():
        _check_unread(out, path, mplan)

    # ---- lesson planning documents
    for path, doc in lesson_docs:
        _check_unread(out, path, doc)
        _check_lesson_doc(out, path, doc, series_plans, listed, by_module_plan)

    if text:
        scans = scans if scans is not None else TextScans()
        _check_degenerate(out, tree, scans)
        scans.save()

    from lesson_author.workspace import stale_temp_files

    for temp in stale_temp_files(tree.root):  # left by a write that was cut off
        out.add(temp, None, "temp file of an interrupted write (the next run removes it)", "temp")

    order = {p: i for i, p in enumerate(tree.record_files())}
    return sorted(
        out.problems,
        key=lambda pr: (order.get(pr.path, len(order)), str(pr.path), pr.line or 0),
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_lesson_doc(
    out: _Collector,
    path: Path,
    doc: LessonPlan,
    series_plans: dict[str, tuple[Path, SeriesPlan]],
    listed: dict[str, tuple[str, Path, int | None]],
    by_module_plan: dict[str, str],
) -> None:
    stem = path.stem
    slug = _slug_cell(doc.slug) or doc.slug.strip()
    if slug and slug != stem:
        out.add(
            path,
            _slug_line(path, doc),
            f"**Slug:** '{slug}' differs from the file name '{stem}.md'",
            "slug-mismatch",
        )
    slug = slug or stem
    series = _series_of(path)
    module = _module_of(path)
    if series in series_plans:
        plan_path, _ = series_plans[series]
        entry = listed.get(slug)
        if entry is None:
            out.add(
                path,
                _slug_line(path, doc),
                f"lesson '{slug}' is not in its series plan {plan_path}",
                "unplanned-lesson",
            )
        elif module is not None and entry[0] != module:
            out.add(
                path,
                _slug_line(path, doc),
                f"lesson '{slug}' is filed under module {module} but "
                f"{entry[1]}:{entry[2] or 1} lists it under module {entry[0]}",
                "wrong-module",
            )
    elif slug not in by_module_plan and slug not in listed:
        out.add(
            path,
            _slug_line(path, doc),
            f"lesson '{slug}' is in no series plan or module plan",
            "unplanned-lesson",
        )

    for concept in doc.relevant_concepts:
        if concept.depth is None and not depth_cell_ok(concept.depth_raw, not_taught_words=True):
            out.add(
                path,
                concept.line,
                f"unknown depth '{concept.depth_raw}' for concept "
                f"'{_short(concept.concept)}'" + (SPLIT_ROW if concept.extra else ""),
                "unknown-depth",
            )
    for pre in doc.prerequisites:
        for raw, value, what in (
            (pre.required_raw, pre.required, "required"),
            (pre.actual_raw, pre.actual, "actual"),
        ):
            if value is None and not depth_cell_ok(raw, not_taught_words=what == "actual"):
                out.add(
                    path,
                    pre.line,
                    f"unknown {what} depth '{raw}' for prerequisite "
                    f"'{_short(pre.concept)}'" + (SPLIT_ROW if pre.extra else ""),
                    "unknown-depth",
                )
                break

    for review in doc.reviews:
        label = (
            f"review iteration {review.iteration}"
            if review.iteration
            else f"review of {review.date}"
        )
        computed = review.computed_verdict()
        found = {s: sum(1 for f in review.findings if f.severity is s) for s in Severity}
        if review.verdict is None:
            out.add(
                path,
                review.line,
                f"{label} has no verdict (its findings give {computed.value})",
                "missing-verdict",
            )
        elif review.verdict is not computed:
            out.add(
                path,
                review.line,
                f"{label}: verdict {review.verdict.value} contradicts its "
                f"findings ({_counts(found)} -> {computed.value})",
                "verdict",
            )
        for severity, written in review.counts.items():
            if written != found[severity]:
                out.add(
                    path,
                    review.line,
                    f"{label}: Summary says {written} "
                    f"{severity.value} but {found[severity]} {severity.value} "
                    f"finding{'s' if found[severity] != 1 else ''} are listed",
                    "counts",
                )


def _counts(found: dict[Severity, int]) -> str:
    parts = [f"{found[s]} {s.value}" for s in sorted(found, reverse=True) if found[s]]
    return " + ".join(parts) if parts else "no findings"


def _slug_line(path: Path, doc: LessonPlan) -> int | None:
    """The line of the document's ``**Slug:**`` field (else its title line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return doc.line
    return next((i for i, text in enumerate(lines, 1) if text.startswith("**Slug:**")), doc.line)
