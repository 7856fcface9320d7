"""Many lessons at once: ``author lesson --module 7.4 --all-pending`` (or ``--series 7``).

**Pending** lessons are the ones the series plan lists but the module record has
not recorded yet: no per-lesson summary and no concept row names them (the same
test ``author status`` uses).  A lesson that has a planning document but no record
entry is pending too (its run starts from that document).

The batch runs :func:`~lesson_author.pipeline.runner.run_lesson` for each
pending lesson in course order, one after the other.  Each lesson's record step
writes the module record before the next lesson starts, and each run reads the
records afresh, so a lesson's student state includes the lessons the batch
recorded before it.

**Failures and dependence.** A lesson fails when its run raises a provider error,
a user error (a hand-edited file, an unreadable record ...) or stops before its
end; it is reported and the batch goes on.  A lesson *depends on* every earlier
pending lesson of its own module: without that lesson's record rows its student
state would lack what it builds on, so it is skipped ("depends on X").  Lessons
of other modules still run: their student state also lacks the failed lesson, and
their prerequisite audit shows a GAP wherever they needed it, which is what the
records say at that point.  A lesson that ends without PASS is still recorded
(with its open findings), so lessons after it run.  Ctrl-C stops the whole batch.

Exit code (:attr:`BatchResult.exit_code`): 0 when every lesson was recorded with
PASS, 3 when some lesson did not reach PASS, 1 when some lesson failed or was
skipped, 130 when Ctrl-C stopped it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lesson_author.course.records import recorded_lessons
from lesson_author.course.tree import CourseTree, LessonLocation
from lesson_author.errors import EXIT_INTERRUPTED, UserError
from lesson_author.llm.errors import LLMError
from lesson_author.workspace import writer_lock

from .runner import LessonRunResult, run_lesson

Outcome = Literal["recorded", "not_pass", "failed", "skipped"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_PASS = 3

SHORT_REASON = 120  # characters of a failure reason in the summary table

_MODULE = re.compile(r"\d+\.\d+")
_SERIES = re.compile(r"\d+")


# ---------------------------------------------------------------- what is pending


def pending_lessons(
    tree: CourseTree, *, module: str | None = None, series: str | None = None
) -> list[LessonLocation]:
    """The lessons of ``module`` (or ``series``; neither: the whole course) that the series
    plans list but the module records have not recorded, in course order.

    UserError for a malformed id, or one under which no series plan lists any lesson."""
    order = tree.lessons_in_order()
    if module is not None:
        module = module.strip()
        if not _MODULE.fullmatch(module):
            raise UserError(f"--module takes a module number like 7.4, not '{module}'")
        order = [loc for loc in order if loc.module == module]
        if not order:
            raise UserError(f"no series plan under {tree.root} lists a lesson of module {module}")
    if series is not None:
        series = series.strip().removeprefix("series-")
        if not _SERIES.fullmatch(series):
            raise UserError(f"--series takes a series number like 7, not '{series}'")
        series = str(int(series))
        order = [loc for loc in order if loc.series == series]
        if not order:
            raise UserError(
                f"no series plan under {tree.root} lists a lesson of series {series}"
                + (f" in module {module}" if module else "")
            )
    recorded: dict[str, set[str]] = {}
    pending = []
    for loc in order:
        if loc.module not in recorded:
            recorded[loc.module] = recorded_lessons(tree.module_record(loc.module))
        if loc.slug not in recorded[loc.module]:
            pending.append(loc)
    return pending


def scope_text(module: str | None, series: str | None) -> str:
    if module is not None:
        return f"module {module.strip()}"
    if series is not None:
        return f"series {series.strip().removeprefix('series-')}"
    return "the course"


# ---------------------------------------------------------------- results


@dataclass
class BatchEntry:
    """One pending lesson and what the batch did with it."""

    location: LessonLocation
    outcome: Outcome | None = None  # None: not run yet
    reason: str = ""  # why it failed, or what it was skipped for
    depends_on: str | None = None  # the failed lesson a skipped one depends on
    result: LessonRunResult | None = None
    elapsed_s: float = 0.0
    spent: list[int] = field(default_factory=lambda: [0, 0, 0])  # calls, tokens in, out (events)

    @property
    def slug(self) -> str:
        return self.location.slug

    @property
    def verdict(self) -> str | None:
        if self.result is None or not self.result.reviews:
            return None
        last = self.result.reviews[-1].verdict
        return last.value if last is not None else None

    @property
    def iterations(self) -> int:
        return len(self.result.reviews) if self.result is not None else 0

    @property
    def tokens(self) -> tuple[int, int]:
        """(prompt, completion) tokens of the lesson's model calls (cache hits not counted)."""
        if self.result is None:  # failed: what its finished nodes reported
            return self.spent[1], self.spent[2]
        nodes = self.result.nodes
        return sum(n.prompt_tokens for n in nodes), sum(n.completion_tokens for n in nodes)

    @property
    def calls(self) -> int:
        return sum(n.calls for n in self.result.nodes) if self.result is not None else self.spent[0]

    @property
    def status_text(self) -> str:
        if self.outcome == "recorded":
            return "recorded"
        if self.outcome == "not_pass":
            return "not PASS (recorded with open findings)"
        if self.outcome == "failed":
            return f"failed: {self.reason}"
        if self.outcome == "skipped":
            return f"skipped: {self.reason}"
        return "not run"

    @property
    def short_status(self) -> str:
        """``status_text`` without the resume advice, at most SHORT_REASON characters."""
        text = self.status_text.split(" Run `author", 1)[0]
        return text if len(text) <= SHORT_REASON else text[: SHORT_REASON - 3].rstrip() + "..."

    def to_dict(self) -> dict[str, Any]:
        tokens_in, tokens_out = self.tokens
        return {
            "slug": self.slug,
            "module": self.location.module,
            "outcome": self.outcome,
            "status": self.status_text,
            "reason": self.reason or None,
            "depends_on": self.depends_on,
            "verdict": self.verdict,
            "iterations": self.iterations,
            "elapsed_s": round(self.elapsed_s, 3),
            "calls": self.calls,
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "run": self.result.to_dict() if self.result is not None else None,
        }


