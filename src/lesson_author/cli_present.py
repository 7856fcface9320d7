"""Everything the commands print with rich: progress lines, run summaries, tables.

The pipeline returns results (runner.RunResult, runner.LessonRunResult, batch.BatchResult)
and emits progress events (progress.ProgressEvent); this module turns them into terminal
output, so the pipeline itself prints nothing.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.status import Status
from rich.table import Table

from lesson_author.course.models import Finding, Review, Verdict
from lesson_author.pipeline.batch import BatchEvent, BatchResult
from lesson_author.pipeline.progress import ProgressEvent
from lesson_author.pipeline.runner import LessonRunResult, RunResult
from lesson_author.pipeline.state import NodeUsage

# ---------------------------------------------------------------- progress


class RichProgress:
    """Prints one line per finished node (name, elapsed, tokens) with a spinner while it runs."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._status: Status | None = None

    def __call__(self, event: ProgressEvent) -> None:
        label = event.node if event.attempt == 1 else f"{event.node} (again)"
        if event.kind == "start":
            self._stop()
            self._status = self.console.status(f"{label} ...")
            self._status.start()
            return
        self._stop()
        if event.kind == "end":
            tokens = ""
            if event.calls or event.cache_hits:
                tokens = f"  {event.prompt_tokens:>6} tok in  {event.completion_tokens:>5} out"
                tokens += f"  {event.calls} call{'s' if event.calls != 1 else ''}"
                if event.cache_hits:
                    tokens += f", {event.cache_hits} cached"
            note = f"  [dim]{event.message}[/dim]" if event.message else ""
            self.console.print(
                f"[green]done[/green]  {label:<18} {event.elapsed_s:7.1f}s{tokens}{note}",
                highlight=False,
            )
        elif event.kind == "error":
            self.console.print(
                f"[red]failed[/red] {label:<18} {event.elapsed_s:7.1f}s  {event.message}",
                highlight=False,
            )
        elif event.kind in ("resume", "skip"):
            self.console.print(f"[cyan]{event.kind}[/cyan] {event.message}", highlight=False)

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop()


# ---------------------------------------------------------------- author plan


def print_result(result: RunResult, console: Any) -> None:
    """The end-of-run summary: per-node time and tokens, the checklists, what was written."""
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


# ---------------------------------------------------------------- author lesson / review


def _to_read(result: LessonRunResult) -> str:
    """What a paused run asks the author to read: the files it wrote, else the plan."""
    files = [w for w in result.written if not w.endswith(".json")]
    return ", ".join(files) if files else "the planning document"


def _counts_text(review: Review) -> str:
    parts = [f"{n} {s.value.lower()}" for s, n in review.counts.items() if n]
    return ", ".join(parts) or "no findings"


def findings_table(findings: list[Finding], title: str) -> Any:
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


# ---------------------------------------------------------------- author lesson --all-pending


OUTCOME_STYLE = {"recorded": "green", "not_pass": "yellow", "failed": "red", "skipped": "red"}
VERDICT_STYLE = {"PASS": "green", "NEEDS REVISION": "yellow", "MAJOR REVISION": "red"}


class BatchPrinter:
    """``on_lesson`` for the CLI: a rule before each lesson, one line after it."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def __call__(self, event: BatchEvent) -> None:
        entry = event.entry
        where = f"[{event.index}/{event.total}] {entry.slug} (module {entry.location.module})"
        if event.kind == "start":
            self.console.rule(where, style="cyan")
            return
        style = OUTCOME_STYLE.get(entry.outcome or "", "white")
        self.console.print(f"[{style}]{where}: {entry.status_text}[/{style}]", highlight=False)


def summary_table(batch: BatchResult) -> Any:
    """Lesson, verdict, iterations, time, tokens and status, one row per pending lesson."""
    table = Table(title=f"author lesson --all-pending: {batch.scope}")
    for name in ("lesson", "module", "verdict", "iterations", "time s", "calls", "tokens in/out"):
        table.add_column(name, justify="left" if name in ("lesson", "verdict") else "right")
    table.add_column("status", overflow="fold")
    for e in batch.entries:
        verdict = e.verdict
        tokens_in, tokens_out = e.tokens
        ran = e.outcome not in ("skipped", None)
        style = OUTCOME_STYLE.get(e.outcome or "", "white")
        table.add_row(
            e.slug,
            e.location.module,
            f"[{VERDICT_STYLE.get(verdict, 'white')}]{verdict}[/]" if verdict else "-",
            str(e.iterations) if ran else "-",
            f"{e.elapsed_s:.1f}" if e.outcome not in ("skipped", None) else "-",
            str(e.calls) if ran else "-",
            f"{tokens_in}/{tokens_out}" if ran else "-",
            f"[{style}]{e.short_status}[/{style}]",
        )
    if batch.entries:
        table.add_section()
        tokens = [e.tokens for e in batch.entries]
        table.add_row(
            "total",
            "",
            "",
            "",
            f"{batch.elapsed_s:.1f}",
            str(sum(e.calls for e in batch.entries)),
            f"{sum(t[0] for t in tokens)}/{sum(t[1] for t in tokens)}",
            _batch_counts_text(batch),
            style="bold",
        )
    return table


def _batch_counts_text(batch: BatchResult) -> str:
    parts = [
        f"{batch.count('recorded')} recorded",
        f"{batch.count('not_pass')} not PASS",
        f"{batch.count('failed')} failed",
        f"{batch.count('skipped')} skipped",
    ]
    return ", ".join(p for p in parts if not p.startswith("0 ")) or "nothing to do"


def print_batch_result(batch: BatchResult, console: Any) -> None:
    if not batch.entries:
        console.print(
            f"[green]{batch.scope}: no pending lessons (every planned lesson is recorded)[/green]"
        )
        return
    console.print(summary_table(batch))
    if batch.interrupted:
        console.print("[red]interrupted: run the same command again to go on[/red]")
    for e in batch.entries:
        if e.outcome == "failed":
            console.print(f"[red]{e.slug}: {e.reason}[/red]", highlight=False)
    skipped = [e.slug for e in batch.entries if e.outcome == "skipped"]
    if skipped and not batch.interrupted:
        console.print(
            f"[red]skipped {', '.join(skipped)}: fix the failed lesson and run the same command "
            "again (recorded lessons are not pending any more)[/red]"
        )
