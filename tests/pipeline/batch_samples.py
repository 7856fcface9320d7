"""Shared helpers for the batch tests: a course with more than one pending lesson, and a
scripted model that plans, builds, reviews and records any of them.

The example course (``lessons/``) has one pending lesson, z-image (module 7.4). The helpers
make recorded lessons pending again by removing their record entries (concept rows and
per-lesson summary) and their planning document, then regenerate the derived status lines.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lesson"))
sys.path.insert(0, str(HERE))

import test_plan_graph as plan_replies
from example_course import copy_example_course
from lesson_samples import PASS_REVIEW, scripted_author

from lesson_author.course.records import regenerate
from lesson_author.course.tree import CourseTree, write_atomic
from lesson_author.llm.errors import LLMError
from lesson_author.pipeline import schemas

TODAY = "2026-03-01"


def make_pending(root: Path, module: str, slug: str, *, keep_plan: bool = False) -> None:
    """Forget that ``slug`` was built: its record rows, its summary, its planning document
    (``keep_plan``: only the document's review sections, so it is planned but not built)."""
    tree = CourseTree.open(root)
    record = tree.record_path(module)
    lines = record.read_text(encoding="utf-8").split("\n")
    kept: list[str] = []
    in_summary = False
    for line in lines:
        if line.startswith("### "):
            in_summary = line.split()[1] == slug
        elif line.startswith("## "):
            in_summary = False
        if in_summary:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and cells[2] == slug:
            continue
        kept.append(line)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).rstrip("\n") + "\n"
    write_atomic(record, text)
    plan = tree.module_lesson_path(module, slug)
    if keep_plan and plan.is_file():
        text = plan.read_text(encoding="utf-8")
        if "## Review -- " in text:
            text = text[: text.index("## Review -- ")] + text[text.index("## Checklists") :]
        write_atomic(plan, text)
    else:
        plan.unlink(missing_ok=True)
    for path, new in regenerate(CourseTree.open(root)).items():
        write_atomic(path, new)


def make_course(tmp_path: Path, *pending: tuple[str, str], keep_plans: bool = False) -> Path:
    """A temp copy of the example course with sd3-and-flux (and ``pending``) made pending.

    ``keep_plans``: the pending lessons keep their planning documents (without reviews) and
    z-image gets seed 004's, so a run skips the plan phases."""
    root = tmp_path / "lessons"
    copy_example_course(root)
    for module, slug in (("7.4", "sd3-and-flux"), *pending):
        make_pending(root, module, slug, keep_plan=keep_plans)
    if keep_plans:
        from lesson_samples import seed_plan_text

        z_image = CourseTree.open(root).module_lesson_path("7.4", "z-image")
        write_atomic(z_image, seed_plan_text())
    return root


# ---------------------------------------------------------------- the scripted model

_LESSON = re.compile(r"^# \w+ \"[^\"]*\" \(([a-z0-9-]+)\)|Lesson `([a-z0-9-]+)`", re.MULTILINE)


def lesson_of(messages: list[dict[str, str]]) -> str | None:
    """The lesson a plan-phase prompt is about (its heading or its ``Lesson `slug``` line)."""
    m = _LESSON.search(messages[-1]["content"]) if messages else None
    return (m.group(1) or m.group(2)) if m else None


def sd3_analyze() -> dict[str, Any]:
    """sd3-and-flux builds on what DiT and flow matching recorded: no gaps."""
    return {
        "target_concept": "This lesson teaches the student to explain joint text-image attention "
        "in MMDiT and why SD3 adds T5-XXL beside CLIP.",
        "assumed": [
            {"id": 1, "required": "DEVELOPED", "reasoning": "MMDiT builds on this row."},
            {"id": 2, "required": "INTRODUCED", "reasoning": "Named in the lesson."},
            {"id": 3, "required": "INTRODUCED", "reasoning": "Named in the lesson."},
        ],
        "missing": [
            {
                "concept": "adaLN-Zero conditioning",
                "required": "DEVELOPED",
                "reasoning": "MMDiT blocks keep it.",
            },
            {
                "concept": "DiT block as a standard transformer block",
                "required": "DEVELOPED",
                "reasoning": "MMDiT extends the DiT block.",
            },
            {
                "concept": "Flow matching",
                "required": "INTRODUCED",
                "reasoning": "SD3 trains with it.",
            },
        ],
    }


