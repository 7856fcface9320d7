"""The review tests share the build tests' samples (tests/lesson/lesson_samples.py)."""

from __future__ import annotations

import sys
from pathlib import Path

BUILD_TESTS = Path(__file__).resolve().parents[1] / "lesson"
if str(BUILD_TESTS) not in sys.path:
    sys.path.insert(0, str(BUILD_TESTS))
