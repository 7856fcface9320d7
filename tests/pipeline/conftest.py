"""The pipeline tests drive the graph with a scripted author whose sections are skeletons
("Prose of section N: Title."). The coverage rules, which read whether the lesson teaches the
plan's concepts and misconceptions, rightly fail such skeletons; they are tested on real lesson
files in tests/review/test_content_rules.py and are switched off here (``AUTHOR_SKIP_RULES``, the
documented setting) so that these tests see the review verdicts their scripts ask for."""

from __future__ import annotations

import pytest

from lesson_author.checks.inputs import ENV_SKIP_RULES

SKELETON_RULES = "concept-not-taught,misconception-unaddressed,concept-before-taught"


@pytest.fixture(autouse=True)
def _skeleton_lessons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SKIP_RULES, SKELETON_RULES)
