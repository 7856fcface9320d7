"""``author status`` facts: built vs planned per series and module, last verdict per lesson."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from example_course import EXAMPLE_COURSE as EXAMPLE
from rich.console import Console

from lesson_author.course.models import Verdict
from lesson_author.course.status import course_status, print_status
from lesson_author.course.tree import CourseTree


def seed(seeds_dir: Path, number: str) -> Path:
    return next(seeds_dir.glob(f"{number}_*.txt"))


@pytest.fixture
def before_z_image(tmp_path: Path, seeds_dir: Path) -> CourseTree:
    module = tmp_path / "series-7" / "module-7-4"
    (module / "lessons").mkdir(parents=True)
    shutil.copy(seed(seeds_dir, "003"), tmp_path / "series-7" / "plan.md")
    shutil.copy(seed(seeds_dir, "002"), module / "record.md")
    shutil.copy(seed(seeds_dir, "004"), module / "lessons" / "z-image.md")
    return CourseTree.open(tmp_path)


def render(tree: CourseTree) -> str:
    console = Console(record=True, width=200, force_terminal=False)
    print_status(tree, console)
    return console.export_text()


def test_module_progress_and_last_verdicts(before_z_image: CourseTree) -> None:
    status = course_status(before_z_image)
    [series] = status.series
    assert (series.series, series.title, series.built, series.total) == (
        "7",
        "Post-SD Advances",
        3,
        12,
    )
    modules = {m.module: m for m in series.modules}
    assert list(modules) == ["7.1", "7.2", "7.3", "7.4"]
    m74 = modules["7.4"]
    assert m74.progress.lessons_text == "3 of 4" and not m74.progress.complete
    z = next(lesson for lesson in m74.lessons if lesson.slug == "z-image")
    # the planning document has two reviews; the record has no row for it yet
    assert (z.recorded, z.planned_doc, z.verdict, z.iteration) == (False, True, Verdict.PASS, "2/3")
    sdxl = m74.lessons[0]
    assert (sdxl.slug, sdxl.number, sdxl.recorded, sdxl.verdict) == ("sdxl", 9, True, None)


def test_status_tables_render(before_z_image: CourseTree) -> None:
    out = render(before_z_image)
    assert "Module 7.4: Next-Generation Architectures  (3 of 4 lessons built)" in out
    assert "PASS (2/3)" in out
    # modules 7.1-7.3 have no record in this tree: their progress is unknown, not "0 built"
    assert "3 of 12 (?)" in out and "unknown" in out and "in progress" not in out
    assert "Module 7.1" in out and "no record in the tree: progress unknown" in out


def test_status_of_a_tree_with_no_plans(tmp_path: Path) -> None:
    assert "No lessons planned" in render(CourseTree.open(tmp_path))


def test_corpus_status(corpus_dir: Path) -> None:
    status = course_status(CourseTree.open(corpus_dir))
    assert [s.series for s in status.series] == ["1", "2", "3", "4", "5", "6", "7"]
    m74 = next(m for s in status.series for m in s.modules if m.module == "7.4")
    assert m74.progress.complete and all(lesson.verdict is Verdict.PASS for lesson in m74.lessons)
    assert "Deep Learning Foundations" in render(CourseTree.open(corpus_dir))


def test_example_course_status() -> None:
    if not (EXAMPLE / "series-7" / "plan.md").is_file():
        pytest.skip("the example course in lessons/ is not there yet")
    status = course_status(CourseTree.open(EXAMPLE))
    m74 = next(m for s in status.series for m in s.modules if m.module == "7.4")
    assert m74.progress.lessons_text == "3 of 4"
    assert not next(lesson for lesson in m74.lessons if lesson.slug == "z-image").recorded
