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
