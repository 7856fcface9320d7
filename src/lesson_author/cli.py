"""The ``author`` command line: a thin Typer app.

Each command parses its options, calls one domain function and prints the
result.  Every command gets the same ``--records`` option (:data:`RecordsOption`)
and opens its tree with :func:`open_tree`.  The one error boundary is
:class:`ErrorBoundary`: a :class:`~lesson_author.errors.UserError` (or an OS
error such as a permission problem) raised anywhere under a command becomes one
red line on stderr and exit code 2 (or the error's own ``exit_code``), never a traceback.

Exit codes (:mod:`lesson_author.errors`): 0 ok; 1 the command found something
(problems, stale records); 2 bad input, or another process is writing the tree;
3 a lesson that did not reach PASS (``author lesson``); 4 the model provider
failed; 130 interrupted (Ctrl-C); a batch (``author lesson --all-pending``)
exits 1 when a lesson failed or was skipped.

Every command that writes holds the records tree's writer lock (:func:`writing`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from lesson_author import __version__
from lesson_author.course.check import check_tree
from lesson_author.course.records import regenerate, stale_diff
from lesson_author.course.status import print_status
from lesson_author.course.tree import CourseTree, find_records_dir, write_atomic
from lesson_author.errors import (
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_NOT_PASS,
    EXIT_PROVIDER,
    EXIT_USAGE,
    UserError,
)


def stdout() -> Console:
    return Console(soft_wrap=True, highlight=False)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _demo_notice(config: Any, result: Any = None, *, end: bool = False) -> None:
    """The embedded demo model's one line at the start and at the end of a run (stderr)."""
    from lesson_author.llm.local_provider import demo_notice

    usage = getattr(result, "usage", None)
    fields = usage.total().no_answer if usage is not None else {}
    if end and fields:  # any model: what it could not fill, per phase and field
        listed = ", ".join(f"{name} x{n}" for name, n in list(fields.items())[:6])
        more = f" and {len(fields) - 6} more" if len(fields) > 6 else ""
        stderr().print(
            f"[yellow]{sum(fields.values())} field(s) say '(no usable answer)': the model's text "
            f"stayed degenerate or too short after every retry ({listed}{more})[/yellow]",
            highlight=False,
            soft_wrap=True,
        )
    line = demo_notice(config, end=end, no_answer=sum(fields.values()))
    if line:
        stderr().print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one red line on stderr and exit ``code`` (2: bad input)."""
    stderr().print(Text(f"error: {message}", style="red"))
    raise typer.Exit(code)


class ErrorBoundary(TyperGroup):
    """The app's group: turns errors under any command into one line and an exit code:
    a user error 2 (or its own ``exit_code``), a provider failure 4, Ctrl-C 130."""

    def invoke(self, ctx: typer.Context) -> Any:
        from lesson_author.llm.errors import LLMError

        try:
            return super().invoke(ctx)
        except UserError as exc:
            fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE))
        except LLMError as exc:
            fail(str(exc), EXIT_PROVIDER)
        except KeyboardInterrupt:
            fail("interrupted (Ctrl-C); run the command again to resume", EXIT_INTERRUPTED)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")


NoExecuteOption = Annotated[
    bool,
    typer.Option(
        "--no-execute",
        help="Do not run the notebook in the review (it is parsed only, and the review says "
        "so). Default: run it, sandboxed; execute = false under tool.author in "
        "pyproject.toml turns it off.",
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="If another author process is writing the records tree, wait for it "
        "(default: stop at once, exit 2).",
    ),
]


def writing(records_dir: Path, what: str, wait: bool = False) -> Any:
    """The records tree's writer lock for a command that writes (``what``: the command, as
    the lock's holder file shows it to a second writer); waits and clean-ups go to stderr."""
    from lesson_author.workspace import writer_lock

    def notify(line: str) -> None:
        stderr().print(Text(line, style="yellow"))

    return writer_lock(records_dir, what, wait=wait, notify=notify)


app = typer.Typer(
    name="author",
    cls=ErrorBoundary,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Plan, build and review course lessons against a course's record files, "
    "and keep those records true.",
)

RecordsOption = Annotated[
    Path | None,
    typer.Option(
        "--records",
        help="The records tree (default: [tool.author] records in pyproject.toml, else ./lessons).",
        show_default=False,
    ),
]
PathArgument = Annotated[
    Path | None,
    typer.Argument(help="The records tree; overrides --records.", show_default=False),
]


