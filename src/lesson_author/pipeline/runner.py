"""Running the graph: set up a run, start or resume it, say what it did.

``run_plan`` (``author plan``), ``run_lesson`` (``author lesson``, and each lesson of a
batch), ``build_now`` and ``review_now`` (``author build`` / ``author review``, one phase
alone, no graph) are what the commands call. ``invoke`` is the one way a run starts or
resumes.

**Checkpoints.** The checkpointer is a SqliteSaver at ``<project root>/.author/
checkpoints.sqlite``. A thread is one (kind, records dir, slug); the kinds are ``plan`` and
``lesson``, so a paused lesson run and a plan run of the same lesson do not disturb each
other. LangGraph saves a checkpoint after every node, so a run that dies re-enters at the
first unfinished node when it is invoked again with ``None`` as input: finished nodes, and
their model calls, are not repeated. A finished thread starts over; ``restart`` forgets an
unfinished one. A provider failure or Ctrl-C stops the run with a :class:`RunStopped` that
says where it stopped and how to continue.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import pkgutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from lesson_author.course.models import Finding, Review, Verdict
from lesson_author.course.tree import CourseTree, project_root, validate_slug, write_atomic
from lesson_author.errors import EXIT_INTERRUPTED, EXIT_PROVIDER, UserError
from lesson_author.llm.base import Provider
from lesson_author.llm.config import LLMConfig, load_config
from lesson_author.llm.errors import LLMError
from lesson_author.llm.usage import UsageLog
from lesson_author.review.documents import next_iteration
from lesson_author.state import candidate_budget
from lesson_author.workspace import checkpoint_path, run_summary_path

from .concurrency import default_concurrency
from .context import RunContext, no_progress, prompt_environment, prompts_dir
from .graph import build_graph
from .lesson_files import current_plan, write_lesson_files
from .lesson_writer import build_lesson
from .load import check_readable
from .progress import ProgressEvent
from .review import review_lesson, write_review
from .state import LessonState, NodeUsage, PlanCheck

PLAN_KIND = "plan"
LESSON_KIND = "lesson"
RECURSION_LIMIT = 200
# approval gates: `--approve plan` pauses after the planning document is written,
# `--approve build` after the lesson and notebook are built (before the first review)
GATES = {"plan": "write_plan", "build": "build"}
# the packages whose types a node may put into the state (not llm/, report/, cli)
STATE_PACKAGES = (
    "lesson_author.course",
    "lesson_author.pipeline",
    "lesson_author.lesson",
    "lesson_author.review",
    "lesson_author.checks",
)


def llm_config(records_dir: Path, **options: Any) -> LLMConfig:
    """The LLM configuration for a run on `records_dir` (CLI options win); UserError if invalid."""
    try:
        return load_config(project_root=project_root(Path(records_dir)), **options)
    except LLMError as exc:
        raise UserError(str(exc)) from exc


class RunStopped(UserError):
    """The run stopped before its end: the provider failed (exit 4) or Ctrl-C (exit 130);
    it can be resumed."""

    exit_code = EXIT_PROVIDER


# ---------------------------------------------------------------- what a run did


@dataclass
class RunResult:
    """What a plan run did: files written, checks, time and tokens per node."""

    slug: str
    status: str
    plan_path: str | None
    written: list[str]
    resumed_at: str | None
    nodes: list[NodeUsage]
    checks: list[PlanCheck]
    notes: list[str]
    usage: UsageLog
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def unchecked(self) -> list[PlanCheck]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "status": self.status,
            "plan_path": self.plan_path,
            "written": self.written,
            "resumed_at": self.resumed_at,
            "elapsed_s": round(self.elapsed_s, 3),
            "nodes": [n.model_dump() for n in self.nodes],
            "checks": [c.model_dump() for c in self.checks],
            "notes": self.notes,
            "usage": self.usage.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass
class LessonRunResult:
    """What `author lesson` did."""

    slug: str
    status: str
    reviews: list[Review]
    written: list[str]
    resumed_at: str | None
    planned: bool
    nodes: list[NodeUsage]
    notes: list[str]
    usage: UsageLog
    elapsed_s: float = 0.0
    paused_before: str | None = None  # an approval gate stopped the run before this node

    @property
    def passed(self) -> bool:
        return bool(self.reviews) and self.reviews[-1].verdict is Verdict.PASS

    @property
    def open_findings(self) -> list[Finding]:
        return [] if self.passed or not self.reviews else list(self.reviews[-1].findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "status": self.status,
            "passed": self.passed,
            "iterations": [
                {
                    "iteration": r.iteration,
                    "verdict": r.verdict.value if r.verdict else None,
                    "counts": {s.value: n for s, n in r.counts.items()},
                }
                for r in self.reviews
            ],
            "open_findings": [
                f.model_dump(mode="json", exclude={"line", "layout"}) for f in self.open_findings
            ],
            "written": self.written,
            "resumed_at": self.resumed_at,
            "planned": self.planned,
            "paused_before": self.paused_before,
            "elapsed_s": round(self.elapsed_s, 3),
            "nodes": [n.model_dump() for n in self.nodes],
            "notes": self.notes,
            "usage": self.usage.to_dict(),
            "speed": self.usage.speed(self.elapsed_s),
        }


# ---------------------------------------------------------------- setting a run up


def _provider(config: LLMConfig | Provider) -> Provider:
    if isinstance(config, LLMConfig):
        from lesson_author.llm.factory import make_provider  # loads a provider's SDK: on demand

        return make_provider(config)
    return config


def _usage_log(config: LLMConfig | Provider) -> UsageLog:
    if isinstance(config, LLMConfig):
        return UsageLog(price_in=config.price_in, price_out=config.price_out)
    return UsageLog()


def make_run_context(
    slug: str,
    *,
    records_dir: Path,
    config: LLMConfig | Provider,
    force: bool = False,
    progress: Callable[[ProgressEvent], None] | None = None,
    today: str | None = None,
    max_iterations: int = 3,
    max_concurrency: int | None = None,
) -> RunContext:
    """Locate the lesson and gather what its nodes need.

    ``max_concurrency``: concurrent model calls inside a node (None: the provider's
    default, see :func:`~lesson_author.pipeline.concurrency.default_concurrency`).
    """
    if max_concurrency is not None and max_concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, not {max_concurrency}")
    validate_slug(slug)
    records_dir = Path(records_dir)
    window = None
    if isinstance(config, LLMConfig) and config.resolved_provider == "local":
        window = config.n_ctx
    tree = CourseTree.open(records_dir)
    location = tree.locate(slug)
    run = RunContext(
        tree=tree,
        location=location,
        provider=_provider(config),
        project_root=project_root(records_dir),
        usage_log=_usage_log(config),
        today=today or date.today().isoformat(),
        max_iterations=max_iterations,
        progress=progress or no_progress,
        force=force,
        records_dir=records_dir.resolve(),
        candidate_tokens=candidate_budget(window),
        max_concurrency=max_concurrency or default_concurrency(config),
        prompts=prompt_environment(prompts_dir(records_dir)),
    )
    check_readable(run)  # every file the run writes back, before the first model call
    return run


# ---------------------------------------------------------------- checkpoints and threads


def _checkpoint_types() -> list[type]:
    """Every pydantic model and enum the package defines: what the checkpoints may hold."""
    found: list[type] = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("lesson_author") or module is None:
            continue
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == name and issubclass(value, (BaseModel, Enum)):
                found.append(value)
    return found


def _import_package() -> None:
    """Import every module of the package, so that every type a node may checkpoint is known.

    A type missing from the allowlist would come back from a checkpoint as a plain dict.
    """
    for name in STATE_PACKAGES:
        try:
            package = importlib.import_module(name)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{name}."):
            if info.name in sys.modules:
                continue
            with contextlib.suppress(Exception):  # an optional module may not import here
                importlib.import_module(info.name)


def checkpoint_serializer() -> JsonPlusSerializer:
    """LangGraph's serializer, told which of our types it may rebuild from a checkpoint."""
    _import_package()
    return JsonPlusSerializer(allowed_msgpack_modules=_checkpoint_types())


