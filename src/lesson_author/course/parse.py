"""Record files (markdown) -> models, tolerant of the format drift of real courses.

Each ``parse_*`` function reads one kind of record file.  Sections it knows
become typed fields; everything else (unknown sections, stray text, rules,
blank lines) is kept verbatim in the model's ``layout`` beside
:class:`~lesson_author.course.models.Slot` markers that say where each typed
field sits and how it was formatted, so :mod:`lesson_author.course.render`
can write the file back.  The typed fields stay the single source of truth
for what they cover.

Nothing here raises anything but :class:`~lesson_author.errors.RecordsError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from lesson_author.course.markdown import (
    UNESCAPED_PIPE,
    Block,
    LabelSegment,
    bare,
    blocks,
    cell_text,
    continued_rows,
    find_table,
    fit_cells,
    is_blank,
    is_break,
    label_segments,
    read_table,
    split_lines,
    split_pieces,
    subtree_end,
    trim_span,
)
from lesson_author.course.models import (
    Checklist,
    ChecklistItem,
    ConceptRow,
    Connection,
    ConnectionRow,
    Course,
    Depth,
    ExamplePlanned,
    Finding,
    GapResolution,
    LessonPlan,
    LessonRef,
    LessonSequenceRow,
    LessonSummary,
    LoadTrajectoryRow,
    Misconception,
    Modality,
    ModulePlan,
    ModuleRecord,
    ModuleRow,
    ModuleStatusRow,
    OutlineSection,
    Prerequisite,
    RawSection,
    RelevantConcept,
    Review,
    Row,
    SeriesPlan,
    SeriesRow,
    Severity,
    Slot,
    SummaryPart,
    Verdict,
)
from lesson_author.errors import RecordsError
from lesson_author.text.words import strip_emphasis

Document = Course | SeriesPlan | ModulePlan | ModuleRecord | LessonPlan

# ---------------------------------------------------------------- table specs


@dataclass(frozen=True, slots=True)
class Column:
    """A field fed by the first header cell matching ``pattern`` (lower-cased)."""

    field: str
    pattern: re.Pattern[str]
    kind: str = "str"  # "str" | "depth" (field + field_raw) | "int"


def col(name: str, pattern: str, kind: str = "str") -> Column:
    return Column(name, re.compile(pattern), kind)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """How one kind of table maps onto one row model."""

    model: type[Row]
    columns: tuple[Column, ...]
    fixed: tuple[str, ...] = ()  # fields set by the caller (e.g. a lesson's module), not a column
    required: tuple[str, ...] = field(default=())

    def mapping(self, header: list[str]) -> list[Column | None]:
        """For each header cell, the column it feeds (``None``: kept in ``extra``)."""
        taken: set[str] = set()
        result: list[Column | None] = []
        for cell in header:
            name = strip_emphasis(cell).lower()
            found = next(
                (c for c in self.columns if c.field not in taken and c.pattern.search(name)), None
            )
            if found:
                taken.add(found.field)
            result.append(found)
        return result

    def make_row(
        self,
        mapping: list[Column | None],
        cells: list[str],
        line: int | None = None,
        src: str = "",
        fixed: dict[str, Any] | None = None,
    ) -> Row:
        values: dict[str, Any] = {name: "" for name in self.required}
        extra: list[str] = []
        for i, cell in enumerate(cells):
            column = mapping[i] if i < len(mapping) else None
            if column is None:
                extra.append(cell)
            elif column.kind == "depth":
                values[column.field] = Depth.parse(cell)
                values[column.field + "_raw"] = cell
            elif column.kind == "int":
                values[column.field] = int(cell) if cell.isdigit() else None
            else:
                values[column.field] = cell
        if fixed:
            values.update(fixed)
        return self.model(line=line, src=src, extra=extra, **values)

    def row_cells(self, mapping: list[Column | None], line: str) -> list[str]:
        """The cells of a table row line, unescaped pipes inside cells mended."""
        pieces = split_pieces(line)
        if len(pieces) <= len(mapping):
            return [cell_text(p) for p in pieces]
        anchors = [i for i, c in enumerate(mapping) if c is not None and c.kind == "depth"]
        return fit_cells(pieces, len(mapping), anchors, is_depth_word)

    def cells(self, mapping: list[Column | None], row: Row) -> list[str]:
        """The cells to write for ``row`` under a header mapped as ``mapping``."""
        extra = iter(row.extra)
        out: list[str] = []
        for column in mapping:
            if column is None:
                out.append(next(extra, ""))
            else:
                out.append(self.cell(column, row))
        out.extend(extra)
        return out

    @staticmethod
    def cell(column: Column, row: Row) -> str:
        value = getattr(row, column.field)
        if column.kind == "depth":
            raw = getattr(row, column.field + "_raw")
            if raw and Depth.parse(raw) == value:
                return raw
            return value.value if value is not None else raw
        if column.kind == "int":
            return "" if value is None else str(value)
        return str(value)

    def still_reads(self, mapping: list[Column | None], row: Row) -> bool:
        """Whether ``row.src`` parses to exactly the row's current content."""
        if not row.src:
            return False
        fixed = {name: getattr(row, name) for name in self.fixed}
        again = self.make_row(mapping, self.row_cells(mapping, row.src), fixed=fixed)
        exclude = {"line", "src"}
        return again.model_dump(exclude=exclude) == row.model_dump(exclude=exclude)


DEPTH_WORD = re.compile(r"^(?:NOT TAUGHT|MENTIONED|INTRODUCED|DEVELOPED|APPLIED)\b")


def is_depth_word(cell: str) -> bool:
    return bool(DEPTH_WORD.match(strip_emphasis(cell)))


def spec(model: type[Row], *columns: Column, fixed: tuple[str, ...] = ()) -> TableSpec:
    required = tuple(
        name
        for name, info in model.model_fields.items()
        if info.is_required() and name not in fixed
    )
    return TableSpec(model, tuple(columns), fixed, required)


CONCEPT = col("concept", r"concept|model|analogy|misconception|^what")
SOURCE = col("source", r"source|lesson|where|from")
NOTES = col("notes", r"note|comment|detail|how|why|rationale")

