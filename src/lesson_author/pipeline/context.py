"""What a node needs besides the state: the course, the provider, the clock, the prompts.

Nodes have the signature ``node(state: LessonState, run: RunContext) -> dict``;
graph.py binds ``run``. The RunContext is not checkpointed: a resumed run builds
a fresh one, so nothing in it may be needed to reproduce a finished node.
"""

from __future__ import annotations

import contextvars
import importlib.resources
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2
from pydantic import BaseModel

from lesson_author.course.tree import _author_pyproject
from lesson_author.errors import UserError
from lesson_author.llm.usage import Usage, UsageLog

if TYPE_CHECKING:
    from lesson_author.course.knowledge import StudentState
    from lesson_author.course.tree import CourseTree, LessonLocation
    from lesson_author.llm.base import Provider

    from .progress import ProgressEvent

ModelT = TypeVar("ModelT", bound=BaseModel)

PROMPTS_ENV = "AUTHOR_PROMPTS_DIR"
PROMPTS_PACKAGE = "lesson_author.prompts"  # the top-level prompts/, shipped in the wheel
SYSTEM_TEMPLATE = "system.md.j2"

# the node whose model calls are being counted (set by the graph's node wrapper)
current_node: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_node", default=None
)


def packaged_prompts_dir() -> Path:
    """The prompts that ship with lesson-author (the checkout's prompts/ when editable)."""
    try:
        return Path(str(importlib.resources.files(PROMPTS_PACKAGE)))
    except ModuleNotFoundError as exc:  # an editable install made before prompts were packaged
        raise UserError(
            f"the prompts are not installed ({PROMPTS_PACKAGE} is missing): reinstall "
            "lesson-author (in a checkout: pip install -e .)"
        ) from exc


def prompts_dir(records_dir: Path | None = None) -> Path:
    """Where the prompts are: $AUTHOR_PROMPTS_DIR, else ``prompts = "dir"`` under
    ``[tool.author]`` in the course's pyproject.toml (relative to that file), else the
    packaged prompts. UserError when the chosen folder is missing."""
    override = os.environ.get(PROMPTS_ENV)
    if override:
        path = Path(override)
        if not path.is_dir():
            raise UserError(f"${PROMPTS_ENV} is not a directory", path=path)
        return path
    found = _author_pyproject(Path(records_dir).resolve()) if records_dir is not None else None
    if found is not None and "prompts" in found[1]:
        pyproject, table = found
        value = table["prompts"]
        if not isinstance(value, str) or not value.strip():
            raise UserError("[tool.author] prompts must be a path string", path=pyproject)
        path = pyproject.parent / Path(value).expanduser()
        if not path.is_dir():
            raise UserError(f"[tool.author] prompts: {path} is not a directory", path=pyproject)
        return path
    return packaged_prompts_dir()


def prompt_environment(directory: Path | None = None) -> jinja2.Environment:
    """jinja2 for prompts: StrictUndefined, so a missing variable is an error, not ''."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory or prompts_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def no_progress(event: ProgressEvent) -> None:
    """The default progress callback: silent."""


@dataclass
class RunContext:
    """One run's collaborators. Build it with pipeline.runner.make_run_context (or directly in tests)."""

    tree: CourseTree
    location: LessonLocation
    provider: Provider
    project_root: Path
    usage_log: UsageLog = field(default_factory=UsageLog)
    today: str = field(default_factory=lambda: date.today().isoformat())
    max_iterations: int = 3
    progress: Callable[[ProgressEvent], None] = no_progress
    force: bool = False
    prompts: jinja2.Environment = field(default_factory=prompt_environment)
    records_dir: Path | None = None
    candidate_tokens: int | None = None  # orient's candidate-row budget; None: the default
    max_concurrency: int = 1  # concurrent model calls inside a node (see pipeline.concurrency)
    _node_usage: dict[str, list[Usage]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ------------------------------------------------------------ course

    @cached_property
    def student_state(self) -> StudentState:
        """The student state before this lesson, from the records (computed once per run)."""
        from lesson_author.course.knowledge import student_state

        return student_state(self.tree, self.location.slug)

    def relative(self, path: Path | str) -> str:
        """`path` relative to the project root, for documents and messages."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.project_root.resolve()).as_posix()
        except ValueError:
            return p.as_posix()

    # ------------------------------------------------------------ prompts and the model

    def render(self, template: str, **context: Any) -> str:
        return self.prompts.get_template(template).render(**context)

    def messages(self, template: str, **context: Any) -> list[dict[str, str]]:
        """System prompt + the node's prompt, both rendered from prompts/."""
        return [
            {"role": "system", "content": self.render(SYSTEM_TEMPLATE)},
            {"role": "user", "content": self.render(template, **context)},
        ]

    def complete(
        self, messages: list[dict[str, str]], schema: type[ModelT], *, phase: str
    ) -> ModelT:
        """One schema-checked model call; its usage goes to the run log and the current node."""
        started = time.perf_counter()
        try:
            instance, usage = self.provider.complete(messages, schema, phase=phase)  # type: ignore[arg-type]
        except Exception as exc:
            spent = getattr(exc, "usage", None)
            if isinstance(spent, Usage):
                self._record(spent)
            raise
        if not usage.latency_s:
            usage.latency_s = time.perf_counter() - started
        self._record(usage)
        return instance

    def _record(self, usage: Usage) -> None:
        record = getattr(self.usage_log, "record", None) or self.usage_log.add
        record(usage)
        node = current_node.get() or usage.phase
        with self._lock:
            self._node_usage.setdefault(node, []).append(usage)

    def take_node_usage(self, node: str) -> list[Usage]:
        """The usages recorded for `node` since the last take (used by the node wrapper)."""
        with self._lock:
            return self._node_usage.pop(node, [])