def open_checkpointer(path: Path) -> SqliteSaver:
    """A SqliteSaver on `path` (created with its directory). Close with close_checkpointer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    saver = SqliteSaver(connection, serde=checkpoint_serializer())
    saver.setup()
    return saver


def close_checkpointer(saver: Any) -> None:
    connection = getattr(saver, "conn", None)
    if connection is not None:
        connection.close()


@contextlib.contextmanager
def _saver(run: RunContext, given: Any) -> Iterator[Any]:
    """`given`, or the project's SqliteSaver, opened and closed around the run."""
    if given is not None:
        yield given
        return
    saver = open_checkpointer(checkpoint_path(run.project_root))
    try:
        yield saver
    finally:
        close_checkpointer(saver)


def thread_id(records_dir: Path, slug: str, kind: str = PLAN_KIND) -> str:
    """One thread per (kind, records dir, slug): two courses never share a checkpoint."""
    digest = hashlib.sha256(str(Path(records_dir).resolve()).encode()).hexdigest()[:12]
    return f"{kind}:{digest}:{slug}"


def thread_config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}, "recursion_limit": RECURSION_LIMIT}


def clear_thread(checkpointer: Any, thread: str) -> None:
    """Forget every checkpoint of `thread` (``--restart``)."""
    checkpointer.delete_thread(thread)


