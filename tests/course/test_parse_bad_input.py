"""Hand-made bad input: unreadable files fail with one RecordsError naming file and line;
half-written documents are read as far as they go, never with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from lesson_author.course.models import LessonPlan, ModuleRecord
from lesson_author.course.parse import (
    parse_course,
    parse_file,
    parse_lesson_plan,
    parse_module_plan,
    parse_module_record,
    parse_series_plan,
    read_text,
)
from lesson_author.course.render import render_lesson_plan, render_module_record
from lesson_author.errors import RecordsError

RECORD = """\
# Module 7.4: Next-Generation Architectures -- Record

**Goal:** Trace the architectures.
**Status:** In progress (1 of 4 lessons built)

## Concept Index

| Concept | Depth | Lesson | Notes |
|---------|-------|--------|-------|
| Patchify | DEVELOPED | diffusion-transformers | traced |
| adaLN-Zero | DEVELOPED | diffusion-transformers"""


def write(tmp_path: Path, rel: str, data: bytes | str) -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(RecordsError) as err:
        read_text(tmp_path / "nowhere" / "record.md")
    assert str(err.value) == f"{tmp_path / 'nowhere' / 'record.md'}: no such file"


def test_directory_is_not_a_record(tmp_path: Path) -> None:
    with pytest.raises(RecordsError, match="is a directory"):
        read_text(tmp_path)


def test_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "series-7/module-7-4/record.md", b"# Module\n\nok\ncaf\xe9\n")
    with pytest.raises(RecordsError) as err:
        parse_file(path)
    assert err.value.path == path and err.value.line == 4
    assert str(err.value).startswith(f"{path}:4: not UTF-8")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "course.md", b"# Course\n\x00\x01")
    with pytest.raises(RecordsError, match="NUL") as err:
        read_text(path)
    assert err.value.line == 2


def test_truncated_table_at_end_of_file_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    path = write(tmp_path, "series-7/module-7-4/record.md", RECORD)
    record = parse_file(path)
    assert isinstance(record, ModuleRecord)
    assert [(c.concept, c.lesson, c.line) for c in record.concepts] == [
        ("Patchify", "diffusion-transformers", 10),
        ("adaLN-Zero", "diffusion-transformers", 11),
    ]
    assert render_module_record(record) == RECORD


def test_table_header_without_separator(tmp_path: Path) -> None:
    text = RECORD.replace("|---------|-------|--------|-------|\n", "")
    record = parse_module_record(text)
    assert len(record.concepts) == 2
    assert render_module_record(record) == text


def test_rows_with_missing_and_extra_cells_keep_everything() -> None:
    text = RECORD + " |\n| Short row | INTRODUCED |\n| Long | APPLIED | sdxl | n | extra | more |\n"
    record = parse_module_record(text)
    short, long = record.concepts[-2:]
    assert (short.concept, short.lesson, short.notes) == ("Short row", "", "")
    # cells beyond the header are (most often) an unescaped pipe in the last, prose column
    assert long.notes == "n | extra | more" and long.extra == []
    assert render_module_record(record) == text
    assert render_module_record(record, verbatim_rows=False).endswith(
        "| Short row | INTRODUCED | | |\n| Long | APPLIED | sdxl | n \\| extra \\| more |\n"
    )


def test_columns_no_field_takes_are_kept_in_extra() -> None:
    text = RECORD.replace("| Notes |", "| Notes | Widget |").replace("| traced |", "| traced | W |")
    record = parse_module_record(text)
    assert record.concepts[0].notes == "traced" and record.concepts[0].extra == ["W"]
    assert "| Patchify | DEVELOPED | diffusion-transformers | traced | W |\n" in (
        render_module_record(record, verbatim_rows=False)
    )


def test_half_written_lesson_plan_is_read_without_error(tmp_path: Path) -> None:
    text = (
        "# Lesson: Half\n\n**Slug:** `half`\n\n## Phase 2: Analyze\n\n### Prerequisites Table\n\n"
        "| Concept | Required Depth | Actual Depth | Source Lesson | Status | Reasoning |\n"
        "|---------|---------------|-------------|---------------|--------|\n"
        "| Patchify | DEVELOPED | DEVELOPED | diffusion-transformers | OK\n"
        "## Review -- 2026-02-20 (Iteration 1/3)\n\n### Summary\n- Critical: 1\n\n"
        "### Verdict: MAJOR REVISION\n\n### Findings\n\n#### [CRITICAL] -- Notebook missing\n\n"
        "**Location:** Practice\n**Issue:**"
    )
    path = write(tmp_path, "series-7/module-7-4/lessons/half.md", text)
    plan = parse_file(path)
    assert isinstance(plan, LessonPlan)
    assert plan.slug == "half" and plan.prerequisites[0].status == "OK"
    (review,) = plan.reviews
    assert review.findings[0].location == "Practice" and review.findings[0].issue == ""
    assert render_lesson_plan(plan) == text


@pytest.mark.parametrize(
    "read",
    [parse_course, parse_series_plan, parse_module_plan, parse_module_record, parse_lesson_plan],
)
@pytest.mark.parametrize(
    "text",
    ["", "\n", "no heading at all\n", "## Review -- 2026-01-01\n", "| a |\n|", "#", "```\n# x\n"],
)
def test_odd_documents_never_raise_anything_but_records_error(read, text: str) -> None:
    model = read(text)
    assert model is not None


def test_parse_file_dispatches_by_location(tmp_path: Path) -> None:
    assert parse_file(write(tmp_path, "series-7/summary.md", "# Summary\n")) is None
    assert type(parse_file(write(tmp_path, "course.md", "# Course: C\n"))).__name__ == "Course"
    plan = parse_file(write(tmp_path, "series-7/plan.md", "# Series 7: X -- Plan\n"))
    assert type(plan).__name__ == "SeriesPlan" and plan.number == "7"
    module = parse_file(write(tmp_path, "series-7/module-7-4/plan.md", "# Plan\n"))
    assert type(module).__name__ == "ModulePlan" and module.module == "7.4"
    lesson = parse_file(write(tmp_path, "series-7/module-7-4/lessons/z-image.md", "# Lesson: Z\n"))
    assert isinstance(lesson, LessonPlan) and lesson.slug == "z-image"