SERIES_ROWS = spec(
    SeriesRow,
    col("number", r"^series$|^#$|number|^no"),
    col("title", r"title|name"),
    col("status", r"status"),
    col("description", r"desc|focus|summary|topics"),
)
MODULE_STATUS_ROWS = spec(
    ModuleStatusRow,
    col("module", r"module|^#$|^id"),
    col("title", r"title|name"),
    col("lessons", r"lessons|count"),
    col("status", r"status"),
)
MODULE_ROWS = spec(
    ModuleRow,
    col("module", r"module|^#$|^id"),
    col("title", r"title|name"),
    col("lessons", r"lessons|count"),
    col("status", r"status"),
    col("focus", r"focus|desc|topics|summary"),
)
LESSON_REFS = spec(
    LessonRef,
    col("number", r"^#$|^no\.?$|number|^n$", "int"),
    col("slug", r"slug"),
    col("title", r"title|name|lesson"),
    col("description", r"desc|summary|focus|topics|content"),
    fixed=("module",),
)
CONNECTION_ROWS = spec(
    ConnectionRow,
    col("concept", r"concept"),
    col("earlier", r"earlier|prior|foundation|previous|connects"),
    col("source", r"source|lesson|where|module|series"),
)
SEQUENCE_ROWS = spec(
    LessonSequenceRow,
    col("lesson", r"slug|lesson"),
    col("core_concept", r"concept|topic|focus"),
    col("load", r"type|load"),
    col("rationale", r"rationale|why|reason|notes"),
)
TRAJECTORY_ROWS = spec(
    LoadTrajectoryRow,
    col("lesson", r"slug|lesson"),
    col("load", r"load|type"),
    col("notes", r"note|rationale|why|reason"),
)
CONCEPT_ROWS = spec(
    ConceptRow,
    col("concept", r"concept"),
    col("depth", r"depth|level", "depth"),
    col("lesson", r"lesson|source|where"),
    col("notes", r"note|detail|comment|how"),
)
RELEVANT_ROWS = spec(
    RelevantConcept,
    col("concept", r"concept"),
    col("depth", r"depth|level", "depth"),
    col("source", r"source|lesson|where|from"),
    col("notes", r"note|detail|comment|how|why"),
)
PREREQUISITE_ROWS = spec(
    Prerequisite,
    col("concept", r"concept|prerequisite"),
    col("required", r"required|needed|target", "depth"),
    col("actual", r"actual|current|has", "depth"),
    col("source", r"source|lesson|where|from"),
    col("status", r"status|ok|gap"),
    col("reasoning", r"reason|note|why|rationale|detail"),
)
GAP_ROWS = spec(
    GapResolution,
    col("gap", r"gap|concept"),
    col("size", r"size|severity"),
    col("resolution", r"resolution|plan|how|fix"),
)
MISCONCEPTION_ROWS = spec(
    Misconception,
    col("misconception", r"misconception"),
    col("why", r"why|reason|source"),
    col("negative_example", r"negative|example|disprove|counter"),
    col("where", r"where|when|section|address"),
)
EXAMPLE_ROWS = spec(
    ExamplePlanned,
    col("example", r"example"),
    col("type", r"type|kind"),
    col("purpose", r"purpose|goal"),
    col("why", r"why|rationale|reason"),
)
MODALITY_ROWS = spec(
    Modality,
    col("modality", r"modality"),
    col("what", r"what|specific|content|how"),
    col("why", r"why|rationale|reason"),
)
CONNECTION_PLAN_ROWS = spec(
    Connection,
    col("new_concept", r"new|concept"),
    col("connects_to", r"connects|prior|earlier|existing|to$"),
    col("how", r"how|why|note"),
)


# ---------------------------------------------------------------- small readers

SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
REVIEW_TITLE = re.compile(
    r"^Review(?P<sep>\s*(?:--|—|–|-|:)\s*)(?P<date>\d{4}-\d{2}-\d{2})(?P<rest>.*)$"
)
ITERATION = re.compile(r"^ \(Iteration (?P<i>\d+)/(?P<of>\d+)(?P<suffix>[^)]*)\)$")
ITERATION_LOOSE = re.compile(r"Iteration\s+(?P<i>\d+)\s*(?:/|of)\s*(?P<of>\d+)", re.IGNORECASE)
VERDICT_TITLE = re.compile(r"^(?P<prefix>Verdict\s*:?\s*)(?P<raw>.*)$", re.IGNORECASE)
FINDING_TITLE = re.compile(
    r"^(?P<prefix>(?:Finding\s*#?\s*\d+\s*)?)(?P<lb>\[?)(?P<sev>CRITICAL|IMPROVEMENT|POLISH)"
    r"(?P<rb>\]?)(?P<sep>\s*(?:--|—|–|:|-)\s*|\s+)?(?P<title>.*)$"
)
COUNT_LINE = re.compile(
    r"^(?P<bullet>[-*])\s+(?P<label>critical|improvement|polish)\s*:\s*(?P<n>\d+)(?P<note>.*)$",
    re.IGNORECASE,
)
OUTLINE_TITLE = re.compile(r"^(?P<num>\d+)(?P<dot>[.)]?)\s+(?P<title>.*)$")
CHECK_ITEM = re.compile(r"^(?P<bullet>[-*])\s+\[(?P<mark>[ xX])\]\s?(?P<text>.*)$")
BULLET = re.compile(r"^[-*+]\s")
MODULE_HEADING = re.compile(r"^module\s+(?P<module>\d+(?:\.\d+)*)\b")
LESSON_NUMBER = re.compile(r"\bLesson\s+(?P<number>\d+)\b")
SUMMARY_SLUG = (
    re.compile(rf"`(?P<slug>{SLUG})`"),
    re.compile(rf"\((?P<slug>{SLUG})\)"),
    re.compile(rf"^(?P<slug>{SLUG})(?=\s|$)"),
)
TITLE_PATTERNS: dict[str, re.Pattern[str]] = {
    "course": re.compile(r"^(?:Course\s*:\s*)?(?P<title>.*)$"),
    "series": re.compile(
        r"^Series\s+(?P<number>[\w.]+)\s*:\s*(?P<title>.*?)(?:\s+(?:--|—|–)\s+Plan)?$"
    ),
    "module_plan": re.compile(
        r"^Module\s+(?P<module>\d+(?:\.\d+)*)\s*:\s*(?P<title>.*?)(?:\s+(?:--|—|–)\s+Plan)?$"
    ),
    "record": re.compile(
        r"^Module\s+(?P<module>\d+(?:\.\d+)*)\s*:\s*(?P<title>.*?)(?:\s+(?:--|—|–)\s+Record)?$"
    ),
    "lesson": re.compile(
        r"^(?:Lesson\s*:\s*(?P<title>.*)"
        r"|(?P<slug_title>.*?)\s+(?:--|—|–)\s+Lesson Planning Document)$"
    ),
}