# ---------------------------------------------------------------- one invoke


@dataclass
class Invocation:
    """How one invoke ended: the final state, where it resumed, where a gate paused it."""

    state: LessonState
    resumed_at: str | None
    paused_before: str | None
    elapsed_s: float


def invoke(
    run: RunContext,
    *,
    kind: str,
    restart: bool = False,
    resume_only: bool = False,
    from_plan: bool = False,
    checkpointer: Any = None,
    interrupt_after: list[str] | None = None,
) -> Invocation:
    """Start, or resume, the graph on the lesson's `kind` thread.

    A thread with unfinished nodes is resumed at the first of them; otherwise a new run
    starts (``from_plan``: at build, from the planning document on disk). ``restart``
    forgets the thread first; ``resume_only`` (``--continue``) is a UserError unless there
    is something to resume."""
    assert run.records_dir is not None
    slug = run.location.slug
    started = time.perf_counter()
    with _saver(run, checkpointer) as saver:
        graph = build_graph(run, checkpointer=saver, interrupt_after=interrupt_after)
        thread = thread_id(run.records_dir, slug, kind)
        config = thread_config(thread)
        if restart:
            clear_thread(saver, thread)
        snapshot = graph.get_state(config)
        if resume_only and not snapshot.next:
            raise UserError(
                f"nothing to continue: {slug} has no paused or unfinished run; "
                f"run `author {kind} {slug}` to start one"
            )
        resumed_at: str | None = None
        payload: LessonState | None = None
        if snapshot.next:
            resumed_at = snapshot.next[0]
            message = f"resuming at {resumed_at} (finished steps are kept)"
            run.progress(ProgressEvent("resume", resumed_at, message=message))
        else:
            if snapshot.values:
                clear_thread(saver, thread)  # the last run finished: start a new one
            payload = LessonState(slug=slug, kind=kind, from_plan=from_plan)
        try:
            # durability="sync": each node's checkpoint is on disk before the next node
            # starts, so a kill -9 never loses a finished node
            values = graph.invoke(payload, config, durability="sync")
        except (LLMError, KeyboardInterrupt) as exc:
            where = graph.get_state(config).next
            node = where[0] if where else "?"
            cause = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            stopped = RunStopped(
                f"stopped at {node}: {cause}. Run `author {kind} {slug}` again to resume at "
                f"{node} (finished steps are kept), or add --restart to start over"
            )
            stopped.exit_code = (
                EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_PROVIDER
            )
            raise stopped from exc
        paused = graph.get_state(config).next
    return Invocation(
        state=LessonState.model_validate(values),
        resumed_at=resumed_at,
        paused_before=paused[0] if paused else None,
        elapsed_s=time.perf_counter() - started,
    )


# ---------------------------------------------------------------- the commands


def run_plan(
    slug: str,
    *,
    records_dir: Path,
    config: LLMConfig | Provider,
    restart: bool = False,
    force: bool = False,
    progress: Callable[[ProgressEvent], None] | None = None,
    today: str | None = None,
    checkpointer: Any = None,
) -> RunResult:
    """Plan `slug`: load -> orient -> analyze -> design -> plan_checks -> write_plan."""
    run = make_run_context(
        slug, records_dir=records_dir, config=config, force=force, progress=progress, today=today
    )
    done = invoke(run, kind=PLAN_KIND, restart=restart, checkpointer=checkpointer)
    state = done.state
    return RunResult(
        slug=slug,
        status=state.status,
        plan_path=state.plan_path,
        written=[state.plan_path] if state.plan_path else [],
        resumed_at=done.resumed_at,
        nodes=list(state.usage),
        checks=list(state.plan_checks),
        notes=list(state.notes),
        usage=run.usage_log,
        elapsed_s=done.elapsed_s,
    )


