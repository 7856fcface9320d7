"""Records regeneration rewrites only what the tree proves false: unknown is not false.

Each case comes from a run on a course the tool was not tuned on; the trees are
small and written here in our own words.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lesson_author.course.records import regenerate
from lesson_author.course.tree import CourseTree


def write_tree(
    root: Path,
    *,
    record_status: str = "Complete (2 of 2 lessons built)",
    series_status: str = "In progress",
    lessons_cell: str = "2",
    module_status: str = "complete",
    second_module_status: str = "planned",
    course_status: str = "in progress",
    second_record: bool = False,
) -> Path:
    (root / "series-1" / "module-1-1").mkdir(parents=True)
    (root / "series-1" / "module-1-2").mkdir(parents=True)
    (root / "course.md").write_text(
        "# Course: Tide Pools\n\n## Series\n\n| Series | Title | Status |\n|---|---|---|\n"
        f"| 1 | Shore Life | {course_status} |\n"
    )
    (root / "series-1" / "plan.md").write_text(
        f"# Series 1: Shore Life -- Plan\n\n**Status:** {series_status}\n\n## Modules\n\n"
        "| Module | Title | Lessons | Status | Focus |\n|---|---|---|---|---|\n"
        f"| 1.1 | Rocks | {lessons_cell} | {module_status} | what lives on rocks |\n"
        f"| 1.2 | Sand | 1 | {second_module_status} | what lives in sand |\n\n"
        "## Module 1.1: Rocks\n\n| # | Slug | Title | Description |\n|---|---|---|---|\n"
        "| 1 | barnacles | Barnacles | filter feeders |\n| 2 | limpets | Limpets | grazers |\n\n"
        "## Module 1.2: Sand\n\n| # | Slug | Title | Description |\n|---|---|---|---|\n"
        "| 1 | sand-crabs | Sand Crabs | burrowers |\n"
    )
    (root / "series-1" / "module-1-1" / "record.md").write_text(
        f"# Module 1.1: Rocks -- Record\n\n**Status:** {record_status}\n\n## Concept Index\n\n"
        "| Concept | Depth | Lesson | Notes |\n|---|---|---|---|\n"
        "| Filter feeding | DEVELOPED | barnacles | |\n| Grazing | INTRODUCED | limpets | |\n"
    )
    if second_record:
        (root / "series-1" / "module-1-2" / "record.md").write_text(
            "# Module 1.2: Sand -- Record\n\n**Status:** Complete (1 of 1 lessons built)\n\n"
            "## Concept Index\n\n| Concept | Depth | Lesson | Notes |\n|---|---|---|---|\n"
            "| Burrowing | DEVELOPED | sand-crabs | |\n"
        )
    return root


def changed(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): text for p, text in regenerate(CourseTree.open(root)).items()}


def test_open_ended_module_status_is_kept(tmp_path: Path) -> None:
    root = write_tree(tmp_path, record_status="Active (2 of ? lessons built -- open-ended module)")
    assert "series-1/module-1-1/record.md" not in changed(root)


def test_open_ended_module_with_a_wrong_built_count_is_fixed(tmp_path: Path) -> None:
    root = write_tree(tmp_path, record_status="Active (5 of ? lessons built -- open-ended module)")
    new = changed(root)["series-1/module-1-1/record.md"]
    assert "**Status:** Complete (2 of 2 lessons built)" in new


def test_series_without_a_fixed_scope_is_not_called_complete(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        series_status="Ongoing (no fixed scope)",
        second_module_status="complete",
        course_status="ongoing",
        second_record=True,
    )
    new = changed(root)
    assert "series-1/plan.md" not in new and "course.md" not in new


def test_a_true_lessons_cell_in_its_own_words_is_kept(tmp_path: Path) -> None:
    root = write_tree(tmp_path, lessons_cell="2 (complete)")
    assert "series-1/plan.md" not in changed(root)


def test_a_false_lessons_cell_is_still_fixed(tmp_path: Path) -> None:
    root = write_tree(tmp_path, lessons_cell="3 (complete)")
    assert "| 1.1 | Rocks | 2 of 2 | complete |" in changed(root)["series-1/plan.md"]


def test_a_module_without_a_record_keeps_its_status(tmp_path: Path) -> None:
    # module 1.2 has no record in the tree: nothing says its lesson is unbuilt
    root = write_tree(tmp_path, second_module_status="complete", course_status="complete")
    new = changed(root)
    assert "series-1/plan.md" not in new and "course.md" not in new


@pytest.mark.corpus
def test_seed_tree_without_records_for_earlier_modules(tmp_path: Path, seeds_dir: Path) -> None:
    # the seed documents as a tree: series plan, module 7.4's plan, record and lesson only;
    # modules 7.1-7.3 have no record, so their "complete" rows are not proven false
    module = tmp_path / "series-7" / "module-7-4"
    (module / "lessons").mkdir(parents=True)

    def seed(prefix: str) -> Path:
        return next(seeds_dir.glob(f"{prefix}_*.txt"))

    shutil.copy(seed("003"), tmp_path / "series-7" / "plan.md")
    shutil.copy(seed("000"), module / "plan.md")
    shutil.copy(seed("001"), module / "record.md")
    shutil.copy(seed("004"), module / "lessons" / "z-image.md")
    before = (tmp_path / "series-7" / "plan.md").read_text().splitlines()
    new = changed(tmp_path).get("series-7/plan.md")
    after = new.splitlines() if new is not None else before
    for old_line, new_line in zip(before, after, strict=True):
        if old_line.startswith(("| 7.1 ", "| 7.2 ", "| 7.3 ")):
            assert new_line == old_line
