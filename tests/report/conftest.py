"""Fixtures for the report tests (helpers live in report_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import LESSON_MDX, SEED_LESSON, make_project

from lesson_author.course.models import LessonPlan
from lesson_author.course.parse import parse_lesson_plan, read_text


@pytest.fixture(scope="session")
def seed_text() -> str:
    if not SEED_LESSON.is_file():
        pytest.skip(f"needs ../shared/seeds ({SEED_LESSON} is absent)")
    return read_text(SEED_LESSON)


@pytest.fixture(scope="session")
def seed_plan(seed_text: str) -> LessonPlan:
    return parse_lesson_plan(seed_text, SEED_LESSON)


@pytest.fixture
def lesson_mdx() -> str:
    return LESSON_MDX.read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, seed_text: str) -> Path:
    """The records dir of a fresh project holding the seed lesson and its built MDX."""
    return make_project(tmp_path, seed_text)
