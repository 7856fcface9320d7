"""The lesson half of the graph: build -> review -> (revise -> review)* -> record.

    ... write_plan -> build -> review --PASS--------------------------> record
                                 |  ^                                       ^
                not PASS, iterations left                                   |
                                 v  |                                       |
                                revise          not PASS, none left --------+

graph.py calls :func:`add_lesson_nodes` for ``build_graph(run, through="lesson")``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph

from lesson_author.course.models import Finding, Review, Verdict
from lesson_author.errors import UserError
from lesson_author.llm.usage import UsageLog

from .build import build_node
from .context import RunContext
from .record import record_node
from .review import review_node, route_after_review
from .revise import revise_node
from .state import LessonState, NodeUsage

LESSON_NODES = ("build", "review", "revise", "record")
# approval gates: `--approve plan` pauses after the planning document is written,
# `--approve build` after the lesson and notebook are built (before the first review)
GATES = {"plan": "write_plan", "build": "build"}


def lesson_node_functions() -> dict[str, Callable[..., dict[str, Any]]]:
    return {
        "build": build_node,
        "review": review_node,
        "revise": revise_node,
        "record": record_node,
    }


def add_lesson_nodes(
    builder: StateGraph, run: RunContext, *, after: str, wrap: Callable[..., Any]
) -> str:
    """Add the lesson nodes behind ``after``; returns the last node's name (``record``)."""
    for name, function in lesson_node_functions().items():
        builder.add_node(name, wrap(name, function, run))
    builder.add_edge(after, "build")
    builder.add_edge("build", "review")
    builder.add_conditional_edges(
        "review", route_after_review(run.max_iterations), ["revise", "record"]
    )
    builder.add_edge("revise", "review")
    return "record"


# ---------------------------------------------------------------- running a lesson

LESSON_KIND = "lesson"
BUILT_KIND = "lesson-from-plan"  # the thread of a run that starts from an existing plan


def lesson_only_graph(
    run: RunContext, checkpointer: Any, interrupt_after: list[str] | None = None
) -> Any:
    """build -> review -> (revise -> review)* -> record, starting from the planning document."""
    from langgraph.graph import END, START

    from .graph import wrap_node

    builder = StateGraph(LessonState)
    last = add_lesson_nodes(builder, run, after=START, wrap=wrap_node)
    builder.add_edge(last, END)
    return builder.compile(checkpointer=checkpointer, interrupt_after=interrupt_after or None)


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


def _invoke(
    run: RunContext, graph: Any, kind: str, *, restart: bool
) -> tuple[LessonState, str | None, str | None]:
    """Start (or resume) `graph` on the lesson's `kind` thread; the final state, the node resumed at."""
    from lesson_author.llm.errors import LLMError

    from .graph import clear_thread, thread_config, thread_id
    from .progress import ProgressEvent
    from .run import RunStopped

    assert run.records_dir is not None
    thread = thread_id(run.records_dir, run.location.slug, kind)
    config = thread_config(thread)
    if restart:
        clear_thread(graph.checkpointer, thread)
    snapshot = graph.get_state(config)
    resumed_at: str | None = None
    payload: LessonState | None
    if snapshot.next:
        resumed_at = snapshot.next[0]
        run.progress(
            ProgressEvent(
                "resume", resumed_at, message=f"resuming at {resumed_at} (finished steps are kept)"
            )
        )
        payload = None
    else:
        if snapshot.values:
            clear_thread(graph.checkpointer, thread)  # the last run finished: start a new one
        payload = LessonState(slug=run.location.slug, kind=kind)
    try:
        values = graph.invoke(payload, config)
    except (LLMError, KeyboardInterrupt) as exc:
        where = graph.get_state(config).next
        node = where[0] if where else "?"
        cause = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        raise RunStopped(
            f"stopped at {node}: {cause}. Run `author lesson {run.location.slug}` again to resume "
            f"at {node} (finished steps are kept), or add --restart to start over"
        ) from exc
    paused = graph.get_state(config).next
    return LessonState.model_validate(values), resumed_at, (paused[0] if paused else None)


def _pending(graph: Any, run: RunContext, kind: str) -> bool:
    from .graph import thread_config, thread_id

    assert run.records_dir is not None
    snapshot = graph.get_state(thread_config(thread_id(run.records_dir, run.location.slug, kind)))
    return bool(snapshot.next)


