"""The tolerant markdown reader: headings, code fences, tables, labels, line numbers."""

from __future__ import annotations

from lesson_author.course.markdown import (
    blocks,
    fit_cells,
    label_segments,
    read_table,
    section_tree,
    split_lines,
    split_pieces,
    split_row,
    split_title,
)

DOC = """\
# Title -- Plan

intro
## Two — em dash
### Three
```python
# not a heading
## nor this
```
#### Four
##### Five
###### Six
####### seven hashes is text
#no-space is text
"""


def test_split_lines_keeps_every_byte() -> None:
    for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\n"]:
        assert "".join(split_lines(text)) == text


def test_headings_of_every_level_and_none_inside_fences() -> None:
    found = [(b.level, b.title, b.line) for b in blocks(split_lines(DOC))[1:]]
    assert found == [
        (1, "Title -- Plan", 1),
        (2, "Two — em dash", 4),
        (3, "Three", 5),
        (4, "Four", 10),
        (5, "Five", 11),
        (6, "Six", 12),
    ]


def test_blocks_cover_the_text_exactly() -> None:
    lines = split_lines(DOC)
    items = blocks(lines)
    assert "".join("".join(lines[b.start : b.end]) for b in items) == DOC
    assert items[0].level == 0 and items[0].start == items[0].end == 0


def test_section_tree_nests_by_level_and_keeps_stray_text() -> None:
    root = section_tree(DOC)
    (title,) = root.children
    assert title.body == "\nintro\n"
    (two,) = title.children
    (three,) = two.children
    assert "# not a heading" in three.body
    assert [c.title for c in three.children] == ["Four"]


def test_split_title_on_either_dash() -> None:
    assert split_title("Series 7: Post-SD Advances -- Plan") == (
        "Series 7: Post-SD Advances",
        " -- ",
        "Plan",
    )
    assert split_title("Module 2.1: PyTorch Core — Plan")[2] == "Plan"
    assert split_title("No dash here") == ("No dash here", "", "")


def test_table_with_missing_and_extra_cells_and_escaped_pipes() -> None:
    lines = split_lines(
        "| A | B | C |\n|---|:--:|---|\n| 1 | 2 |\n| x \\| y | 2 | 3 | 4 |\n|| |z|\nafter\n"
    )
    table = read_table(lines, 0, len(lines))
    assert table.header == ["A", "B", "C"]
    assert table.separator_line == "|---|:--:|---|\n"
    assert table.rows == [["1", "2"], ["x | y", "2", "3", "4"], ["", "", "z"]]
    assert table.row_index == [2, 3, 4]
    assert table.end == 5


def test_truncated_table_row_without_closing_pipe_at_end_of_file() -> None:
    lines = split_lines("| A | B |\n|---|---|\n| 1 | 2 |\n| 3 | trunc")
    table = read_table(lines, 0, len(lines))
    assert table.rows == [["1", "2"], ["3", "trunc"]]


def test_header_without_separator_is_still_a_table() -> None:
    lines = split_lines("| A | B |\n| 1 | 2 |\n")
    table = read_table(lines, 0, len(lines))
    assert table.separator_line == ""
    assert table.rows == [["1", "2"]]


def test_split_row_tolerates_missing_pipes() -> None:
    assert split_row("a | b") == ["a", "b"]
    assert split_row("| a | b") == ["a", "b"]
    assert split_pieces("| a |b|") == [" a ", "b"]


def test_unescaped_pipes_are_mended_at_an_anchor_column() -> None:
    pieces = split_pieces("| q(x_t|x_0) formula | DEVELOPED | lesson | P(a | b) notes |")
    cells = fit_cells(pieces, 4, [1], lambda c: c == "DEVELOPED")
    assert cells == ["q(x_t|x_0) formula", "DEVELOPED", "lesson", "P(a | b) notes"]


def test_label_segments_split_at_bold_labels_outside_fences() -> None:
    lines = split_lines(
        "intro\n**Location:** here\n**Issue:** one\ntwo\n```\n**Not:** a label\n```\n"
        "- **Lesson 1 (x):** bullet\n"
    )
    segments = label_segments(lines, 0, len(lines))
    assert [(s.label, s.start, s.end) for s in segments] == [
        (None, 0, 1),
        ("Location", 1, 2),
        ("Issue", 2, 8),
    ]
    with_bullets = label_segments(lines, 0, len(lines), bullet=True)
    assert with_bullets[-1].label == "Lesson 1 (x)"
    assert with_bullets[-1].prefix == "- **Lesson 1 (x):**"
