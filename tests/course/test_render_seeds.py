"""The renderer is canonical: seeds come back byte for byte, the corpus round-trips,
and documents built from scratch come out in the seed format."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from lesson_author.course.models import content
from lesson_author.course.parse import (
    PARSERS,
    kind_of,
    parse_file,
    parse_lesson_plan,
    parse_module_plan,
    parse_module_record,
    parse_series_plan,
)
from lesson_author.course.render import (
    render_document,
    render_lesson_plan,
    render_module_plan,
    render_module_record,
    render_series_plan,
)

pytestmark = pytest.mark.corpus

SEEDS = {
    "000": (parse_module_plan, render_module_plan),
    "001": (parse_module_record, render_module_record),
    "002": (parse_module_record, render_module_record),
    "003": (parse_series_plan, render_series_plan),
    "004": (parse_lesson_plan, render_lesson_plan),
}


def seed_text(seeds_dir: Path, prefix: str) -> str:
    return next(seeds_dir.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def diff(expected: str, got: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(True), got.splitlines(True), n=1)
    return "".join(list(lines)[:40])


def from_scratch(model: Any) -> Any:
    """The same content with every formatting memory dropped, as if built by the pipeline."""
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            if name == "layout":
                setattr(model, name, [])
            elif name in ("src", "line"):
                setattr(model, name, "" if name == "src" else None)
            else:
                from_scratch(getattr(model, name))
    elif isinstance(model, list):
        for item in model:
            from_scratch(item)
    return model


@pytest.mark.parametrize("prefix", sorted(SEEDS))
@pytest.mark.parametrize("verbatim_rows", [False, True])
def test_seed_renders_back_byte_for_byte(seeds_dir: Path, prefix: str, verbatim_rows: bool) -> None:
    parse, render = SEEDS[prefix]
    text = seed_text(seeds_dir, prefix)
    rendered = render(parse(text), verbatim_rows=verbatim_rows)
    assert rendered == text, diff(text, rendered)


@pytest.mark.parametrize("prefix", ["004", "001", "002"])
def test_seed_built_from_scratch_is_in_the_seed_format(seeds_dir: Path, prefix: str) -> None:
    """Everything in these seeds is typed, so their content alone renders them exactly."""
    parse, render = SEEDS[prefix]
    text = seed_text(seeds_dir, prefix)
    rendered = render(from_scratch(parse(text)))
    assert rendered == text, diff(text, rendered)


def test_plans_built_from_scratch_keep_their_typed_sections(seeds_dir: Path) -> None:
    module = from_scratch(parse_module_plan(seed_text(seeds_dir, "000")))
    again = parse_module_plan(render_module_plan(module))
    assert [content(r) for r in again.sequence] == [content(r) for r in module.sequence]
    assert again.topic_allocation == module.topic_allocation
    assert again.misconceptions == module.misconceptions
    series = from_scratch(parse_series_plan(seed_text(seeds_dir, "003")))
    text = render_series_plan(series)
    assert "### Module 7.4: Next-Generation Architectures\n\n| # | Slug |" in text
    assert "| Series 7 Concept | Earlier Concept | Source |" in text
    again_series = parse_series_plan(text)
    assert [(r.module, r.slug) for r in again_series.lessons] == [
        (r.module, r.slug) for r in series.lessons
    ]


def corpus_documents(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.rglob("*.md") if kind_of(p) is not None)


def test_every_corpus_file_round_trips_to_an_equal_model(corpus_dir: Path) -> None:
    unequal = []
    for path in corpus_documents(corpus_dir):
        model = parse_file(path)
        again = PARSERS[kind_of(path)](render_document(model), path)
        if content(again) != content(model):
            unequal.append(str(path))
    assert unequal == []


def test_every_corpus_file_renders_back_byte_for_byte(corpus_dir: Path) -> None:
    """Nothing is lost, reordered or reformatted: unknown sections and stray text included."""
    changed = []
    for path in corpus_documents(corpus_dir):
        text = path.read_text(encoding="utf-8")
        if render_document(parse_file(path)) != text:
            changed.append(str(path))
    assert changed == []
