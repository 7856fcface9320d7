"""`author plan z-image` on the embedded model, for real: the document it writes is a record."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip(
    "llama_cpp",
    reason="llama-cpp-python is not importable here (pip install 'lesson-author[local]'); "
    "CI installs it",
)

from lesson_author.course.check import check_tree
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.course.tree import CourseTree
from lesson_author.llm.config import load_config
from lesson_author.pipeline.run import run_plan

EXAMPLE_COURSE = Path(__file__).resolve().parents[2] / "lessons"


@pytest.mark.slow
def test_the_embedded_model_plans_z_image_into_a_document_author_check_accepts(
    tmp_path: Path,
) -> None:
    records = tmp_path / "lessons"
    shutil.copytree(EXAMPLE_COURSE, records)
    (records / "series-7" / "module-7-4" / "lessons" / "z-image.md").unlink(missing_ok=True)
    config = load_config(provider="local", cache=False, project_root=tmp_path)

    result = run_plan("z-image", records_dir=records, config=config)

    path = tmp_path / result.plan_path
    plan = parse_lesson_plan(path.read_text(encoding="utf-8"), path)
    assert plan.slug == "z-image"
    assert plan.relevant_concepts and plan.prerequisites and plan.outline
    assert [c.title for c in plan.checklists] == ["Prerequisite Audit", "Pedagogical Design"]
    problems = [
        p for p in check_tree(CourseTree.open(records)) if Path(p.path).resolve() == path.resolve()
    ]
    assert problems == []
    # the structure the schemas guarantee, whatever the small model wrote
    assert len(plan.misconceptions) >= 3
    assert [e.level for e in plan.exercises()][-2:] == ["Supported", "Independent"]
    assert result.usage.total().calls >= 10
