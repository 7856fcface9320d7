"""What the deterministic checks read: the build on disk, the plan, and how far they may go.

:class:`CheckOptions` says whether the notebook may be executed (``--no-execute``,
``AUTHOR_EXECUTE=0`` or ``[tool.author] execute = false`` turn it off), its limits, and where
the MDX compiler and its cache live.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lesson_author.build.lesson_doc import BuiltLesson, BuiltSection, PracticeNotebook
from lesson_author.course.models import Depth, LessonPlan

DepthLookup = Callable[[str], Depth | None]

ENV_EXECUTE = "AUTHOR_EXECUTE"


@dataclass(frozen=True)
class BuildFiles:
    """What the review found on disk: the lesson (None when missing), the notebook's content
    (None when missing), why the notebook is invalid (when it is), the paths to name, and the
    files' raw text (for the checks that read what the student reads: MDX compilation,
    notebook cells)."""

    lesson: BuiltLesson | None
    notebook: PracticeNotebook | None
    notebook_error: str | None
    lesson_path: str
    notebook_path: str
    lesson_text: str | None = None
    notebook_text: str | None = None


@dataclass(frozen=True)
class CheckOptions:
    execute: bool = True  # run the notebook in a fresh kernel (model-written code!)
    cell_timeout: int = 60  # seconds per cell
    memory_mb: int = 2048  # address-space limit of the kernel process
    cache_dir: Path | None = None  # .author/ of the project: MDX compile cache
    mdx_tool: Path | None = None  # tools/mdx (with node_modules); None: looked up


def execute_setting(project_root: Path | None, option: bool | None = None) -> bool:
    """Whether to execute notebooks: the CLI option, else ``AUTHOR_EXECUTE`` (0/false/no: off),
    else ``[tool.author] execute`` in the nearest pyproject.toml, else on."""
    if option is not None:
        return option
    env = os.environ.get(ENV_EXECUTE)
    if env is not None and env.strip():
        return env.strip().lower() not in ("0", "false", "no", "off")
    if project_root is not None:
        for directory in (Path(project_root).resolve(), *Path(project_root).resolve().parents):
            candidate = directory / "pyproject.toml"
            if not candidate.is_file():
                continue
            try:
                table = tomllib.loads(candidate.read_text(encoding="utf-8")).get("tool", {})
            except (OSError, tomllib.TOMLDecodeError):
                return True
            if "author" in table:
                value = table["author"].get("execute", True)
                return value if isinstance(value, bool) else True
    return True


@dataclass
class ReviewInput:
    plan: LessonPlan
    files: BuildFiles
    depth_of: DepthLookup | None = None
    options: CheckOptions = field(default_factory=CheckOptions)

    @property
    def lesson(self) -> BuiltLesson | None:
        return self.files.lesson

    @cached_property
    def aligned(self) -> list[BuiltSection | None]:
        """For each planned outline section, its built section (see ``align_sections``)."""
        from lesson_author.checks.review_checks import align_sections

        if self.lesson is None:
            return [None] * len(self.plan.outline)
        return align_sections(self.plan.outline, self.lesson)
