"""A tolerant reader for the markdown the record files are written in.

Nothing here knows what a lesson or a review is: this module finds headings
(any level, never inside a code fence), splits text into blocks, reads pipe
tables and bold-labelled fields, and always keeps the exact text it was given
so that callers can put back what they do not understand.

Lines keep their line endings (``"...\\n"``); joining them gives back the
input byte for byte.  Line numbers in results are 1-based.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


class Fences:
    """Code-fence state over consecutive lines (the one fence rule of the records parser):
    :meth:`fence_line` is True for an opening or closing fence line; :attr:`inside` is True
    between them. A fence closes with the same character, at least as long as it opened."""

    def __init__(self) -> None:
        self.open: str | None = None

    @property
    def inside(self) -> bool:
        return self.open is not None

    def fence_line(self, line: str) -> bool:
        m = FENCE.match(line)
        if not m:
            return False
        mark = m.group(1)
        if self.open is None:
            self.open = mark
        elif mark[0] == self.open[0] and len(mark) >= len(self.open):
            self.open = None
        return True


THEMATIC_BREAK = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$")
SEPARATOR_CELL = re.compile(r"^\s*:?-+:?\s*$")
LABEL = re.compile(r"^\*\*([^*\n]+?):\*\*")
DASH_SPLIT = re.compile(r"\s+(?:--|—|–)\s+")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its ``\\n`` (the last one may have none)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def bare(line: str) -> str:
    """A line without its line ending."""
    return line.rstrip("\r\n")


def is_blank(line: str) -> bool:
    return not line.strip()


def is_break(line: str) -> bool:
    return bool(THEMATIC_BREAK.match(line))


# ---------------------------------------------------------------- blocks


@dataclass(slots=True)
class Block:
    """A heading and its own body, up to the next heading of any level.

    ``level`` is 0 for the preamble before the first heading.  ``start`` is
    the index of the heading line (0-based), ``end`` is exclusive.
    """

    level: int
    title: str
    start: int
    end: int

    @property
    def body_start(self) -> int:
        return self.start if self.level == 0 else self.start + 1

    @property
    def line(self) -> int:
        return self.start + 1


def heading_of(line: str) -> tuple[int, str] | None:
    """``(level, title)`` when ``line`` is an ATX heading, else ``None``."""
    if not line.startswith("#"):
        return None
    m = HEADING.match(bare(line))
    if not m:
        return None
    title = re.sub(r"[ \t]+#+$", "", m.group(2))
    return len(m.group(1)), title


def heading_positions(lines: list[str]) -> list[tuple[int, int, str]]:
    """``(index, level, title)`` of every heading outside code fences."""
    found: list[tuple[int, int, str]] = []
    fences = Fences()
    for i, line in enumerate(lines):
        first = line[:1]
        if first in ("`", "~", " ", "\t") and fences.fence_line(line):
            continue
        if not fences.inside and first == "#":
            h = heading_of(line)
            if h:
                found.append((i, h[0], h[1]))
    return found


def blocks(lines: list[str]) -> list[Block]:
    """Split lines into blocks; the first block is the (possibly empty) preamble."""
    heads = heading_positions(lines)
    result = [Block(0, "", 0, heads[0][0] if heads else len(lines))]
    for n, (i, level, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        result.append(Block(level, title, i, end))
    return result


def subtree_end(items: list[Block], i: int) -> int:
    """Index (into ``items``) just past block ``i`` and all blocks nested below it."""
    level = items[i].level
    j = i + 1
    while j < len(items) and items[j].level > level:
        j += 1
    return j


@dataclass(slots=True)
class Section:
    """A heading with its body and its nested sections (a tree view of blocks)."""

    level: int
    title: str
    line: int
    body: str
    children: list[Section] = field(default_factory=list)


def section_tree(text: str) -> Section:
    """The document as a tree: the root holds the preamble; every heading nests by level."""
    lines = split_lines(text)
    items = blocks(lines)
    root = Section(0, "", 1, "".join(lines[items[0].start : items[0].end]))
    stack = [root]
    for b in items[1:]:
        node = Section(b.level, b.title, b.line, "".join(lines[b.body_start : b.end]))
        while stack[-1].level >= b.level and len(stack) > 1:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
    return root


def split_title(title: str) -> tuple[str, str, str]:
    """``"Series 7: X -- Plan"`` -> ``("Series 7: X", " -- ", "Plan")``; no dash: ``(title, "", "")``.

    Splits at the last `` -- `` / `` — `` separator.
    """
    matches = list(DASH_SPLIT.finditer(title))
    if not matches:
        return title, "", ""
    m = matches[-1]
    return title[: m.start()], m.group(0), title[m.end() :]


# ---------------------------------------------------------------- tables


@dataclass(slots=True)
class TableRead:
    """A pipe table as read: raw header/separator lines, cells per row, row indices."""

    header_line: str
    separator_line: str
    header: list[str]
    row_lines: list[str]
    row_index: list[int]
    start: int
    end: int

    @property
    def rows(self) -> list[list[str]]:
        """Cells of each row (split on demand)."""
        return [split_row(line) for line in self.row_lines]


def is_table_line(line: str) -> bool:
    return line.lstrip(" \t").startswith("|")


def split_pieces(line: str) -> list[str]:
    """A table row split at unescaped pipes, cells unstripped; no closing pipe is fine."""
    text = bare(line).strip()
    text = text.removeprefix("|")
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return UNESCAPED_PIPE.split(text)


def cell_text(piece: str) -> str:
    return piece.strip().replace("\\|", "|")


def split_row(line: str) -> list[str]:
    """Cells of a table row; tolerant of a missing closing pipe; ``\\|`` is a literal pipe."""
    return [cell_text(c) for c in split_pieces(line)]


def fit_cells(
    pieces: list[str], width: int, anchors: list[int], is_anchor: Callable[[str], bool]
) -> list[str]:
    """Cells for a row with more pieces than its header has columns.

    Authors write pipes inside cells without escaping them (``P(A|B)``).  A
    column whose values are recognisable (``anchors``, e.g. a depth column)
    shows where the row really continues: the pieces before it are joined
    back into the column in front of it.  Any overflow left is joined back
    into the last column, where long prose lives.
    """
    pieces = list(pieces)
    over = len(pieces) - width
    for a in anchors:
        if over <= 0 or a == 0:
            break
        k = next((k for k in range(over + 1) if is_anchor(cell_text(pieces[a + k]))), None)
        if k:
            pieces[a - 1 : a + k] = ["|".join(pieces[a - 1 : a + k])]
            over -= k
    if over > 0 and width > 0:
        pieces[width - 1 :] = ["|".join(pieces[width - 1 :])]
    return [cell_text(c) for c in pieces]


def is_separator(line: str) -> bool:
    cells = split_row(line)
    return bool(cells) and all(SEPARATOR_CELL.match(c) for c in cells)


def read_table(lines: list[str], start: int, end: int) -> TableRead:
    """Read the table whose header is ``lines[start]``; stops at the first non-table line."""
    header_line = lines[start]
    i = start + 1
    separator_line = ""
    if i < end and is_table_line(lines[i]) and is_separator(lines[i]):
        separator_line = lines[i]
        i += 1
    rows: list[str] = []
    index: list[int] = []
    while i < end and is_table_line(lines[i]):
        rows.append(lines[i])
        index.append(i)
        i += 1
    return TableRead(header_line, separator_line, split_row(header_line), rows, index, start, i)


def continued_rows(lines: list[str], end: int, stop: int, width: int) -> tuple[int, int] | None:
    """``(first, last)`` of table rows that continue a table ending at ``end`` after blank lines.

    Rows written after a blank line with no header and separator of their own, as
    wide as the table, are more rows of it (a concept index grouped by lesson);
    ``None`` when what follows the blank lines is anything else.
    """
    first = end
    while first < stop and is_blank(lines[first]):
        first += 1
    if first == end or first >= stop or not is_table_line(lines[first]):
        return None
    if is_separator(lines[first]) or len(split_pieces(lines[first])) < width:
        return None
    if first + 1 < stop and is_table_line(lines[first + 1]) and is_separator(lines[first + 1]):
        return None  # a header of its own: another table
    last = first
    while last < stop and is_table_line(lines[last]):
        last += 1
    return first, last


def find_table(lines: list[str], start: int, end: int) -> int | None:
    """Index of the first table line in ``lines[start:end]`` outside code fences."""
    fences = Fences()
    for i in range(start, end):
        line = lines[i]
        if fences.fence_line(line):
            continue
        if not fences.inside and is_table_line(line):
            return i
    return None


def escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def row_line(cells: list[str]) -> str:
    """``| a | b |`` (an empty cell is written ``| |``)."""
    return "|" + "".join(f" {escape_cell(c)} |" if c else " |" for c in cells) + "\n"


# ---------------------------------------------------------------- spans of lines


def trim_span(lines: list[str], start: int, end: int, breaks: bool = True) -> tuple[int, int]:
    """Shrink ``[start, end)`` past leading blank lines and trailing blank (or break) lines."""
    while start < end and is_blank(lines[start]):
        start += 1
    while end > start and (is_blank(lines[end - 1]) or (breaks and is_break(lines[end - 1]))):
        end -= 1
    return start, end


def value_text(lines: list[str], start: int, end: int) -> str:
    """The text of ``lines[start:end]`` without the final line ending."""
    text = "".join(lines[start:end])
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def ending(lines: list[str], end: int) -> str:
    """The line ending the value that stops before ``end`` had (``\\n``, ``\\r\\n`` or none)."""
    if end == 0:
        return ""
    last = lines[end - 1]
    if last.endswith("\r\n"):
        return "\r\n"
    return "\n" if last.endswith("\n") else ""


# ---------------------------------------------------------------- bold-labelled fields


@dataclass(slots=True)
class LabelSegment:
    """``**Label:** value`` up to the next label line; ``label`` is ``None`` for text before any."""

    label: str | None
    prefix: str
    start: int
    end: int


def label_segments(
    lines: list[str], start: int, end: int, bullet: bool = False
) -> list[LabelSegment]:
    """Split ``lines[start:end]`` at lines that begin with a bold label (outside code fences).

    With ``bullet`` a label may follow a ``- `` list marker (``- **Lesson 1 (x):** ...``).
    """
    segments: list[LabelSegment] = []
    fences = Fences()
    current = LabelSegment(None, "", start, end)
    for i in range(start, end):
        line = lines[i]
        if fences.fence_line(line) or fences.inside:
            continue
        text = line[2:] if bullet and line.startswith(("- ", "* ")) else line
        lm = LABEL.match(text)
        if not lm:
            continue
        current.end = i
        if current.label is not None or current.end > current.start:
            segments.append(current)
        prefix_len = len(line) - len(text) + lm.end()
        current = LabelSegment(lm.group(1), line[:prefix_len], i, end)
    current.end = end
    if current.label is not None or current.end > current.start:
        segments.append(current)
    return segments