def norm(title: str) -> str:
    """A heading title or label for matching: lower case, no emphasis or trailing colon."""
    return strip_emphasis(title).rstrip(":").strip().lower()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def template_from_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, name)`` span replaced by a ``{name}`` placeholder."""
    out, pos = [], 0
    for start, end, name in sorted(spans):
        out.append(escape_braces(text[pos:start]))
        out.append("{" + name + "}")
        pos = end
    out.append(escape_braces(text[pos:]))
    return "".join(out)


def split_value(head: str, body: list[str]) -> tuple[str, str, str]:
    """Split ``body`` lines into (head, value, tail) so that head + value + tail is exact.

    Leading blank lines join ``head``; trailing blank lines and ``---`` rules
    join ``tail``, which starts with the value's own line ending.
    """
    i0 = 0
    while i0 < len(body) and is_blank(body[i0]):
        i0 += 1
    i1 = len(body)
    while i1 > i0 and (is_blank(body[i1 - 1]) or is_break(body[i1 - 1])):
        i1 -= 1
    if i0 == i1:
        return head, "", "".join(body)
    value = "".join(body[i0:i1])
    end = ""
    if value.endswith("\r\n"):
        value, end = value[:-2], "\r\n"
    elif value.endswith("\n"):
        value, end = value[:-1], "\n"
    return head + "".join(body[:i0]), value, end + "".join(body[i1:])


ELEMENT_ITEMS = frozenset({"reviews", "findings", "summaries"})


def detach_trailer(parts: list[Any]) -> str:
    """Cut the blank lines and ``---`` rules that end an item's layout; return them.

    They separate the item from what follows, so they belong to the item's
    place in its document (the item slot's tail), not to the item: an item
    appended later can then take over the separator.
    """
    trailer = ""
    while parts:
        last = parts[-1]
        is_slot = isinstance(last, Slot)
        lines = split_lines(last.tail if is_slot else last.text)
        keep = len(lines)
        # a slot's tail starts with its value's line ending (kept), except for items
        # with a layout of their own, whose rendering ends with its line ending
        floor = 1 if is_slot and not (last.key in ELEMENT_ITEMS and last.index is not None) else 0
        while keep > floor and (is_blank(lines[keep - 1]) or is_break(lines[keep - 1])):
            keep -= 1
        trailer = "".join(lines[keep:]) + trailer
        if is_slot:
            last.tail = "".join(lines[:keep])
            break
        if keep:
            last.text = "".join(lines[:keep])
            break
        parts.pop()
    return trailer


def line_end(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    return "\n" if line.endswith("\n") else ""


# ---------------------------------------------------------------- the builder


@dataclass
class Source:
    """A file's lines and blocks."""

    lines: list[str]
    items: list[Block]

    @classmethod
    def of(cls, text: str) -> Source:
        lines = split_lines(text)
        return cls(lines, blocks(lines))

    def text(self, start: int, end: int) -> str:
        return "".join(self.lines[start:end])

    def subtree(self, bi: int, stop: int) -> int:
        """Block index past ``bi`` and its nested blocks, at most ``stop``."""
        return min(subtree_end(self.items, bi), stop)

    def end_line(self, bi: int, stop: int) -> int:
        """Line index where the blocks ``bi .. stop-1`` end."""
        return self.items[stop - 1].end if stop > bi else self.items[bi].end


@dataclass
class Builder:
    """Collects one element's layout and typed values while its blocks are read."""

    src: Source
    parts: list[Any] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)

    def raw(self, start: int, end: int, heading: str = "", level: int = 0) -> None:
        if start < end:
            text = self.src.text(start, end)
            self.parts.append(RawSection(line=start + 1, heading=heading, level=level, text=text))

    def raw_block(self, bi: int) -> None:
        b = self.src.items[bi]
        heading = bare(self.src.lines[b.start]) if b.level else ""
        self.raw(b.start, b.end, heading, b.level)

    def raw_blocks(self, start: int, stop: int) -> None:
        for bi in range(start, stop):
            self.raw_block(bi)

    def slot(
        self,
        key: str,
        head: str = "",
        tail: str = "",
        index: int | None = None,
        style: dict[str, str] | None = None,
    ) -> Slot:
        made = Slot(key=key, index=index, head=head, tail=tail, style=style or {})
        self.parts.append(made)
        return made

    def add(self, key: str, value: Any) -> int:
        """Append ``value`` to list field ``key``; returns its index."""
        items = self.values.setdefault(key, [])
        items.append(value)
        return len(items) - 1

    def heading_slot(
        self, bi: int, key: str, style: dict[str, str], value_end: int | None = None
    ) -> Slot:
        """A slot for a heading rendered from typed fields.

        Its tail is the heading's line ending plus the block's text up to
        ``value_end`` (default: the whole own body).
        """
        blk = self.src.items[bi]
        line = self.src.lines[blk.start]
        end = blk.end if value_end is None else value_end
        made = {"level": str(blk.level), **style}
        tail = line_end(line) + self.src.text(blk.start + 1, end)
        return self.slot(key, "", tail, style=made)

    def text_section(self, bi: int, key: str) -> int:
        blk = self.src.items[bi]
        lines = self.src.lines
        head, value, tail = split_value(lines[blk.start], lines[blk.start + 1 : blk.end])
        self.slot(key, head, tail)
        self.values[key] = value
        self.claimed.add(key)
        return bi + 1

    def table_section(
        self,
        bi: int,
        key: str,
        table: TableSpec,
        fixed: dict[str, Any] | None = None,
        style: dict[str, str] | None = None,
    ) -> int | None:
        """Read the first table of block ``bi`` into list field ``key``; ``None`` when it has none."""
        blk = self.src.items[bi]
        lines = self.src.lines
        at = find_table(lines, blk.body_start, blk.end)
        if at is None:
            return None
        read = read_table(lines, at, blk.end)
        mapping = table.mapping(read.header)
        rows = self.values.setdefault(key, [])
        made = {"header": bare(read.header_line), "separator": bare(read.separator_line)}
        row_index, end = list(read.row_index), read.end
        # rows after a blank line, with no header of their own, continue the table: authors
        # group a concept index by lesson that way (markdown itself ends the table there)
        while (more := continued_rows(lines, end, blk.end, len(read.header))) is not None:
            first, last = more
            made[f"gap@{first + 1}"] = self.src.text(end, first)  # the blank lines, as written
            row_index.extend(range(first, last))
            end = last
        for i in row_index:
            cells = table.row_cells(mapping, lines[i])
            rows.append(table.make_row(mapping, cells, line=i + 1, src=bare(lines[i]), fixed=fixed))
        if not lines[end - 1].endswith("\n"):
            made["open_end"] = "1"  # the file ends inside the table, without a line ending
        made.update(style or {})
        self.slot(key, self.src.text(blk.start, at), self.src.text(end, blk.end), style=made)
        self.claimed.add(key)
        return bi + 1

    def label_slot(self, seg: LabelSegment, key: str, index: int | None = None) -> tuple[Slot, str]:
        """A slot for ``**Label:** value`` (the label stays in ``head``); returns (slot, value)."""
        lines = self.src.lines
        rest = lines[seg.start][len(seg.prefix) :]
        spaces = rest[: len(rest) - len(rest.lstrip(" \t"))]
        body = [rest[len(spaces) :], *lines[seg.start + 1 : seg.end]]
        head, value, tail = split_value(seg.prefix + spaces, body)
        return self.slot(key, head, tail, index=index), value

    def labels(
        self, segments: list[LabelSegment], known: dict[str, str], one_paragraph: bool = False
    ) -> None:
        """Typed slots for known labels (first occurrence of each); the rest verbatim.

        With ``one_paragraph`` a value ends at its first blank line (header
        lines like ``**Status:** Planned`` are followed by prose, not more value).
        """
        lines = self.src.lines
        for seg in segments:
            key = known.get(norm(seg.label)) if seg.label is not None else None
            if key is None or key in self.claimed:
                self.raw(seg.start, seg.end)
                continue
            end = seg.end
            if one_paragraph:
                blank = next((i for i in range(seg.start + 1, seg.end) if is_blank(lines[i])), end)
                rest = next((i for i in range(blank, seg.end) if not is_blank(lines[i])), end)
                if rest < end and not is_break(lines[rest]):
                    end = blank + 1
            _, value = self.label_slot(LabelSegment(seg.label, seg.prefix, seg.start, end), key)
            self.values[key] = value
            self.claimed.add(key)
            self.raw(end, seg.end)

    def labelled_body(
        self,
        bi: int,
        key: str,
        style: dict[str, str],
        known: dict[str, str],
        one_paragraph: bool = False,
    ) -> None:
        """A heading slot for block ``bi`` followed by the labels of its body."""
        blk = self.src.items[bi]
        segments = label_segments(self.src.lines, blk.start + 1, blk.end)
        first = next((s.start for s in segments if s.label is not None), blk.end)
        self.heading_slot(bi, key, style, value_end=first)
        self.claimed.add(key)
        self.labels([s for s in segments if s.label is not None], known, one_paragraph)


# ---------------------------------------------------------------- section rules

Reader = Callable[[Builder, int, int], int | None]
"""Reads block ``bi`` (of a run ending at block ``stop``); the next block index, or ``None``
when the block is not what the reader wants after all (it is then kept verbatim)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Blocks whose normalised title matches ``pattern`` are read by ``read``."""

    key: str
    pattern: re.Pattern[str]
    read: Reader
    repeat: bool = False


