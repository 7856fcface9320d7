"""Helpers for the report tests: the seed z-image document in a small records tree."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LESSON_AUTHOR_SHARED") or REPO.parent / "shared")
SEED_LESSON = SHARED / "seeds" / "004_f37c31f4a5f7254a.txt"
FIXTURES = Path(__file__).parent / "fixtures"
LESSON_MDX = FIXTURES / "z-image.mdx"

COURSE_MD = """\
# Course: Report Test Course

## Goal
A two-line course that holds one module, so `author report` can find z-image.
"""

SERIES_PLAN = """\
# Series 7: Post-SD Advances -- Plan

**Status:** In progress

## Series Goal

Only the module this test needs.

## Modules

| Module | Title | Lessons | Status | Focus |
|--------|-------|---------|--------|-------|
| 7.4 | Next-Generation Architectures | 4 | active | From the largest U-Net to single-stream transformers |

## Lessons

### Module 7.4: Next-Generation Architectures

| # | Slug | Title | Description |
|---|------|-------|-------------|
| 1 | sdxl | SDXL | The U-Net pushed as far as it goes. |
| 2 | diffusion-transformers | Diffusion Transformers (DiT) | A transformer over latent patches. |
| 3 | sd3-and-flux | SD3 & Flux | Joint text-image attention. |
| 4 | z-image | Z-Image & Z-Image Turbo | Single-stream blocks and distillation with RL. |
"""


def make_project(root: Path, seed_text: str, *, built: bool = True) -> Path:
    """A project at ``root``: ``lessons/`` records tree with seed 004 as z-image; returns the records dir."""
    records = root / "lessons"
    module = records / "series-7" / "module-7-4"
    (module / "lessons").mkdir(parents=True)
    (records / "course.md").write_text(COURSE_MD, encoding="utf-8")
    (records / "series-7" / "plan.md").write_text(SERIES_PLAN, encoding="utf-8")
    (module / "lessons" / "z-image.md").write_text(seed_text, encoding="utf-8")
    if built:
        (module / "build").mkdir()
        shutil.copy(LESSON_MDX, module / "build" / "z-image.mdx")
    return records


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
