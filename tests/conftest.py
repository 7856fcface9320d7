"""Fixtures shared by every test: where ``../shared`` (seeds and corpus) lives.

``../shared`` sits beside the repository (see the project README); a fresh
clone may not have it, so tests that need it skip with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# a worktree away from the main checkout points at the shared directory with this variable
SHARED = Path(os.environ.get("LESSON_AUTHOR_SHARED") or REPO_ROOT.parent / "shared")


def _needs(path: Path, what: str) -> Path:
    if not path.is_dir():
        pytest.skip(f"needs {what} at {path} (../shared beside the repository is absent)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the repository root."""
    return _needs(SHARED, "the shared directory")


@pytest.fixture(scope="session")
def seeds_dir(shared_dir: Path) -> Path:
    """The five seed documents (``../shared/seeds``)."""
    return _needs(shared_dir / "seeds", "the seed documents")


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    """The real course's records (``../shared/corpus/courseai-records``); read-only."""
    return _needs(shared_dir / "corpus" / "courseai-records", "the records corpus")


@pytest.fixture(scope="session")
def example_course_readonly() -> Path:
    """The example course as committed, read-only (never the live ``lessons/``, which the
    README's first command writes): for tests that only read it."""
    from example_course import EXAMPLE_COURSE

    if not (EXAMPLE_COURSE / "course.md").is_file():
        pytest.skip(f"needs the example course (not found under {EXAMPLE_COURSE})")
    return EXAMPLE_COURSE


@pytest.fixture
def example_course(tmp_path: Path, example_course_readonly: Path) -> Path:
    """A writable copy of the committed example course at ``tmp_path / "lessons"``."""
    from example_course import copy_example_course

    return copy_example_course(tmp_path / "lessons")
