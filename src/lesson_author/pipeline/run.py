"""Run the plan graph for one lesson: set up, resume or start, report.

``run_plan`` is what ``author plan SLUG`` calls. A thread whose last run did
not finish is resumed at its first unfinished node (finished nodes and their
model calls are not repeated); a finished thread, or ``restart=True``, starts
over. A provider failure or Ctrl-C stops the run with a :class:`RunStopped`
that says where it stopped and how to continue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lesson_author.course.tree import CourseTree, project_root, validate_slug
from lesson_author.errors import UserError
from lesson_author.llm.base import Provider
from lesson_author.llm.config import LLMConfig
from lesson_author.llm.errors import LLMError
from lesson_author.llm.usage import UsageLog
from lesson_author.state import candidate_budget

from .context import RunContext, no_progress
from .graph import (
    build_graph,
    checkpoint_path,
    clear_thread,
    close_checkpointer,
    open_checkpointer,
    thread_config,
    thread_id,
)
from .progress import ProgressEvent
from .state import LessonState, NodeUsage, PlanCheck


def llm_config(records_dir: Path, **options: Any) -> LLMConfig:
    """The LLM configuration for a run on `records_dir` (CLI options win); UserError if invalid."""
    from lesson_author.llm.config import load_config

    try:
        return load_config(project_root=project_root(Path(records_dir)), **options)
    except LLMError as exc:
        raise UserError(str(exc)) from exc


class RunStopped(UserError):
    """The run stopped before its end (provider failure, Ctrl-C); it can be resumed."""

    exit_code = 1


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


def _provider(config: LLMConfig | Provider) -> Provider:
    if isinstance(config, LLMConfig):
        from lesson_author.llm.factory import make_provider

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
    from .concurrency import default_concurrency

    if max_concurrency is not None and max_concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, not {max_concurrency}")
    validate_slug(slug)
    records_dir = Path(records_dir)
    window = None
    if isinstance(config, LLMConfig) and config.resolved_provider == "local":
        window = config.n_ctx
    tree = CourseTree.open(records_dir)
    location = tree.locate(slug)
    return RunContext(
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
    )


def run_graph(
    run: RunContext,
    *,
    kind: str = "plan",
    through: str = "plan",
    restart: bool = False,
    checkpointer: Any = None,
    interrupt_after: list[str] | None = None,
) -> tuple[LessonState, str | None, float]:
    """Invoke (or resume) the graph for run.location; (final state, node resumed at, seconds).

    Shared by the plan and lesson commands: `kind` keeps their threads apart.
    """
    import time

    own_saver = checkpointer is None
    saver = checkpointer or open_checkpointer(checkpoint_path(run.project_root))
    started = time.perf_counter()
    try:
        graph = build_graph(
            run, through=through, checkpointer=saver, interrupt_after=interrupt_after
        )
        assert run.records_dir is not None
        thread = thread_id(run.records_dir, run.location.slug, kind)
        config = thread_config(thread)
        if restart:
            clear_thread(saver, thread)
        snapshot = graph.get_state(config)
        resumed_at: str | None = None
        if snapshot.next:
            resumed_at = snapshot.next[0]
            run.progress(
                ProgressEvent(
                    "resume",
                    resumed_at,
                    message=f"resuming at {resumed_at} (finished steps are kept)",
                )
            )
            payload: LessonState | None = None
        else:
            if snapshot.values:
                clear_thread(saver, thread)  # the last run finished: start a new one
            payload = LessonState(slug=run.location.slug, kind=kind)
        try:
            values = graph.invoke(payload, config)
        except (LLMError, KeyboardInterrupt) as exc:
            where = graph.get_state(config).next
            node = where[0] if where else "?"
            cause = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            raise RunStopped(
                f"stopped at {node}: {cause}. Run `author {kind} {run.location.slug}` again to "
                f"resume at {node} (finished steps are kept), or add --restart to start over"
            ) from exc
        state = LessonState.model_validate(values)
        return state, resumed_at, time.perf_counter() - started
    finally:
        if own_saver:
            close_checkpointer(saver)


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
    state, resumed_at, elapsed = run_graph(
        run, kind="plan", through="plan", restart=restart, checkpointer=checkpointer
    )
    written = [state.plan_path] if state.plan_path else []
    return RunResult(
        slug=slug,
        status=state.status,
        plan_path=state.plan_path,
        written=written,
        resumed_at=resumed_at,
        nodes=list(state.usage),
        checks=list(state.plan_checks),
        notes=list(state.notes),
        usage=run.usage_log,
        elapsed_s=elapsed,
    )


def print_result(result: RunResult, console: Any) -> None:
    """The end-of-run summary: per-node time and tokens, the checklists, what was written."""
    from rich.table import Table

    table = Table(title=f"author plan {result.slug}")
    for name in ("node", "elapsed s", "calls", "cached", "tokens in", "tokens out"):
        table.add_column(name, justify="left" if name == "node" else "right")
    for n in result.nodes:
        label = n.node if n.attempt == 1 else f"{n.node} (again)"
        table.add_row(
            label,
            f"{n.elapsed_s:.1f}",
            str(n.calls),
            str(n.cache_hits),
            str(n.prompt_tokens),
            str(n.completion_tokens),
        )
    console.print(table)
    passed = len(result.checks) - len(result.unchecked)
    style = "green" if not result.unchecked else "yellow"
    console.print(f"[{style}]checklists: {passed}/{len(result.checks)} items checked[/{style}]")
    for check in result.unchecked:
        console.print(f"[yellow]  [ ] {check.text}: {check.detail}[/yellow]")
    if result.resumed_at:
        console.print(f"resumed at {result.resumed_at}")
    for path in result.written:
        console.print(f"wrote {path}")