def sd3_scope() -> dict[str, Any]:
    """sd3-and-flux's depth targets: what its record rows will say."""
    reply = plan_replies.scope_reply()
    reply["depth_targets"] = [
        {"concept": "MMDiT joint attention", "depth": "DEVELOPED", "reason": "The core mechanism."},
        {"concept": "T5-XXL as text encoder", "depth": "INTRODUCED", "reason": "Named and placed."},
    ]
    return reply


PLAN_REPLIES: dict[str, Callable[[], Any]] = {
    schemas.ORIENT: plan_replies.orient_reply,
    schemas.ANALYZE: plan_replies.analyze_reply,
    schemas.ANALYZE_GAPS: plan_replies.gap_reply,
    schemas.ANALYZE_MISCONCEPTIONS: plan_replies.misconception_reply,
    schemas.ANALYZE_EXAMPLES: plan_replies.example_reply,
    schemas.DESIGN: plan_replies.design_reply,
    schemas.DESIGN_SCOPE: plan_replies.scope_reply,
    schemas.DESIGN_OUTLINE: plan_replies.outline_reply,
    schemas.DESIGN_PRACTICE: plan_replies.practice_reply,
}
SD3_REPLIES: dict[str, Callable[[], Any]] = {
    schemas.ANALYZE: sd3_analyze,
    schemas.DESIGN_SCOPE: sd3_scope,
}


class BatchModel:
    """A scripted "author" for any lesson: plan replies (sd3-and-flux gets its own analysis and
    depth targets), then valid build/record replies and a PASS review (or ``reviews``).

    ``fail`` maps (lesson, phase) to a provider failure; ``lessons`` counts the plan-phase
    prompts per lesson, ``prompts`` keeps them, so a test can see which lessons ran and what
    their prompts said."""

    def __init__(
        self,
        *,
        fail: tuple[str, str] | None = None,
        reviews: list[Any] | None = None,
        interrupt: bool = False,
    ) -> None:
        self.fail = fail
        self.interrupt = interrupt  # fail with Ctrl-C instead of a provider error
        self.author = scripted_author(reviews if reviews is not None else [PASS_REVIEW] * 20)
        self.sections = 0
        self.current: str | None = None
        self.lessons: Counter[str] = Counter()
        self.prompts: list[tuple[str | None, str, str]] = []
        self.events: list[tuple[str, str, str | None]] = []

    def __call__(self, messages: list[dict[str, str]], schema: type, phase: str) -> Any:
        slug = (
            lesson_of(messages)
            if phase in PLAN_REPLIES or phase == schemas.DESIGN_SECTION
            else None
        )
        if slug is not None:
            self.current = slug
            self.lessons[slug] += 1
        prompt = messages[-1]["content"] if messages else ""
        self.prompts.append((self.current, phase, prompt))
        if self.fail is not None and self.fail == (self.current, phase):
            if self.interrupt:
                raise KeyboardInterrupt
            raise LLMError(f"phase '{phase}', model 'scripted': the model went away")
        if self.current == "sd3-and-flux" and phase in SD3_REPLIES:
            return SD3_REPLIES[phase]()
        if phase == schemas.DESIGN_SECTION:
            self.sections += 1
            return plan_replies.section_reply(self.sections % 3 + 1)
        if phase in PLAN_REPLIES:
            return PLAN_REPLIES[phase]()
        return self.author(messages, schema, phase)

    def observe(self, event: Any) -> None:
        """``on_lesson`` for run_batch: the lesson that starts is the one being asked about."""
        if event.kind == "start":
            self.current = event.entry.slug
        self.events.append((event.kind, event.entry.slug, event.entry.outcome))

    def prompts_of(self, slug: str, phase: str) -> list[str]:
        return [p for lesson, ph, p in self.prompts if lesson == slug and ph == phase]