def open_tree(records: Path | None, path: Path | None = None) -> CourseTree:
    """The records tree a command works on: PATH > --records > pyproject > ./lessons."""
    return CourseTree.open(find_records_dir(path if path is not None else records, Path.cwd()))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"author (lesson-author) {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Plan, build and review course lessons against a course's record files."""


@app.command()
def check(
    path: PathArgument = None,
    records: RecordsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on errors.")
    ] = False,
) -> None:
    """Validate the records tree: print file:line: message per problem; exit 1 on errors."""
    tree = open_tree(records, path)
    from lesson_author.course.check import TextScans
    from lesson_author.workspace import author_dir

    here = author_dir(Path.cwd())  # a project's .author/ keeps the text scans between runs
    scans = TextScans(here / "text-scans.json" if here.is_dir() else None)
    problems = check_tree(tree, scans=scans)
    errors = sum(1 for p in problems if p.level == "error")
    warnings = len(problems) - errors
    if as_json:
        typer.echo(json.dumps([p.to_json() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            typer.echo(str(problem))
        files = len({p.path for p in problems})
        note = (
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} "
            f"warning{'s' if warnings != 1 else ''} in {files} file{'s' if files != 1 else ''}"
            if problems
            else f"no problems in {len(tree.record_files())} files under {tree.root}"
        )
        failing = errors or (strict and warnings)
        stderr().print(Text(note, style="red" if failing else "yellow" if problems else "green"))
    if errors or (strict and warnings):
        raise typer.Exit(EXIT_FOUND)


@app.command()
def status(path: PathArgument = None, records: RecordsOption = None) -> None:
    """Course, series and module progress: built vs planned lessons, last review verdicts."""
    print_status(open_tree(records, path), stdout())


@app.command("records")
def records_command(
    path: PathArgument = None,
    records: RecordsOption = None,
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; print a diff of what is stale, exit 1 if any."
        ),
    ] = False,
    wait: WaitOption = False,
) -> None:
    """Regenerate the derived parts of the records (statuses, counts, review lines)."""
    tree = open_tree(records, path)
    if check_only:
        diff = stale_diff(tree)
        if diff:
            sys.stdout.write(diff)
            stderr().print(
                Text("records are stale: run `author records` to update them", style="red")
            )
            raise typer.Exit(EXIT_FOUND)
        stderr().print(Text(f"records are up to date ({tree.root})", style="green"))
        return
    with writing(tree.root, "author records", wait):
        changes = regenerate(tree)  # every new text is computed before anything is written
        for target, text in changes.items():
            write_atomic(target, text)
            typer.echo(f"updated {target}")
    if not changes:
        stderr().print(Text(f"records are up to date ({tree.root})", style="green"))


@app.command()
def plan(
    slug: Annotated[str, typer.Argument(help="The lesson's slug, as the series plan lists it.")],
    records: RecordsOption = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="An OpenAI-compatible endpoint.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="The endpoint's model.")] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="The endpoint's key (default $OPENAI_API_KEY).")
    ] = None,
    local_model: Annotated[
        Path | None, typer.Option("--local-model", help="A GGUF file for the embedded model.")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget an unfinished run and start over.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a planning document a person edited.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    wait: WaitOption = False,
) -> None:
    """Plan a lesson: orient, analyze, design and check it into its planning document."""
    from lesson_author.cli_present import RichProgress, print_result
    from lesson_author.pipeline.runner import llm_config, run_plan

    records_dir = find_records_dir(records, Path.cwd())
    config = llm_config(
        records_dir,
        base_url=base_url,
        model=model,
        api_key=api_key,
        local_model=local_model,
        cache=False if no_cache else None,
    )
    progress = None if as_json else RichProgress(stderr())
    _demo_notice(config)
    with writing(records_dir, f"author plan {slug}", wait):
        result = run_plan(
            slug,
            records_dir=records_dir,
            config=config,
            restart=restart,
            force=force,
            progress=progress,
        )
    if as_json:
        typer.echo(result.to_json())
    else:
        print_result(result, stdout())
    _demo_notice(config, result, end=True)


@app.command()
def report(
    slug: Annotated[str, typer.Argument(help="The lesson's slug, as the series plan lists it.")],
    records: RecordsOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the page.", show_default=False),
    ] = None,
) -> None:
    """Write one self-contained HTML page about a lesson (default reviews/SLUG/report.html)."""
    from lesson_author.report import write_report

    typer.echo(str(write_report(slug, find_records_dir(records, Path.cwd()), out)))


# ---------------------------------------------------------------- lesson: build, review, record


BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="An OpenAI-compatible endpoint.")
]
ModelOption = Annotated[str | None, typer.Option("--model", help="The endpoint's model.")]
ApiKeyOption = Annotated[
    str | None, typer.Option("--api-key", help="The endpoint's key (default $OPENAI_API_KEY).")
]
LocalModelOption = Annotated[
    Path | None, typer.Option("--local-model", help="A GGUF file for the embedded model.")
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON summary.")]
SlugArgument = Annotated[
    str, typer.Argument(help="The lesson's slug, as the series plan lists it.")
]


def _lesson_setup(
    slug: str,
    records: Path | None,
    *,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    local_model: Path | None,
    no_cache: bool,
    as_json: bool,
    force: bool = False,
    max_iterations: int = 3,
) -> Any:
    """The run context of a one-phase command (build, review)."""
    from lesson_author.pipeline.runner import llm_config, make_run_context

    records_dir = find_records_dir(records, Path.cwd())
    config = llm_config(
        records_dir,
        base_url=base_url,
        model=model,
        api_key=api_key,
        local_model=local_model,
        cache=False if no_cache else None,
    )
    return make_run_context(
        slug, records_dir=records_dir, config=config, force=force, max_iterations=max_iterations
    )


@contextmanager
def _not_executing() -> Iterator[None]:
    """AUTHOR_EXECUTE=0 while the command runs, as it was afterwards: a command invoked in
    process (a test, a script calling the app) must not leave the next one not executing."""
    from lesson_author.checks.inputs import ENV_EXECUTE

    previous = os.environ.get(ENV_EXECUTE)
    os.environ[ENV_EXECUTE] = "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV_EXECUTE, None)
        else:
            os.environ[ENV_EXECUTE] = previous


def _execution(ctx: typer.Context, no_execute: bool) -> None:
    """--no-execute: the review's notebook check parses and does not run (the option outranks
    AUTHOR_EXECUTE and [tool.author] execute; see lesson_author.checks.inputs), for as long as
    the command runs."""
    if no_execute:
        ctx.with_resource(_not_executing())


@app.command()
def lesson(
    ctx: typer.Context,
    slug: Annotated[
        str | None,
        typer.Argument(
            help="The lesson's slug, as the series plan lists it (or use --all-pending).",
            show_default=False,
        ),
    ] = None,
    records: RecordsOption = None,
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key: ApiKeyOption = None,
    local_model: LocalModelOption = None,
    no_cache: NoCacheOption = False,
    max_iterations: Annotated[
        int,
        typer.Option("--max-iterations", min=1, max=3, help="Review iterations before stopping."),
    ] = 3,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget an unfinished run and start over.")
    ] = False,
    replan: Annotated[
        bool, typer.Option("--replan", help="Plan again even when a planning document exists.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite documents a person edited.")
    ] = False,
    as_json: JsonOption = False,
    all_pending: Annotated[
        bool,
        typer.Option(
            "--all-pending",
            help="Instead of SLUG: every lesson of --module/--series not recorded yet, in order.",
        ),
    ] = False,
    module_id: Annotated[
        str | None, typer.Option("--module", help="With --all-pending: a module, e.g. 7.4.")
    ] = None,
    series_id: Annotated[
        str | None, typer.Option("--series", help="With --all-pending: a series, e.g. 7.")
    ] = None,
    approve: Annotated[
        list[str] | None,
        typer.Option(
            "--approve",
            help="Pause for your approval after this phase: plan (the planning document is "
            "written) or build (the lesson and notebook are built). Repeatable.",
            show_default=False,
        ),
    ] = None,
    continue_run: Annotated[
        bool,
        typer.Option("--continue", help="Continue a run paused at an approval gate."),
    ] = False,
    no_execute: NoExecuteOption = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            help="Model calls at once inside a phase (default: 4 for an endpoint, "
            "1 for the embedded model).",
            show_default=False,
        ),
    ] = None,
    wait: WaitOption = False,
) -> None:
    """Plan (unless planned), build, review and revise until PASS, record. Exit 3 if not PASS.

    With --all-pending and --module or --series: every lesson planned there but not recorded
    yet, in course order (exit 0 all PASS, 3 some not PASS, 1 some failed or skipped).
    """
    _execution(ctx, no_execute)
    if _batch_selected(slug, all_pending, module_id, series_id):
        if approve or continue_run:
            raise UserError("--approve and --continue are for one lesson: author lesson SLUG")
        _lesson_batch(
            records,
            module=module_id,
            series=series_id,
            options={
                "base_url": base_url,
                "model": model,
                "api_key": api_key,
                "local_model": local_model,
                "cache": False if no_cache else None,
            },
            max_iterations=max_iterations,
            restart=restart,
            replan=replan,
            force=force,
            concurrency=concurrency,
            as_json=as_json,
            lock_wait=wait,
        )
        return
    assert slug is not None
    from lesson_author.cli_present import RichProgress, print_lesson_result
    from lesson_author.pipeline.runner import llm_config, run_lesson

    records_dir = find_records_dir(records, Path.cwd())
    config = llm_config(
        records_dir,
        base_url=base_url,
        model=model,
        api_key=api_key,
        local_model=local_model,
        cache=False if no_cache else None,
    )
    progress = None if as_json else RichProgress(stderr())
    _demo_notice(config)
    with writing(records_dir, f"author lesson {slug}", wait):
        result = run_lesson(
            slug,
            records_dir=records_dir,
            config=config,
            max_iterations=max_iterations,
            restart=restart,
            replan=replan,
            force=force,
            progress=progress,
            concurrency=concurrency,
            approve=approve,
            resume_only=continue_run,
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_lesson_result(result, stdout())
    _demo_notice(config, result, end=True)
    if not result.passed and not result.paused_before:
        raise typer.Exit(EXIT_NOT_PASS)


def _batch_selected(
    slug: str | None, all_pending: bool, module: str | None, series: str | None
) -> bool:
    """Whether `author lesson` runs a batch; UserError unless exactly one of SLUG or
    --all-pending with exactly one of --module / --series is given."""
    usage = "use `author lesson SLUG` or `author lesson --all-pending --module 7.4` (or --series 7)"
    if slug is not None and all_pending:
        raise UserError(f"give a SLUG or --all-pending, not both: {usage}")
    if slug is not None:
        if module is not None or series is not None:
            raise UserError(f"--module and --series select lessons for --all-pending: {usage}")
        return False
    if not all_pending:
        raise UserError(f"which lesson? {usage}")
    if (module is None) == (series is None):
        raise UserError(f"--all-pending needs exactly one of --module or --series: {usage}")
    return True


def _lesson_batch(
    records: Path | None,
    *,
    module: str | None,
    series: str | None,
    options: dict[str, Any],
    as_json: bool,
    **run_options: Any,
) -> None:
    """`author lesson --all-pending`: run the batch, print its summary, exit with its code."""
    from lesson_author.cli_present import BatchPrinter, RichProgress, print_batch_result
    from lesson_author.pipeline.batch import run_batch
    from lesson_author.pipeline.runner import llm_config

    records_dir = find_records_dir(records, Path.cwd())
    config = llm_config(records_dir, **options)
    _demo_notice(config)
    batch = run_batch(
        records_dir,
        module=module,
        series=series,
        config=config,
        progress=None if as_json else RichProgress(stderr()),
        on_lesson=None if as_json else BatchPrinter(stderr()),
        lock_notify=lambda line: stderr().print(Text(line, style="yellow")),
        **run_options,
    )
    if as_json:
        typer.echo(json.dumps(batch.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_batch_result(batch, stdout())
    _demo_notice(config, end=True)
    if batch.exit_code:
        raise typer.Exit(batch.exit_code)


@app.command()
def build(
    ctx: typer.Context,
    slug: SlugArgument,
    records: RecordsOption = None,
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key: ApiKeyOption = None,
    local_model: LocalModelOption = None,
    no_cache: NoCacheOption = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a lesson or notebook a person edited.")
    ] = False,
    as_json: JsonOption = False,
    wait: WaitOption = False,
) -> None:
    """Build the lesson (.mdx) and its practice notebook (.ipynb) from the planning document."""
    from lesson_author.pipeline.runner import build_now

    ctx.with_resource(writing(find_records_dir(records, Path.cwd()), f"author build {slug}", wait))
    run = _lesson_setup(
        slug,
        records,
        base_url=base_url,
        model=model,
        api_key=api_key,
        local_model=local_model,
        no_cache=no_cache,
        as_json=as_json,
        force=force,
    )
    with stderr().status(f"building {slug} section by section ..."):
        written = build_now(run)
    if as_json:
        data = {"slug": slug, "written": written, "usage": run.usage_log.to_dict()}
        typer.echo(json.dumps(data, indent=2))
        return
    stdout().print(run.usage_log.render_table(f"author build {slug}"))
    for path in written:
        stdout().print(f"wrote {path}")


@app.command()
def review(
    ctx: typer.Context,
    slug: SlugArgument,
    records: RecordsOption = None,
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key: ApiKeyOption = None,
    local_model: LocalModelOption = None,
    no_cache: NoCacheOption = False,
    as_json: JsonOption = False,
    wait: WaitOption = False,
    no_execute: NoExecuteOption = False,
) -> None:
    """Review the lesson as it is on disk (after hand edits too); exit 3 unless PASS."""
    _execution(ctx, no_execute)
    from lesson_author.cli_present import findings_table
    from lesson_author.pipeline.runner import review_now

    ctx.with_resource(writing(find_records_dir(records, Path.cwd()), f"author review {slug}", wait))
    run = _lesson_setup(
        slug,
        records,
        base_url=base_url,
        model=model,
        api_key=api_key,
        local_model=local_model,
        no_cache=no_cache,
        as_json=as_json,
    )
    with stderr().status(f"reviewing {slug} ..."):
        result, written = review_now(run)
    verdict = result.verdict.value if result.verdict else "?"
    if as_json:
        data = {
            "slug": slug,
            "iteration": result.iteration,
            "verdict": verdict,
            "findings": [
                f.model_dump(mode="json", exclude={"line", "layout"}) for f in result.findings
            ],
            "written": written,
            "usage": run.usage_log.to_dict(),
        }
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        out = stdout()
        if result.findings:
            out.print(findings_table(result.findings, f"iteration {result.iteration} findings"))
        style = "green" if verdict == "PASS" else "red"
        out.print(f"iteration {result.iteration}/{result.of}: [{style}]{verdict}[/{style}]")
        for path in written:
            out.print(f"wrote {path}")
    if verdict != "PASS":
        raise typer.Exit(EXIT_NOT_PASS)


@app.command("state")
def state_command(
    slug: SlugArgument, records: RecordsOption = None, as_json: JsonOption = False
) -> None:
    """The student state before SLUG, from the records alone (no model): known concepts,
    the orient prompt's candidates and size, and the prerequisites the plans name."""
    from lesson_author.course.tree import validate_slug
    from lesson_author.state import lesson_state, print_state

    found = lesson_state(open_tree(records), validate_slug(slug))
    if as_json:
        typer.echo(json.dumps(found.as_json(), indent=2, ensure_ascii=False))
    else:
        print_state(found, stdout())


@app.command()
def findings(
    slug: SlugArgument,
    records: RecordsOption = None,
    severity: Annotated[
        str | None,
        typer.Option("--severity", help="Only this severity: CRITICAL, IMPROVEMENT or POLISH."),
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only findings still open after the last review.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The lesson's review findings, every iteration, with their status: fixed, carried
    (raised again), open or accepted (POLISH the lesson passed with)."""
    from rich.table import Table

    from lesson_author.course.tree import project_root, validate_slug
    from lesson_author.review.documents import finding_rows, load_review_files, review_file

    validate_slug(slug)
    wanted = severity.upper() if severity else None
    if wanted not in (None, "CRITICAL", "IMPROVEMENT", "POLISH"):
        raise UserError(f"--severity must be CRITICAL, IMPROVEMENT or POLISH, not '{severity}'")
    tree = open_tree(records)
    files = load_review_files(project_root(tree.root), slug)
    if not files:  # reviews written by hand (or before author): read the planning document
        plan = tree.lesson_plan(slug)
        files = [review_file(slug, r) for r in (plan.reviews if plan else [])]
    if not files:
        raise UserError(f"'{slug}' has no reviews yet: run `author review {slug}`")
    rows = [
        r
        for r in finding_rows(files)
        if (wanted is None or r["severity"] == wanted) and (not open_only or r["status"] == "open")
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{slug}: findings")
    for name in ("it.", "severity", "finding", "location", "status", "why"):
        table.add_column(name)
    colors = {"CRITICAL": "red", "IMPROVEMENT": "yellow", "POLISH": "cyan"}
    for r in rows:
        color = colors.get(r["severity"], "white")
        status = r["status"]
        table.add_row(
            str(r["iteration"]),
            f"[{color}]{r['severity']}[/{color}]",
            r["title"],
            r["location"],
            f"[green]{status}[/green]" if status in ("fixed", "accepted") else status,
            r["status_note"],
        )
    stdout().print(table)
    last = files[-1]
    stderr().print(
        f"{len(rows)} finding(s); last review: iteration {last.iteration}/{last.of}, "
        f"{last.verdict.value}"
    )
