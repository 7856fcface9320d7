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

from lesson_author.checks.align import align_sections
from lesson_author.course.models import Depth, LessonPlan
from lesson_author.lesson.lesson_doc import BuiltLesson, BuiltSection, PracticeNotebook

DepthLookup = Callable[[str], Depth | None]

ENV_EXECUTE = "AUTHOR_EXECUTE"
ENV_SKIP_RULES = "AUTHOR_SKIP_RULES"


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
    skip_rules: frozenset[str] = frozenset()  # rule ids not to run


def _tool_author(project_root: Path | None) -> dict:
    if project_root is None:
        return {}
    root = Path(project_root).resolve()
    for directory in (root, *root.parents):
        candidate = directory / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            table = tomllib.loads(candidate.read_text(encoding="utf-8")).get("tool", {})
        except (OSError, tomllib.TOMLDecodeError):
            return {}
        if "author" in table and isinstance(table["author"], dict):
            return table["author"]
    return {}


def skip_rules_setting(project_root: Path | None) -> frozenset[str]:
    """Rule ids not to run: ``AUTHOR_SKIP_RULES`` (comma-separated), else ``[tool.author]
    skip_rules`` (a list). Unknown ids are a one-line error, so a typo does not pass silently."""
    from lesson_author.checks.registry import RULES
    from lesson_author.errors import UserError

    env = os.environ.get(ENV_SKIP_RULES)
    if env is not None:
        ids = [x.strip() for x in env.split(",") if x.strip()]
        where = ENV_SKIP_RULES
    else:
        value = _tool_author(project_root).get("skip_rules", [])
        ids = [str(x) for x in value] if isinstance(value, list) else [str(value)]
        where = "[tool.author] skip_rules"
    unknown = [x for x in ids if x not in RULES]
    if unknown:
        raise UserError(f"{where}: unknown rule id(s) {', '.join(unknown)}")
    return frozenset(ids)


def execute_setting(project_root: Path | None, option: bool | None = None) -> bool:
    """Whether to execute notebooks: the CLI option, else ``AUTHOR_EXECUTE`` (0/false/no: off),
    else ``[tool.author] execute`` in the nearest pyproject.toml, else on."""
    if option is not None:
        return option
    env = os.environ.get(ENV_EXECUTE)
    if env is not None and env.strip():
        return env.strip().lower() not in ("0", "false", "no", "off")
    value = _tool_author(project_root).get("execute", True)
    return value if isinstance(value, bool) else True


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
        if self.lesson is None:
            return [None] * len(self.plan.outline)
        return align_sections(self.plan.outline, self.lesson)