def run_lesson(
    slug: str,
    *,
    records_dir: Path,
    config: Any,
    max_iterations: int = 3,
    restart: bool = False,
    replan: bool = False,
    force: bool = False,
    progress: Callable[..., None] | None = None,
    today: str | None = None,
    checkpointer: Any = None,
    interrupt_after: list[str] | None = None,
    concurrency: int | None = None,
    approve: list[str] | None = None,
    resume_only: bool = False,
) -> LessonRunResult:
    """`author lesson SLUG`: plan (unless a planning document exists), build, review/revise,
    record.

    An interrupted run is resumed where it stopped; a finished one (or ``restart``) starts
    over. With a planning document on disk the plan phases are skipped (``replan`` runs them
    again). ``interrupt_after`` (node names) and ``approve`` (gate names: ``plan``,
    ``build``) pause the run there; running again continues it. The nodes read the planning
    document and the lesson from disk, so an author's edits made during the pause are used.
    ``resume_only`` (``--continue``): a UserError unless a run of this lesson is paused or
    unfinished. ``concurrency``: model calls at once inside a node (None: the provider's
    default)."""
    if not 1 <= max_iterations <= 3:
        raise UserError(f"--max-iterations must be 1, 2 or 3, not {max_iterations}")
    if resume_only and restart:
        raise UserError("--continue resumes a paused run and --restart forgets it: give one")
    unknown = sorted(set(approve or []) - set(GATES))
    if unknown:
        raise UserError(f"--approve takes {' or '.join(GATES)}, not {', '.join(unknown)}")
    interrupt_after = list(interrupt_after or []) + [GATES[g] for g in approve or []]
    run = make_run_context(
        slug,
        records_dir=records_dir,
        config=config,
        force=force,
        progress=progress,
        today=today,
        max_iterations=max_iterations,
        max_concurrency=concurrency,
    )
    done = invoke(
        run,
        kind=LESSON_KIND,
        restart=restart,
        resume_only=resume_only,
        from_plan=run.location.plan_path.is_file() and not replan,
        checkpointer=checkpointer,
        interrupt_after=interrupt_after or None,
    )
    state = done.state
    written = list(dict.fromkeys(([state.plan_path] if state.plan_path else []) + state.written))
    result = LessonRunResult(
        slug=slug,
        status=f"paused before {done.paused_before}" if done.paused_before else state.status,
        reviews=list(state.reviews),
        written=written,
        resumed_at=done.resumed_at,
        planned=not state.from_plan,
        nodes=list(state.usage),
        notes=list(state.notes),
        usage=run.usage_log,
        elapsed_s=done.elapsed_s,
        paused_before=done.paused_before,
    )
    write_run_summary(run.project_root, result)
    return result


def write_run_summary(project_root: Path, result: LessonRunResult) -> None:
    """The run's JSON summary (verdicts, files, time and tokens per node) beside the cache;
    a run state file, so a failure to write it is not the run's failure."""
    path = run_summary_path(project_root, result.slug)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    except OSError:
        pass


def build_now(run: RunContext) -> list[str]:
    """`author build SLUG`: build the lesson and notebook from the planning document."""
    lesson = build_lesson(run, current_plan(None, run))
    return [run.relative(p) for p in write_lesson_files(run, lesson)]


def review_now(run: RunContext) -> tuple[Review, list[str]]:
    """`author review SLUG`: review the lesson as it is on disk (an author may have edited it).

    The review is the planning document's next iteration; its verification covers the
    findings of the last review there.
    """
    plan = current_plan(None, run)
    previous = plan.reviews[-1] if plan.reviews else None
    # after every review on disk too: a planning document cut short keeps its history there
    iteration = next_iteration(run.project_root, run.location.slug, plan)
    review, statuses = review_lesson(
        run, plan, iteration=iteration, of=max(run.max_iterations, iteration), previous=previous
    )
    return review, write_review(run, review, statuses)