def rule(key: str, pattern: str, read: Reader, repeat: bool = False) -> Rule:
    return Rule(key, re.compile(pattern), read, repeat)


def walk(b: Builder, start: int, stop: int, rules: tuple[Rule, ...]) -> None:
    """Read blocks ``start .. stop-1``: by the first matching rule, else verbatim."""
    bi = start
    while bi < stop:
        title = norm(b.src.items[bi].title)
        nxt: int | None = None
        for r in rules:
            if (r.repeat or r.key not in b.claimed) and r.pattern.search(title):
                nxt = r.read(b, bi, stop)
                if nxt is not None:
                    break
        if nxt is None:
            b.raw_block(bi)
            bi += 1
        else:
            bi = nxt


def text(key: str) -> Reader:
    return lambda b, bi, stop: b.text_section(bi, key)


def table(key: str, spec_: TableSpec) -> Reader:
    return lambda b, bi, stop: b.table_section(bi, key, spec_)


def items(key: str, read_item: Callable[[Builder, int, int], None]) -> Reader:
    """A marker heading whose nested sections are the items of list field ``key``."""

    def read(b: Builder, bi: int, stop: int) -> int:
        end = b.src.subtree(bi, stop)
        blk = b.src.items[bi]
        b.slot(key, b.src.text(blk.start, blk.end))
        b.claimed.add(key)
        j = bi + 1
        while j < end:
            k = b.src.subtree(j, end)
            read_item(b, j, k)
            j = k
        return end

    return read


# ---------------------------------------------------------------- outline, checklists, bullets


def outline_item(b: Builder, j: int, stop: int) -> None:
    src = b.src
    blk = src.items[j]
    m = OUTLINE_TITLE.match(blk.title)
    number = int(m["num"]) if m else None
    title = m["title"] if m else blk.title
    body = src.lines[blk.start + 1 : src.end_line(j, stop)]
    gap, value, tail = split_value("", body)
    style = {"level": str(blk.level), "dot": m["dot"] if m else "", "gap": gap}
    index = b.add("outline", OutlineSection(line=blk.line, number=number, title=title, body=value))
    b.slot("outline", "", tail, index=index, style=style)


OUTLINE_LIST_ITEM = (
    # **1. Context + Constraints** (~2 paragraphs)
    re.compile(
        r"^(?P<lead>\*\*)(?P<num>\d+)(?P<dot>[.)])(?P<mid>[ \t]+)(?P<title>[^*\n]+?)"
        r"(?P<close>\*\*)(?P<rest>.*)$"
    ),
    # 1. **Hook** (Row) -- ...
    re.compile(
        r"^(?P<lead>)(?P<num>\d+)(?P<dot>[.)])(?P<mid>[ \t]+\*\*)(?P<title>[^*\n]+?)"
        r"(?P<close>\*\*)(?P<rest>.*)$"
    ),
)
OUTLINE_SEP = re.compile(r"^(?P<sep>[ \t]*(?:(?:--|—|–|:)[ \t]*)?)(?P<text>.*)$")


def outline_list_item(line: str) -> re.Match[str] | None:
    text = bare(line)
    return next((m for p in OUTLINE_LIST_ITEM if (m := p.match(text))), None)


def outline_list(b: Builder, bi: int, stop: int) -> int | None:
    """An outline written as a numbered list of bold titles instead of sub-headings."""
    src = b.src
    blk = src.items[bi]
    lines = src.lines
    if src.subtree(bi, stop) != bi + 1:
        return None
    starts = [i for i in range(blk.start + 1, blk.end) if outline_list_item(lines[i])]
    if not starts:
        return None
    b.slot("outline", src.text(blk.start, starts[0]))
    b.claimed.add("outline")
    for n, first in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else blk.end
        m = outline_list_item(lines[first])
        assert m is not None
        rest = OUTLINE_SEP.match(m["rest"])
        assert rest is not None
        style = {
            "form": "list",
            "lead": m["lead"],
            "dot": m["dot"],
            "mid": m["mid"],
            "close": m["close"],
            "sep": rest["sep"],
        }
        follow = lines[first + 1 : end]
        if rest["text"]:
            style["inline"] = "1"
            gap, value, tail = split_value("", [rest["text"] + line_end(lines[first]), *follow])
        else:
            gap, value, tail = split_value("", follow)
            if not value:
                tail = line_end(lines[first]) + tail
        style["gap"] = gap
        section = OutlineSection(line=first + 1, number=int(m["num"]), title=m["title"], body=value)
        index = b.add("outline", section)
        b.slot("outline", "", tail, index=index, style=style)
    return bi + 1


def checklist_item(b: Builder, j: int, stop: int) -> None:
    src = b.src
    blk = src.items[j]
    lines = src.lines
    i = blk.start + 1
    while i < blk.end and not CHECK_ITEM.match(lines[i]):
        i += 1
    first = i
    found: list[ChecklistItem] = []
    while i < blk.end and (m := CHECK_ITEM.match(bare(lines[i]))):
        found.append(ChecklistItem(line=i + 1, checked=m["mark"] != " ", text=m["text"]))
        i += 1
    style = {"level": str(blk.level), "gap": src.text(blk.start + 1, first)}
    index = b.add("checklists", Checklist(line=blk.line, title=blk.title, items=found))
    b.slot("checklists", "", src.text(i, blk.end), index=index, style=style)
    b.raw_blocks(j + 1, stop)