def run_lesson_graph(
    run: RunContext,
    *,
    restart: bool = False,
    replan: bool = False,
    checkpointer: Any = None,
    interrupt_after: list[str] | None = None,
    resume_only: bool = False,
) -> LessonRunResult:
    """Plan (unless a planning document exists), build, review/revise, record.

    An interrupted run is resumed where it stopped; a finished one (or ``restart``)
    starts over. With a planning document on disk the plan phases are skipped
    (``replan`` runs them again). ``interrupt_after`` (node names, e.g. ``write_plan``
    or ``build``) pauses the run there; running again continues it. The nodes read
    the planning document and the lesson from disk, so an author's edits made during
    the pause are used. ``resume_only`` (``--continue``): a UserError unless a run of
    this lesson is paused or unfinished.
    """
    from .graph import (
        build_graph,
        checkpoint_path,
        clear_thread,
        close_checkpointer,
        open_checkpointer,
        thread_id,
    )

    own = checkpointer is None
    saver = checkpointer or open_checkpointer(checkpoint_path(run.project_root))
    started = time.perf_counter()
    try:
        full = build_graph(
            run, through="lesson", checkpointer=saver, interrupt_after=interrupt_after
        )
        from_plan = lesson_only_graph(
            run, saver, [n for n in interrupt_after or [] if n in LESSON_NODES]
        )
        assert run.records_dir is not None
        if restart:
            for kind in (LESSON_KIND, BUILT_KIND):
                clear_thread(saver, thread_id(run.records_dir, run.location.slug, kind))
        if resume_only and not (
            _pending(full, run, LESSON_KIND) or _pending(from_plan, run, BUILT_KIND)
        ):
            raise UserError(
                f"nothing to continue: {run.location.slug} has no paused or unfinished run; "
                f"run `author lesson {run.location.slug}` to start one"
            )
        if _pending(full, run, LESSON_KIND):
            graph, kind = full, LESSON_KIND
        elif (
            _pending(from_plan, run, BUILT_KIND) or run.location.plan_path.is_file() and not replan
        ):
            graph, kind = from_plan, BUILT_KIND
        else:
            graph, kind = full, LESSON_KIND
        state, resumed_at, paused_before = _invoke(run, graph, kind, restart=False)
    finally:
        if own:
            close_checkpointer(saver)
    written = list(dict.fromkeys(([state.plan_path] if state.plan_path else []) + state.written))
    result = LessonRunResult(
        slug=run.location.slug,
        status=f"paused before {paused_before}" if paused_before else state.status,
        reviews=list(state.reviews),
        written=written,
        resumed_at=resumed_at,
        planned=kind == LESSON_KIND,
        nodes=list(state.usage),
        notes=list(state.notes),
        usage=run.usage_log,
        elapsed_s=time.perf_counter() - started,
        paused_before=paused_before,
    )
    write_run_summary(run.project_root, result)
    return result


def run_summary_path(project_root: Path, slug: str) -> Path:
    """Where the last run of a lesson leaves its summary (read by `author report`)."""
    return Path(project_root) / ".author" / "runs" / f"{slug}.json"


def write_run_summary(project_root: Path, result: LessonRunResult) -> None:
    """The run's JSON summary (verdicts, files, time and tokens per node) beside the cache;
    a run state file, so a failure to write it is not the run's failure."""
    import json

    from lesson_author.course.tree import write_atomic

    path = run_summary_path(project_root, result.slug)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    except OSError:
        pass


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
    """`author lesson SLUG`: see :func:`run_lesson_graph`. ``concurrency``: model calls at
    once inside a node (None: the provider's default). ``approve``: gate names
    (``plan``, ``build``) to pause after; ``resume_only``: ``--continue``."""
    from .run import make_run_context

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
    return run_lesson_graph(
        run,
        restart=restart,
        replan=replan,
        checkpointer=checkpointer,
        interrupt_after=interrupt_after or None,
        resume_only=resume_only,
    )


def _to_read(result: LessonRunResult) -> str:
    """What a paused run asks the author to read: the files it wrote, else the plan."""
    files = [w for w in result.written if not w.endswith(".json")]
    return ", ".join(files) if files else "the planning document"


# ---------------------------------------------------------------- one phase alone