@dataclass
class BatchResult:
    """What ``author lesson --all-pending`` did, lesson by lesson, in course order."""

    scope: str
    entries: list[BatchEntry] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if any(e.outcome in ("failed", "skipped", None) for e in self.entries):
            return EXIT_FAILED
        if any(e.outcome == "not_pass" for e in self.entries):
            return EXIT_NOT_PASS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "lessons": [e.to_dict() for e in self.entries],
            "counts": {o: self.count(o) for o in ("recorded", "not_pass", "failed", "skipped")},
            "interrupted": self.interrupted,
            "elapsed_s": round(self.elapsed_s, 3),
            "exit_code": self.exit_code,
        }


@dataclass
class BatchEvent:
    """A lesson starts (``entry.outcome`` is None) or ends (``entry.outcome`` set)."""

    kind: Literal["start", "end"]
    index: int  # 1-based position in the batch
    total: int
    entry: BatchEntry


# ---------------------------------------------------------------- running


def _interrupted(exc: BaseException) -> bool:
    return isinstance(exc, KeyboardInterrupt) or isinstance(exc.__cause__, KeyboardInterrupt)


def run_batch(
    records_dir: Path,
    *,
    module: str | None = None,
    series: str | None = None,
    config: Any,
    max_iterations: int = 3,
    restart: bool = False,
    replan: bool = False,
    force: bool = False,
    concurrency: int | None = None,
    progress: Callable[..., None] | None = None,
    on_lesson: Callable[[BatchEvent], None] | None = None,
    today: str | None = None,
    checkpointer: Any = None,
    lock_wait: bool = False,
    lock_notify: Callable[[str], None] | None = None,
) -> BatchResult:
    """Plan (unless planned), build, review and record every pending lesson of ``module`` /
    ``series`` in course order; see the module docstring for failures and dependence.

    ``config``, ``max_iterations``, ``restart``, ``replan``, ``force``, ``concurrency``,
    ``progress`` and ``today`` go to each :func:`run_lesson`; ``on_lesson`` hears each lesson
    start and end. Each lesson holds the records tree's writer lock while it runs
    (``lock_wait``: wait for another writer instead of failing the lesson)."""
    if not 1 <= max_iterations <= 3:
        raise UserError(f"--max-iterations must be 1, 2 or 3, not {max_iterations}")
    if concurrency is not None and concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, not {concurrency}")
    records_dir = Path(records_dir)
    tree = CourseTree.open(records_dir)
    batch = BatchResult(
        scope=scope_text(module, series),
        entries=[BatchEntry(loc) for loc in pending_lessons(tree, module=module, series=series)],
    )
    notify = on_lesson or (lambda event: None)
    started = time.perf_counter()
    failed_in_module: dict[str, str] = {}  # module -> the first lesson of it that failed
    total = len(batch.entries)
    for index, entry in enumerate(batch.entries, start=1):
        if batch.interrupted:
            entry.outcome, entry.reason = "skipped", "the batch was interrupted"
            continue
        blocker = failed_in_module.get(entry.location.module)
        if blocker is not None:
            entry.outcome = "skipped"
            entry.depends_on = blocker
            entry.reason = f"depends on {blocker}, which was not recorded"
            notify(BatchEvent("end", index, total, entry))
            continue
        notify(BatchEvent("start", index, total, entry))
        lesson_started = time.perf_counter()

        def tally(event: Any, entry: BatchEntry = entry) -> None:
            if event.kind == "end":
                entry.spent[0] += event.calls
                entry.spent[1] += event.prompt_tokens
                entry.spent[2] += event.completion_tokens
            if progress is not None:
                progress(event)

        try:
            with writer_lock(
                records_dir,
                f"author lesson --all-pending ({entry.slug})",
                wait=lock_wait,
                notify=lock_notify,
            ):
                entry.result = run_lesson(
                    entry.slug,
                    records_dir=records_dir,
                    config=config,
                    max_iterations=max_iterations,
                    restart=restart,
                    replan=replan,
                    force=force,
                    progress=tally,
                    today=today,
                    checkpointer=checkpointer,
                    concurrency=concurrency,
                )
        except (UserError, LLMError, OSError, KeyboardInterrupt) as exc:
            entry.outcome = "failed"
            if _interrupted(exc):
                batch.interrupted = True
                entry.reason = "interrupted (Ctrl-C)"
            else:
                entry.reason = _reason(exc)
        else:
            result = entry.result
            if result.paused_before:
                entry.outcome = "failed"
                entry.reason = f"paused before {result.paused_before}"
            elif result.passed:
                entry.outcome = "recorded"
            elif result.status == "stopped":
                entry.outcome = "not_pass"
            else:
                entry.outcome = "failed"
                entry.reason = f"ended as '{result.status}', not recorded"
        entry.elapsed_s = time.perf_counter() - lesson_started
        if entry.outcome == "failed":
            failed_in_module.setdefault(entry.location.module, entry.slug)
        notify(BatchEvent("end", index, total, entry))
    batch.elapsed_s = time.perf_counter() - started
    return batch


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return " ".join(text.split())