def bullet_spans(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """Top-level ``- `` items in ``lines[start:end]`` as (first, end) spans.

    An item runs until the next item, or until a paragraph that starts at
    the margin after a blank line (text after the list).
    """
    spans: list[tuple[int, int]] = []
    blank_before = False
    i = start
    while i < end:
        line = lines[i]
        if BULLET.match(line):
            if spans:
                spans[-1] = (spans[-1][0], i)
            spans.append((i, end))
        elif is_blank(line):
            blank_before = True
            i += 1
            continue
        elif blank_before and line[:1] not in (" ", "\t") and spans:
            break
        blank_before = False
        i += 1
    if spans:
        spans[-1] = (spans[-1][0], i)
    return spans


def bullets(key: str) -> Reader:
    """A section whose top-level bullet items are the strings of list field ``key``."""

    def read(b: Builder, bi: int, stop: int) -> int | None:
        lines = b.src.lines
        blk = b.src.items[bi]
        first = next((i for i in range(blk.start + 1, blk.end) if BULLET.match(lines[i])), None)
        if first is None:
            return None
        spans = bullet_spans(lines, first, blk.end)
        b.slot(key, b.src.text(blk.start, first))
        b.claimed.add(key)
        for n, (s, e) in enumerate(spans):
            e = blk.end if n == len(spans) - 1 else e
            marker = lines[s][:2]
            head, value, tail = split_value(marker, [lines[s][2:], *lines[s + 1 : e]])
            index = b.add(key, value)
            b.slot(key, head, tail, index=index)
        return bi + 1

    return read


BULLET_ROW = re.compile(
    r"^[-*+][ \t]+(?:\*\*(?P<label>[^*\n]+?)\*\*(?P<after>.*)|(?P<plain>.*))$", re.DOTALL
)
BULLET_AFTER = re.compile(r"^[ \t]*(?:(?::|--|—|–|->|→)[ \t]*)?")


@dataclass(frozen=True, slots=True)
class BulletSpec:
    """A table's rows written as a bullet list: ``- **Label:** text`` per row.

    The bold label feeds ``label`` and the text after it ``text``; a bullet
    without a bold label is all ``label``.  Each row keeps its lines as
    ``src`` (with the blank lines after it), written back while they still
    read as the row.
    """

    model: type[Row]
    label: str
    text: str

    def values(self, item: str) -> dict[str, str]:
        body = item.strip()
        m = BULLET_ROW.match(body)
        if m is None:
            return {self.label: body, self.text: ""}
        if m["label"] is None:
            return {self.label: m["plain"].strip(), self.text: ""}
        label = m["label"].strip().rstrip(":").strip()
        return {self.label: label, self.text: BULLET_AFTER.sub("", m["after"], count=1).strip()}

    def make_row(self, item: str, line: int | None = None) -> Row:
        values: dict[str, Any] = {
            name: "" for name, info in self.model.model_fields.items() if info.is_required()
        }
        values.update(self.values(item))
        return self.model(line=line, src=item, **values)

    def still_reads(self, row: Row) -> bool:
        if not row.src:
            return False
        again = self.make_row(row.src)
        exclude = {"line", "src"}
        return again.model_dump(exclude=exclude) == row.model_dump(exclude=exclude)

    def write(self, rows: list[Row]) -> str:
        out = []
        for n, row in enumerate(rows):
            last = n == len(rows) - 1
            if self.still_reads(row):
                text = row.src if last or row.src.endswith("\n") else row.src + "\n"
            else:
                label, rest = getattr(row, self.label), getattr(row, self.text)
                text = f"- **{label}:** {rest}" if rest else f"- {label}"
                text = " ".join(text.splitlines()) + ("" if last else "\n")
            out.append(text.rstrip("\r\n") if last else text)
        return "".join(out)


CONNECTION_BULLETS = BulletSpec(Connection, "connects_to", "how")
SERIES_CONNECTION_BULLETS = BulletSpec(ConnectionRow, "concept", "earlier")


def bullet_table(key: str, spec_: BulletSpec) -> Reader:
    """A section meant to hold a table whose rows are written as a bullet list instead."""

    def read(b: Builder, bi: int, stop: int) -> int | None:
        src = b.src
        lines = src.lines
        blk = src.items[bi]
        first = next((i for i in range(blk.start + 1, blk.end) if BULLET.match(lines[i])), None)
        if first is None:
            return None
        spans = bullet_spans(lines, first, blk.end)
        rows = b.values.setdefault(key, [])
        for n, (s, e) in enumerate(spans):
            if n == len(spans) - 1:
                s, e = trim_span(lines, s, e)
                last_end = e
            rows.append(spec_.make_row(src.text(s, e), line=s + 1))
        text = rows[-1].src
        end = line_end(text[-2:] if text.endswith("\r\n") else text[-1:])
        rows[-1].src = text[: len(text) - len(end)] if end else text
        b.slot(key, src.text(blk.start, first), end + src.text(last_end, blk.end))
        b.parts[-1].style["form"] = "bullets"
        b.claimed.add(key)
        return bi + 1

    return read


# ---------------------------------------------------------------- reviews and findings

FINDING_LABELS = {
    "location": "location",
    "issue": "issue",
    "student impact": "student_impact",
    "suggested fix": "suggested_fix",
}


def finding_title(title: str) -> re.Match[str] | None:
    m = FINDING_TITLE.match(title)
    if m is None:
        return None
    if not (m["lb"] and m["rb"]) and not (m["sep"] and m["sep"].strip()):
        return None
    return m


def read_finding(src: Source, j: int, stop: int) -> Finding:
    b = Builder(src)
    blk = src.items[j]
    m = finding_title(blk.title)
    assert m is not None
    style = {"prefix": m["prefix"], "lb": m["lb"], "rb": m["rb"], "sep": m["sep"] or ""}
    b.labelled_body(j, "heading", style, FINDING_LABELS)
    b.raw_blocks(j + 1, stop)
    values = {k: b.values.get(k, "") for k in FINDING_LABELS.values()}
    values["location"], rule_id = split_rule(values["location"])
    return Finding(
        line=blk.line,
        severity=Severity(m["sev"]),
        rule=rule_id,
        title=m["title"],
        layout=b.parts,
        **values,
    )


FINDING_RULE = re.compile(
    r"^(?P<location>.*?)\s*\(rule:\s*(?P<rule>[a-z0-9][a-z0-9-]*)\)\s*$", re.DOTALL
)


def split_rule(location: str) -> tuple[str, str | None]:
    """A Location value and the deterministic rule id written after it
    (``Notebook cell 3 (rule: notebook-runs)``); documents without one keep ``None``."""
    m = FINDING_RULE.match(location)
    if m is None:
        return location, None
    return m["location"], m["rule"]


def with_rule(location: str, rule_id: str | None) -> str:
    """The Location value as a document writes it: the rule id trailing (see :func:`split_rule`)."""
    if not rule_id:
        return location
    return f"{location} (rule: {rule_id})" if location else f"(rule: {rule_id})"


def read_counts(b: Builder, bi: int, stop: int) -> int | None:
    src = b.src
    blk = src.items[bi]
    body = src.lines[blk.start + 1 : blk.end]
    counts: dict[Severity, int] = {}
    style: dict[str, str] = {}
    order: list[str] = []
    ok = True
    for line in body:
        if is_blank(line):
            continue
        m = COUNT_LINE.match(bare(line))
        if m is None:
            ok = False
            continue
        sev = Severity(m["label"].upper())
        if sev in counts:
            ok = False
            continue
        counts[sev] = int(m["n"])
        order.append(sev.value)
        style[f"label.{sev.value}"] = m["label"]
        if m["note"]:
            style[f"note.{sev.value}"] = m["note"]
    b.values["counts"] = counts
    if not ok or not counts:
        return None
    head, _, tail = split_value(src.lines[blk.start], body)
    style["order"] = ",".join(order)
    b.slot("counts", head, tail, style=style)
    b.claimed.add("counts")
    return bi + 1


def read_verdict(b: Builder, bi: int, stop: int) -> int | None:
    m = VERDICT_TITLE.match(b.src.items[bi].title)
    if m is None:
        return None
    b.values["verdict_raw"] = m["raw"]
    b.values["verdict"] = Verdict.parse(m["raw"])
    b.heading_slot(bi, "verdict", {"prefix": m["prefix"]})
    b.claimed.add("verdict")
    return bi + 1


def read_review_finding(b: Builder, bi: int, stop: int) -> int | None:
    if finding_title(b.src.items[bi].title) is None:
        return None
    end = b.src.subtree(bi, stop)
    finding = read_finding(b.src, bi, end)
    trailer = detach_trailer(finding.layout)
    index = b.add("findings", finding)
    b.slot("findings", tail=trailer, index=index)
    return end


def findings_marker(b: Builder, bi: int, stop: int) -> int:
    blk = b.src.items[bi]
    b.slot("findings", b.src.text(blk.start, blk.end))
    b.claimed.add("findings")
    return bi + 1


REVIEW_RULES = (
    rule("counts", r"^summary$", read_counts),
    rule("verdict", r"^verdict\b", read_verdict),
    rule("finding", r"critical|improvement|polish", read_review_finding, repeat=True),
    rule("findings", r"^(new )?findings?$", findings_marker),
    rule("notes", r"^review notes", text("notes")),
)


def review_heading(title: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """Typed values and heading style of ``Review -- DATE (Iteration N/M)``."""
    m = REVIEW_TITLE.match(title)
    if m is None:
        return None
    values: dict[str, Any] = {"date": m["date"], "iteration": None, "of": None}
    style = {"sep": m["sep"]}
    rest = m["rest"]
    exact = ITERATION.match(rest)
    if exact:
        values.update(iteration=int(exact["i"]), of=int(exact["of"]))
        style["suffix"] = exact["suffix"]
    else:
        style["rest"] = rest
        loose = ITERATION_LOOSE.search(rest)
        if loose:
            values.update(iteration=int(loose["i"]), of=int(loose["of"]))
    return values, style


def read_review(src: Source, bi: int, stop: int) -> Review:
    b = Builder(src)
    blk = src.items[bi]
    read = review_heading(blk.title)
    assert read is not None
    values, style = read
    b.heading_slot(bi, "heading", style)
    b.claimed.add("heading")
    walk(b, bi + 1, stop, REVIEW_RULES)
    return Review(
        line=blk.line,
        findings=b.values.get("findings", []),
        counts=b.values.get("counts", {}),
        verdict=b.values.get("verdict"),
        verdict_raw=b.values.get("verdict_raw", ""),
        notes=b.values.get("notes", ""),
        layout=b.parts,
        **values,
    )


def reviews(b: Builder, bi: int, stop: int) -> int | None:
    if review_heading(b.src.items[bi].title) is None:
        return None
    end = b.src.subtree(bi, stop)
    review = read_review(b.src, bi, end)
    trailer = detach_trailer(review.layout)
    index = b.add("reviews", review)
    b.slot("reviews", tail=trailer, index=index)
    return end


# ---------------------------------------------------------------- per-lesson summaries

SUMMARY_LABELS = {
    "status": "status",
    "cognitive load": "cognitive_load",
    "cognitive load type": "cognitive_load",
    "notebook": "notebook",
    "review": "review",
}


def summary_heading(title: str) -> tuple[str, int | None, str]:
    """(slug, number, template) of a per-lesson summary heading, in any of its drifted forms."""
    spans: list[tuple[int, int, str]] = []
    slug = ""
    for pattern in SUMMARY_SLUG:
        m = pattern.search(title)
        if m:
            slug = m["slug"]
            spans.append((m.start("slug"), m.end("slug"), "slug"))
            break
    number = None
    n = LESSON_NUMBER.search(title)
    if n:
        number = int(n["number"])
        spans.append((n.start("number"), n.end("number"), "number"))
    if not slug:
        plain = re.sub(r"^Lesson\s+\d+\s*:\s*|\s*\([^)]*\)", "", title)
        slug = slugify(plain) or slugify(title)
    return slug, number, template_from_spans(title, spans)


def summary_item(b: Builder, j: int, stop: int) -> None:
    src = b.src
    blk = src.items[j]
    sub = Builder(src)
    slug, number, template = summary_heading(blk.title)
    segments = label_segments(src.lines, blk.start + 1, blk.end)
    first = next((s.start for s in segments if s.label is not None), blk.end)
    sub.heading_slot(j, "heading", {"template": template}, value_end=first)
    parts: list[SummaryPart] = []
    for seg in segments:
        if seg.label is None:
            continue
        key = SUMMARY_LABELS.get(norm(seg.label))
        if key is not None and key not in sub.claimed:
            _, value = sub.label_slot(seg, key)
            sub.values[key] = value
            sub.claimed.add(key)
            continue
        made, value = sub.label_slot(seg, "parts", index=len(parts))
        made.style["sep"] = made.head[len(seg.prefix) :]
        made.head = ""
        parts.append(SummaryPart(line=seg.start + 1, label=seg.label, text=value))
    sub.raw_blocks(j + 1, stop)
    summary = LessonSummary(
        line=blk.line, slug=slug, number=number, parts=parts, layout=sub.parts, **sub.values
    )
    trailer = detach_trailer(summary.layout)
    index = b.add("summaries", summary)
    b.slot("summaries", tail=trailer, index=index)


# ---------------------------------------------------------------- titles


def title_values(kind: str, title: str) -> tuple[dict[str, Any], str]:
    """Typed values in a document title and the template that writes them back."""
    m = TITLE_PATTERNS[kind].match(title)
    if m is None:
        return {"title": title}, "{title}"
    found: dict[str, Any] = {}
    spans: list[tuple[int, int, str]] = []
    for name, value in m.groupdict().items():
        if value is None:
            continue
        target = "title" if name == "slug_title" else name
        found[target] = value
        spans.append((m.start(name), m.end(name), target))
    return found, template_from_spans(title, spans)


def read_title(b: Builder, kind: str, known: dict[str, str]) -> int:
    """The preamble verbatim, then the title heading (if the file opens with one) and its labels.

    Returns the index of the first block after them.
    """
    b.raw_block(0)
    items_ = b.src.items
    if len(items_) < 2 or items_[1].level != 1:
        return 1
    values, template = title_values(kind, items_[1].title)
    b.values.update(values)
    b.labelled_body(1, "title", {"template": template}, known, one_paragraph=True)
    return 2


# ---------------------------------------------------------------- documents


def slug_from(value: str) -> tuple[str, str]:
    """``"`z-image`"`` -> ``("z-image", "`")``."""
    stripped = value.strip()
    if len(stripped) > 1 and stripped[0] == stripped[-1] == "`":
        return stripped[1:-1], "`"
    return stripped, ""


LESSON_LABELS = {
    "slug": "slug",
    "series": "series",
    "module": "module",
    "status": "status",
    "position": "position",
    "cognitive load": "cognitive_load",
    "cognitive load type": "cognitive_load",
    "load type": "cognitive_load",
}


PHASE_LABELS = (
    ("mental_models", re.compile(r"mental models")),
    ("not_covered", re.compile(r"not covered")),
    ("readiness", re.compile(r"^readiness")),
    ("target_concept", re.compile(r"^target concept")),
)


def phase_label(label: str | None, claimed: set[str]) -> str | None:
    """The lesson field a bold label in a phase's own body names (``None``: not one, or taken)."""
    if label is None:
        return None
    name = norm(label)
    return next((k for k, p in PHASE_LABELS if p.search(name) and k not in claimed), None)


def phase_block(b: Builder, bi: int, stop: int) -> int | None:
    """A ``## Phase N`` block's own body: Phase 1's concept table, then labelled fields.

    Many documents write the orient and analyze fields as bold-label paragraphs
    (``**Mental models established:**``, ``**Target concept:** ...``) straight
    under the phase heading instead of as sub-headings.
    """
    src = b.src
    blk = src.items[bi]
    lines = src.lines
    after = blk.start
    at = None
    if "relevant_concepts" not in b.claimed and re.search(
        r"^phase 1\b|student state", norm(blk.title)
    ):
        at = find_table(lines, blk.body_start, blk.end)
    if at is not None:
        after = read_table(lines, at, blk.end).end
    segments = [s for s in label_segments(lines, after, blk.end) if s.start >= after and s.label]
    first = next((s for s in segments if phase_label(s.label, b.claimed)), None)
    if at is None and first is None:
        return None
    end = first.start if first is not None else blk.end
    if at is not None:
        read = read_table(lines, at, end)
        mapping = RELEVANT_ROWS.mapping(read.header)
        rows = b.values.setdefault("relevant_concepts", [])
        for i in read.row_index:
            cells = RELEVANT_ROWS.row_cells(mapping, lines[i])
            rows.append(RELEVANT_ROWS.make_row(mapping, cells, line=i + 1, src=bare(lines[i])))
        made = {"header": bare(read.header_line), "separator": bare(read.separator_line)}
        if not lines[read.end - 1].endswith("\n"):
            made["open_end"] = "1"
        b.slot("relevant_concepts", src.text(blk.start, at), src.text(read.end, end), style=made)
        b.claimed.add("relevant_concepts")
    else:
        b.raw(blk.start, end, bare(lines[blk.start]), blk.level)
    for seg in segments:
        if seg.start < end:
            continue
        key = phase_label(seg.label, b.claimed)
        if key is None:
            b.raw(seg.start, seg.end)
            continue
        _, value = b.label_slot(seg, key)
        b.values[key] = value
        b.claimed.add(key)
    return bi + 1


LESSON_RULES = (
    rule("reviews", r"^review\s*(?:--|—|–|-|:)\s*\d{4}-\d\d-\d\d", reviews, repeat=True),
    rule("phase", r"^phase \d|student state", phase_block, repeat=True),
    rule("relevant_concepts", r"relevant concepts", table("relevant_concepts", RELEVANT_ROWS)),
    rule(
        "mental_models", r"mental models.*already|established mental models", text("mental_models")
    ),
    rule("not_covered", r"^what was (explicitly )?not covered", text("not_covered")),
    rule("readiness", r"^readiness", text("readiness")),
    rule("target_concept", r"^target concept", text("target_concept")),
    rule("prerequisites", r"^prerequisites?( table)?$", table("prerequisites", PREREQUISITE_ROWS)),
    rule("gaps", r"^gap resolution", table("gaps", GAP_ROWS)),
    rule(
        "misconceptions",
        r"^misconceptions?( table| addressed)?$",
        table("misconceptions", MISCONCEPTION_ROWS),
    ),
    rule("examples", r"^examples( planned| used)?$", table("examples", EXAMPLE_ROWS)),
    rule("narrative_arc", r"^narrative arc", text("narrative_arc")),
    rule("modalities", r"^modalities( planned| used)?$", table("modalities", MODALITY_ROWS)),
    rule(
        "cognitive_load_assessment",
        r"^cognitive load( assessment)?$",
        text("cognitive_load_assessment"),
    ),
    rule(
        "connections", r"^connections to prior concepts", table("connections", CONNECTION_PLAN_ROWS)
    ),
    rule(
        "connections",
        r"^connections to prior concepts",
        bullet_table("connections", CONNECTION_BULLETS),
    ),
    rule("analogies_to_extend", r"^analogies to extend", text("analogies_to_extend")),
    rule(
        "misleading_analogies", r"^analogies that could be misleading", text("misleading_analogies")
    ),
    rule("scope", r"^scope boundaries", text("scope")),
    rule("outline", r"^lesson outline", outline_list),
    rule("outline", r"^lesson outline", items("outline", outline_item)),
    rule("checklists", r"checklists?$", items("checklists", checklist_item)),
)


def lesson_plan_from(src: Source, path: Path | None) -> LessonPlan:
    b = Builder(src)
    start = read_title(b, "lesson", LESSON_LABELS)
    walk(b, start, len(src.items), LESSON_RULES)
    values = b.values
    slug, quote = slug_from(values.get("slug", ""))
    if quote:
        next(p for p in b.parts if isinstance(p, Slot) and p.key == "slug").style["quote"] = quote
    if not slug:
        title = values.get("title", "")
        slug = (
            path.stem
            if path is not None
            else (title if re.fullmatch(SLUG, title) else slugify(title))
        )
    values["slug"] = slug
    values.setdefault("title", "")
    return LessonPlan(line=title_line(src), layout=b.parts, **values)


def title_line(src: Source) -> int | None:
    return src.items[1].line if len(src.items) > 1 and src.items[1].level == 1 else None


PLAN_LABELS = {"status": "status", "prerequisites": "prerequisites"}


def topic_slug(label: str) -> str:
    for pattern in SUMMARY_SLUG[:2]:
        m = pattern.search(label)
        if m:
            return m["slug"]
    return label


def topics(b: Builder, bi: int, stop: int) -> int | None:
    src = b.src
    blk = src.items[bi]
    segments = [
        s for s in label_segments(src.lines, blk.start + 1, blk.end, bullet=True) if s.label
    ]
    if not segments:
        return None
    b.slot("topic_allocation", src.text(blk.start, segments[0].start))
    b.claimed.add("topic_allocation")
    found: dict[str, str] = b.values.setdefault("topic_allocation", {})
    for seg in segments:
        slug = topic_slug(seg.label or "")
        if slug in found:
            b.raw(seg.start, seg.end)
            continue
        made, value = b.label_slot(seg, "topic_allocation")
        made.style["slug"] = slug
        found[slug] = value
    return bi + 1


def cell_spans(line: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each cell's stripped text in a table row line."""
    text = bare(line)
    cuts = [m.start() for m in UNESCAPED_PIPE.finditer(text)]
    lead = text[: len(text) - len(text.lstrip(" \t"))]
    if not text.lstrip(" \t").startswith("|"):
        cuts.insert(0, len(lead) - 1)
    if not text.rstrip().endswith("|") or text.rstrip().endswith("\\|"):
        cuts.append(len(text))
    spans = []
    for a, z in pairwise(cuts):
        cell = text[a + 1 : z]
        left = len(cell) - len(cell.lstrip())
        spans.append((a + 1 + left, a + 1 + len(cell.rstrip())))
    return spans


def topics_table(b: Builder, bi: int, stop: int) -> int | None:
    """A topic allocation written as a table (Lesson | Topics | ...): one slot per row."""
    src = b.src
    blk = src.items[bi]
    lines = src.lines
    at = find_table(lines, blk.body_start, blk.end)
    if at is None:
        return None
    read = read_table(lines, at, blk.end)
    names = [norm(h) for h in read.header]
    lesson = next((i for i, h in enumerate(names) if re.search(r"lesson|slug", h)), 0)
    topic = next((i for i, h in enumerate(names) if "topic" in h), None)
    if topic is None or topic == lesson or not read.row_index:
        return None
    b.slot("topic_allocation", src.text(blk.start, read.row_index[0]))
    b.claimed.add("topic_allocation")
    found: dict[str, str] = b.values.setdefault("topic_allocation", {})
    for i in read.row_index:
        spans = cell_spans(lines[i])
        if len(spans) <= max(lesson, topic):
            b.raw(i, i + 1)
            continue
        text = bare(lines[i])
        slug = topic_slug(cell_text(text[spans[lesson][0] : spans[lesson][1]]))
        a, z = spans[topic]
        if not slug or slug in found:
            b.raw(i, i + 1)
            continue
        made = b.slot("topic_allocation", text[:a], text[z:] + line_end(lines[i]))
        made.style["slug"] = slug
        found[slug] = cell_text(text[a:z])
    b.raw(read.end, blk.end)
    return bi + 1


TOPIC_LABEL = re.compile(r"^lesson\s+(?P<n>\d+)\b\s*(?:\((?P<title>[^)]*)\))?", re.IGNORECASE)


def map_topic_labels(b: Builder) -> None:
    """Topic allocation labelled ``Lesson N (Title)`` instead of by slug -> keyed by slug.

    The plan's own lesson sequence names the slugs: a label whose title
    slugifies to one of them takes it; otherwise labels numbered k, k+1, ...
    map in order onto the sequence (numbering may run across the series).
    """
    found: dict[str, str] = b.values.get("topic_allocation", {})
    slugs = [topic_slug(row.lesson) for row in b.values.get("sequence", [])]
    slugs = [s for s in slugs if re.fullmatch(SLUG, s)]
    if not found or not slugs:
        return
    labels = {k: m for k in found if k not in slugs and (m := TOPIC_LABEL.match(k))}
    if not labels:
        return
    first = min(int(m["n"]) for m in labels.values())
    renamed: dict[str, str] = {}
    for key, m in labels.items():
        title = slugify(m["title"] or "")
        by_title = [s for s in slugs if title and (s == title or s.startswith(title + "-"))]
        index = int(m["n"]) - first
        slug = by_title[0] if len(by_title) == 1 else (slugs[index] if index < len(slugs) else "")
        if slug and slug not in found and slug not in renamed.values():
            renamed[key] = slug
    if not renamed:
        return
    b.values["topic_allocation"] = {renamed.get(k, k): v for k, v in found.items()}
    for part in b.parts:
        slug = part.style.get("slug") if isinstance(part, Slot) else None
        if isinstance(part, Slot) and part.key == "topic_allocation" and slug in renamed:
            part.style["slug"] = renamed[slug]


MODULE_PLAN_RULES = (
    rule("goal", r"^(module )?goal$", text("goal")),
    rule("narrative_arc", r"^narrative arc", text("narrative_arc")),
    rule("sequence", r"^lesson sequence", table("sequence", SEQUENCE_ROWS)),
    rule("topic_allocation", r"topic allocation", topics),
    rule("topic_allocation", r"topic allocation", topics_table),
    rule(
        "load_trajectory", r"^cognitive load trajectory", table("load_trajectory", TRAJECTORY_ROWS)
    ),
    rule("misconceptions", r"misconceptions", bullets("misconceptions")),
)


def module_plan_from(src: Source, path: Path | None) -> ModulePlan:
    b = Builder(src)
    start = read_title(b, "module_plan", PLAN_LABELS)
    walk(b, start, len(src.items), MODULE_PLAN_RULES)
    map_topic_labels(b)
    b.values.setdefault("title", "")
    b.values.setdefault("module", module_from_path(path))
    return ModulePlan(line=title_line(src), layout=b.parts, **b.values)


def module_from_path(path: Path | None) -> str:
    if path is not None:
        m = re.fullmatch(r"module-(\d+)-(\d+)", path.parent.name)
        if m:
            return f"{m[1]}.{m[2]}"
    return ""


RECORD_LABELS = {"goal": "goal", "status": "status"}
RECORD_RULES = (
    rule("concepts", r"^concept index", table("concepts", CONCEPT_ROWS)),
    rule("summaries", r"^(per-lesson|lesson) summar", items("summaries", summary_item)),
)


def module_record_from(src: Source, path: Path | None) -> ModuleRecord:
    b = Builder(src)
    start = read_title(b, "record", RECORD_LABELS)
    walk(b, start, len(src.items), RECORD_RULES)
    b.values.setdefault("title", "")
    b.values.setdefault("module", module_from_path(path))
    return ModuleRecord(line=title_line(src), layout=b.parts, **b.values)


def lesson_table(b: Builder, bi: int, stop: int) -> int | None:
    m = MODULE_HEADING.match(norm(b.src.items[bi].title))
    if m is None:
        return None
    module = m["module"]
    done = {p.style.get("module") for p in b.parts if isinstance(p, Slot) and p.key == "lessons"}
    if module in done:
        return None
    return b.table_section(bi, "lessons", LESSON_REFS, {"module": module}, {"module": module})


SERIES_RULES = (
    rule("goal", r"^(series )?goal$", text("goal")),
    rule("modules", r"^modules?( and lessons| overview)?$", table("modules", MODULE_ROWS)),
    rule("lessons", r"^module\s+\d", lesson_table, repeat=True),
    rule("connections", r"^connections to", table("connections", CONNECTION_ROWS)),
    rule("connections", r"^connections to", bullet_table("connections", SERIES_CONNECTION_BULLETS)),
)


def series_plan_from(src: Source, path: Path | None) -> SeriesPlan:
    b = Builder(src)
    start = read_title(b, "series", PLAN_LABELS)
    walk(b, start, len(src.items), SERIES_RULES)
    b.values.setdefault("title", "")
    if "number" not in b.values:
        m = re.fullmatch(r"series-(\d+)", path.parent.name) if path is not None else None
        b.values["number"] = m[1] if m else ""
    return SeriesPlan(line=title_line(src), layout=b.parts, **b.values)


COURSE_RULES = (
    rule("goal", r"^goal$", text("goal")),
    rule("series", r"^series$", table("series", SERIES_ROWS)),
    rule("modules", r"^modules?( status)?$", table("modules", MODULE_STATUS_ROWS)),
)


def course_from(src: Source, path: Path | None) -> Course:
    b = Builder(src)
    start = read_title(b, "course", {})
    walk(b, start, len(src.items), COURSE_RULES)
    b.values.setdefault("title", "")
    return Course(line=title_line(src), layout=b.parts, **b.values)


# ---------------------------------------------------------------- public API


def guarded(read: Callable[[Source, Path | None], Any], text: str, path: Path | None) -> Any:
    """Run a document reader; any failure becomes a one-line :class:`RecordsError`."""
    try:
        return read(Source.of(text), path)
    except RecordsError:
        raise
    except Exception as exc:
        raise RecordsError(
            f"cannot read this record file ({type(exc).__name__}: {exc})", path=path
        ) from exc


def parse_course(text: str, path: Path | None = None) -> Course:
    return guarded(course_from, text, path)


def parse_series_plan(text: str, path: Path | None = None) -> SeriesPlan:
    return guarded(series_plan_from, text, path)


def parse_module_plan(text: str, path: Path | None = None) -> ModulePlan:
    return guarded(module_plan_from, text, path)


def parse_module_record(text: str, path: Path | None = None) -> ModuleRecord:
    return guarded(module_record_from, text, path)


def parse_lesson_plan(text: str, path: Path | None = None) -> LessonPlan:
    return guarded(lesson_plan_from, text, path)


def read_text(path: Path) -> str:
    """A record file's text; :class:`RecordsError` (naming file and line) when it cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecordsError("no such file", path=path) from None
    except IsADirectoryError:
        raise RecordsError("is a directory, not a record file", path=path) from None
    except OSError as exc:
        raise RecordsError(f"cannot read: {exc.strerror or exc}", path=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RecordsError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", path=path, line=line
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise RecordsError("not a text file (contains NUL bytes)", path=path, line=line)
    return text.removeprefix("\ufeff")


def kind_of(path: Path) -> str | None:
    """Which record kind a path holds by the folder convention, or ``None``."""
    name, parent = path.name, path.parent.name
    if name == "course.md":
        return "course"
    if name == "plan.md" and re.fullmatch(r"module-\d+-\d+", parent):
        return "module_plan"
    if name == "plan.md" and re.fullmatch(r"series-\d+", parent):
        return "series_plan"
    if name == "record.md":
        return "module_record"
    if parent == "lessons" and path.suffix == ".md":
        return "lesson_plan"
    return None


PARSERS: dict[str, Callable[[str, Path | None], Any]] = {
    "course": parse_course,
    "series_plan": parse_series_plan,
    "module_plan": parse_module_plan,
    "module_record": parse_module_record,
    "lesson_plan": parse_lesson_plan,
}


def parse_file(path: Path) -> Document | None:
    """Parse a record file by its name and place; ``None`` for files that are no record."""
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        return None
    return PARSERS[kind](read_text(path), path)