def build_now(run: RunContext) -> list[str]:
    """`author build SLUG`: build the lesson and notebook from the planning document."""
    from .build import build_lesson, current_plan, write_lesson_files

    lesson = build_lesson(run, current_plan(None, run))
    return [run.relative(p) for p in write_lesson_files(run, lesson)]


def review_now(run: RunContext) -> tuple[Review, list[str]]:
    """`author review SLUG`: review the lesson as it is on disk (an author may have edited it).

    The review is the planning document's next iteration; its verification covers the
    findings of the last review there.
    """
    from .build import current_plan
    from .review import review_lesson, write_review

    plan = current_plan(None, run)
    previous = plan.reviews[-1] if plan.reviews else None
    iteration = (previous.iteration or len(plan.reviews)) + 1 if previous else 1
    review, statuses = review_lesson(
        run, plan, iteration=iteration, of=max(run.max_iterations, iteration), previous=previous
    )
    return review, write_review(run, review, statuses)


# ---------------------------------------------------------------- the end-of-run summary


def _counts_text(review: Review) -> str:
    parts = [f"{n} {s.value.lower()}" for s, n in review.counts.items() if n]
    return ", ".join(parts) or "no findings"


def findings_table(findings: list[Finding], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for name in ("severity", "finding", "location"):
        table.add_column(name)
    colors = {"CRITICAL": "red", "IMPROVEMENT": "yellow", "POLISH": "cyan"}
    for f in findings:
        sev = f.severity.value
        table.add_row(f"[{colors[sev]}]{sev}[/{colors[sev]}]", f.title, f.location)
    return table


def print_lesson_result(result: LessonRunResult, console: Any) -> None:
    """Verdict per iteration, time and tokens per phase, files written, open findings."""
    from rich.table import Table

    table = Table(title=f"author lesson {result.slug}")
    for name in ("phase", "runs", "elapsed s", "calls", "cached", "tokens in", "tokens out"):
        table.add_column(name, justify="left" if name == "phase" else "right")
    phases: dict[str, list[NodeUsage]] = {}
    for n in result.nodes:
        phases.setdefault(n.node, []).append(n)
    for name, runs in phases.items():
        table.add_row(
            name,
            str(len(runs)),
            f"{sum(r.elapsed_s for r in runs):.1f}",
            str(sum(r.calls for r in runs)),
            str(sum(r.cache_hits for r in runs)),
            str(sum(r.prompt_tokens for r in runs)),
            str(sum(r.completion_tokens for r in runs)),
        )
    table.add_section()
    table.add_row(
        "total",
        str(len(result.nodes)),
        f"{result.elapsed_s:.1f}",
        str(sum(n.calls for n in result.nodes)),
        str(sum(n.cache_hits for n in result.nodes)),
        str(sum(n.prompt_tokens for n in result.nodes)),
        str(sum(n.completion_tokens for n in result.nodes)),
        style="bold",
    )
    console.print(table)
    if result.resumed_at:
        console.print(f"resumed at {result.resumed_at}")
    for r in result.reviews:
        verdict = r.verdict.value if r.verdict else "?"
        style = (
            "green"
            if r.verdict is Verdict.PASS
            else "yellow"
            if r.verdict is Verdict.NEEDS_REVISION
            else "red"
        )
        console.print(
            f"iteration {r.iteration}/{r.of}: [{style}]{verdict}[/{style}] ({_counts_text(r)})"
        )
    for path in result.written:
        console.print(f"wrote {path}")
    if result.paused_before:
        console.print(
            f"[cyan]{result.slug}: paused before {result.paused_before}, for your approval. "
            f"Read (and edit) {_to_read(result)}, then continue with `author lesson "
            f"{result.slug} --continue` (add --approve build to pause again after the build), "
            f"or stop here: nothing more is written until you continue.[/cyan]"
        )
    elif result.passed:
        console.print(f"[green]{result.slug}: PASS, recorded[/green]")
    elif result.reviews:
        last = result.reviews[-1]
        console.print(
            findings_table(result.open_findings, f"open findings after iteration {last.iteration}")
        )
        console.print(
            f"[red]{result.slug}: not PASS after {len(result.reviews)} iteration(s); recorded as "
            "open. Fix the findings and run `author review` (or `author lesson --restart`).[/red]"
        )
