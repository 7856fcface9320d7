"""Rules that read the practice notebook's cells.

* ``notebook-syntax``: a code cell (a starter, or an exercise's solution) that ``ast`` cannot
  parse -> CRITICAL at ``Notebook cell N`` with the error line;
* ``notebook-runs``: the notebook, run top to bottom in a fresh kernel with nbclient, fails in a
  cell -> CRITICAL at ``Notebook cell N`` with the error and the line it stopped at;
* ``notebook-exercise``: an exercise's asserts fail against its own solution -> CRITICAL;
* ``notebook-not-run``: execution is off (``--no-execute``, ``AUTHOR_EXECUTE=0``,
  ``[tool.author] execute = false``) or impossible (no kernel): the notebook was parsed but not
  run -> POLISH, said in the review so that it never reads as a pass of the notebook;
* ``degenerate-text`` in markdown and code cells -> CRITICAL at ``Notebook cell N``.

**Exercise convention.** An exercise is a markdown cell ``## Exercise N: [Level] Title`` (the
build writes ``metadata.exercise = N``), then its starter code cell, then its solution: either a
markdown cell with a ``<details>`` block holding a fenced code block (what ``author build``
writes), or a code cell tagged ``solution`` (``metadata.tags``), which course tooling hides from
the student's copy. The check runs the notebook *as solved*: each starter cell is replaced by its
solution followed by the starter's own top-level ``assert`` statements that the solution does not
already contain (the exercise's checks), so the asserts must pass against the solution. A starter
with no solution is parsed, not run (it is the student's to fill in).

**Containment.** The notebook is model-written code. It runs in a throwaway temporary working
directory, in a kernel process started by :mod:`.sandbox_kernel` (address-space limit, own network
namespace where Linux allows it, Unix-socket transport), with a per-cell timeout; the finding says
which of these held.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lesson_author.checks import registry as R
from lesson_author.checks.inputs import CheckOptions, ReviewInput
from lesson_author.course.models import Finding
from lesson_author.lesson.notebook import NotebookInvalid, _code_in, _match_exercise, parse_notebook
from lesson_author.text.degenerate import NO_ANSWER, find_degenerate

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CodeUnit:
    """One code cell as the check runs it."""

    cell: int  # 1-based cell number in the notebook
    source: str
    exercise: int | None = None  # the exercise whose solution replaced the starter
    solution_cell: int | None = None
    runs: bool = True  # False: a starter with no solution (parsed only)


@dataclass
class NotebookPlan:
    units: list[CodeUnit] = field(default_factory=list)
    solutions: list[tuple[int, int, str]] = field(default_factory=list)  # (cell, exercise, code)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tags(cell: dict) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [str(t) for t in tags] if isinstance(tags, list) else []


def python_source(source: str) -> str:
    """Cell source as Python: IPython magics and shell lines (``%pip``, ``!ls``) commented out."""
    return "\n".join(
        "# " + line if re.match(r"\s*[%!]", line) else line for line in source.split("\n")
    )


def _asserts_of(starter: str, solution: str) -> str:
    """The starter's top-level assert statements that the solution does not already have."""
    try:
        tree = ast.parse(python_source(starter))
    except SyntaxError:
        return ""
    lines = starter.split("\n")
    have = {" ".join(line.split()) for line in solution.split("\n")}
    kept = []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            text = "\n".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
            if " ".join(text.split()) not in have:
                kept.append(text.strip())
    return "\n".join(kept)


def plan_notebook(cells: list[dict]) -> NotebookPlan:
    """What to parse and run: code cells in order, exercise starters swapped for solutions."""
    plan = NotebookPlan()
    exercise = 0
    starter: CodeUnit | None = None
    starters: list[CodeUnit] = []
    for n, cell in enumerate(cells, start=1):
        src = _source(cell)
        if cell.get("cell_type") == "markdown":
            if _match_exercise(src) is not None:
                exercise += 1
                starter = None
            elif "<details" in src and starter is not None and starter.exercise is None:
                code, _ = _code_in(src)
                if code.strip():
                    plan.solutions.append((n, exercise, code))
                    _solve(starter, code, exercise, n)
            continue
        if cell.get("cell_type") != "code":
            continue
        if "solution" in _tags(cell):
            plan.solutions.append((n, exercise, src))
            if starter is not None and starter.exercise is None:
                _solve(starter, src, exercise, n)
            else:
                plan.units.append(CodeUnit(n, src))
            continue
        unit = CodeUnit(n, src)
        plan.units.append(unit)
        if exercise and starter is None:
            starter = unit
            starters.append(unit)
    for unit in starters:  # a starter with no solution is the student's to fill in
        if unit.exercise is None:
            unit.runs = False
    return plan


def _solve(starter: CodeUnit, solution: str, exercise: int, cell: int) -> None:
    starter.exercise, starter.solution_cell = exercise, cell
    checks = _asserts_of(starter.source, solution)
    starter.source = solution.rstrip("\n") + ("\n" + checks if checks else "")


def syntax_error(source: str) -> tuple[int | None, str] | None:
    try:
        ast.parse(python_source(source))
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        return exc.lineno, f"{exc.msg}" + (f" (`{line[:80]}`)" if line else "")
    except ValueError as exc:
        return None, str(exc)
    return None


# ---------------------------------------------------------------- execution


@dataclass(frozen=True)
class CellError:
    unit: CodeUnit
    ename: str
    evalue: str
    line: int | None
    line_text: str


@dataclass
class RunResult:
    ran: bool
    errors: list[CellError] = field(default_factory=list)
    containment: str = ""
    why_not: str = ""


def _error_line(traceback: list[str]) -> int | None:
    frames = [_ANSI.sub("", t) for t in traceback]
    cell_frames = [f for f in frames if re.search(r"Cell In\[|<cell line|<ipython-input", f)]
    for frame in reversed(cell_frames or frames):
        arrows = re.findall(r"(?m)^-+>\s*(\d+)", frame)
        if arrows:
            return int(arrows[-1])
        m = re.search(r"line (\d+)", frame)
        if m:
            return int(m.group(1))
    return None


def run_units(units: list[CodeUnit], options: CheckOptions) -> RunResult:
    """Run ``units`` in order in a fresh sandboxed kernel; every failing cell's error."""
    try:
        import nbformat
        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync
        from nbclient import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
    except ImportError as exc:
        return RunResult(False, why_not=f"nbclient/ipykernel are not installed ({exc.name})")
    runnable = [u for u in units if u.runs]
    if not runnable:
        return RunResult(True, containment="no code to run")
    with tempfile.TemporaryDirectory(prefix="author-nb-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        status = Path(tmp) / "sandbox.json"
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(u.source) for u in runnable],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        )
        # the async manager: with a blocking one nbclient waits on the output channel with the
        # event loop blocked, and its per-cell timeout never fires
        km = AsyncKernelManager(transport="ipc", ip=str(Path(tmp) / "k"))
        km._kernel_spec = KernelSpec(
            argv=[
                sys.executable,
                "-m",
                "lesson_author.checks.sandbox_kernel",
                str(options.memory_mb),
                str(status),
                "-f",
                "{connection_file}",
            ],
            display_name="author sandbox",
            language="python",
        )
        client = NotebookClient(
            nb,
            km=km,
            timeout=options.cell_timeout,
            allow_errors=True,
            interrupt_on_timeout=False,  # a cell past its timeout stops the run (kernel killed)
            resources={"metadata": {"path": str(work)}},
            startup_timeout=120,
        )
        aborted = ""
        # a watchdog for the whole run: nbclient's per-cell timeout does not always fire on a
        # kernel that spins (measured: `while True: pass` ran for 10 minutes), so past the
        # budget the kernel process is killed and nbclient reports a dead kernel
        budget = 60 + options.cell_timeout * len(runnable)
        watchdog = threading.Timer(budget, _kill_kernel, args=(km,))
        watchdog.daemon = True
        watchdog.start()
        try:
            # cleanup_kc: the client shuts down the kernel it did not create (nbclient keeps a
            # kernel manager it was given alive otherwise: one leaked kernel per review)
            client.execute(cleanup_kc=True)
        except CellTimeoutError as exc:
            aborted = f"timed out ({' '.join(str(exc).split())[:120]})"
        except DeadKernelError as exc:
            aborted = (
                f"the kernel died or was stopped after {budget} s "
                f"({' '.join(str(exc).split())[:120]})"
            )
        except Exception as exc:  # noqa: BLE001 - a kernel that did not start is said, not raised
            why = " ".join(str(exc).split())[:160] or exc.__class__.__name__
            return RunResult(False, why_not=f"the notebook could not be run ({why})")
        finally:
            watchdog.cancel()
            with contextlib.suppress(Exception):  # a kernel already gone is what we want
                if km.has_kernel:
                    run_sync(km.shutdown_kernel)(now=True)
            with contextlib.suppress(Exception):
                if km.has_kernel:
                    _kill_kernel(km)
        try:
            sandbox = json.loads(status.read_text(encoding="utf-8"))
            containment = (
                f"throwaway working directory, {options.cell_timeout} s per cell, "
                f"{sandbox.get('memory')}, {sandbox.get('network')}"
            )
        except (OSError, ValueError):
            containment = f"throwaway working directory, {options.cell_timeout} s per cell"
        errors = []
        for unit, cell in zip(runnable, nb.cells, strict=True):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    line = _error_line(out.get("traceback", []))
                    lines = unit.source.split("\n")
                    text = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
                    ename, evalue = out.get("ename", "Error"), out.get("evalue", "")
                    if ename == "KeyboardInterrupt":  # nbclient stops a cell at its timeout
                        ename = "Timeout"
                        evalue = f"the cell ran longer than {options.cell_timeout} s"
                    errors.append(CellError(unit, ename, evalue, line, text))
                    break
        if aborted and not errors:
            executed = [c for c in nb.cells if c.get("execution_count")]
            stuck = runnable[min(len(executed), len(runnable) - 1)]
            errors.append(
                CellError(
                    stuck, "Timeout" if "timed" in aborted else "DeadKernel", aborted, None, ""
                )
            )
        return RunResult(True, errors=errors, containment=containment)


def _kill_kernel(km: object) -> None:
    """SIGKILL the kernel process (its own session: the process group goes too)."""
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if not pid:
        return
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- the rules


def _cells(inp: ReviewInput) -> list[dict] | None:
    text = inp.files.notebook_text
    if text is None or inp.files.notebook_error is not None:
        return None
    try:
        return list(parse_notebook(text).cells)
    except NotebookInvalid:
        return None


def _where(n: int) -> str:
    return f"Notebook cell {n}"


@R.check(R.NOTEBOOK_SYNTAX, R.NOTEBOOK_RUNS, R.NOTEBOOK_EXERCISE, R.NOTEBOOK_NOT_RUN)
def notebook_runs(inp: ReviewInput) -> list[Finding]:
    cells = _cells(inp)
    if cells is None:
        return []
    plan = plan_notebook(cells)
    path = inp.files.notebook_path
    found: list[Finding] = []
    broken: set[int] = set()
    sources = [(u.cell, _source(cells[u.cell - 1]), u) for u in plan.units]
    sources += [(cell, code, None) for cell, _, code in plan.solutions]
    for cell, source, unit in sorted(sources, key=lambda x: x[0]):
        error = syntax_error(source)
        if error is None:
            continue
        line, message = error
        broken.add(cell)
        if unit is not None:
            broken.add(unit.cell)
        found.append(
            R.NOTEBOOK_SYNTAX.finding(
                title=f"Notebook cell {cell} is not valid Python",
                location=_where(cell),
                issue=f"`{path}` cell {cell}"
                + (f" line {line}" if line else "")
                + f": SyntaxError: {message}",
                student_impact="The cell stops with a SyntaxError; the exercise cannot be done.",
                suggested_fix="Rewrite the cell as valid Python (prose belongs in a markdown cell).",
            )
        )
    for unit in plan.units:
        if unit.exercise is not None and unit.solution_cell in broken:
            broken.add(unit.cell)
    if not inp.options.execute:
        found.append(
            _not_run(
                path, "execution is turned off (--no-execute or [tool.author] execute = false)"
            )
        )
        return found
    units = [u for u in plan.units if u.cell not in broken]
    result = run_units(units, inp.options)
    if not result.ran:
        found.append(_not_run(path, result.why_not))
        return found
    first = result.errors[0].unit.cell if result.errors else None
    skipped = sorted(u.cell for u in plan.units if u.cell in broken)
    if skipped:
        note = f" Cell(s) {', '.join(map(str, skipped))} were not run: they do not parse."
    else:
        note = ""
    for error in result.errors:
        at = (
            f"line {error.line}" + (f" (`{error.line_text[:80]}`)" if error.line_text else "")
            if error.line
            else "a line the traceback does not name"
        )
        after = (
            f" It fails after cell {first} failed; it may follow from that."
            if first is not None and error.unit.cell != first
            else ""
        )
        contained = f"{note} Run with: {result.containment}."
        if error.unit.exercise is not None and error.ename == "AssertionError":
            found.append(
                R.NOTEBOOK_EXERCISE.finding(
                    title=f"Exercise {error.unit.exercise}'s asserts fail against its solution",
                    location=_where(error.unit.cell),
                    issue=(
                        f"With the solution (cell {error.unit.solution_cell}) in place of the starter, "
                        f"`{path}` cell {error.unit.cell} stops at {at}: AssertionError"
                        + (f": {error.evalue}" if error.evalue else "")
                        + "."
                        + after
                        + contained
                    ),
                    student_impact="A correct answer fails the exercise's own check; the student cannot tell right from wrong.",
                    suggested_fix="Make the solution and the exercise's asserts agree.",
                )
            )
            continue
        what = (
            f" (exercise {error.unit.exercise}, run with its solution from cell {error.unit.solution_cell})"
            if error.unit.exercise
            else ""
        )
        found.append(
            R.NOTEBOOK_RUNS.finding(
                title=f"Notebook cell {error.unit.cell} fails when run",
                location=_where(error.unit.cell),
                issue=(
                    f"Run top to bottom in a fresh kernel, `{path}` cell {error.unit.cell}{what} "
                    f"stops at {at}: {error.ename}: {error.evalue[:300]}.{after}{contained}"
                ),
                student_impact="The student runs the notebook and it stops with an error.",
                suggested_fix="Fix the cell so the notebook runs top to bottom (error output above).",
            )
        )
    return found


def _not_run(path: str, why: str) -> Finding:
    return R.NOTEBOOK_NOT_RUN.finding(
        title="Notebook parsed but not run",
        location="Notebook",
        issue=f"`{path}` was parsed but NOT executed: {why}. Whether it runs is unknown.",
        student_impact="Unknown: a notebook that fails at run time stops the student's practice.",
        suggested_fix="Review with execution on (drop --no-execute) to run the notebook.",
    )


@R.check(R.DEGENERATE_TEXT, R.NO_ANSWER)
def degenerate_cells(inp: ReviewInput) -> list[Finding]:
    cells = _cells(inp)
    if cells is None:
        return []
    found = []
    for n, cell in enumerate(cells, start=1):
        kind = cell.get("cell_type")
        if kind not in ("markdown", "code"):
            continue
        src = _source(cell)
        if NO_ANSWER in src:
            found.append(
                R.NO_ANSWER.finding(
                    title="Text the model could not write",
                    location=_where(n),
                    issue=f'The {kind} cell says "{NO_ANSWER}": the model gave no usable text.',
                    student_impact="The exercise has a gap where the practice should be.",
                    suggested_fix="Write the cell from the planned exercise.",
                )
            )
        if kind == "code":
            reasons = find_degenerate(src, code=True)
        else:  # fenced code in a markdown cell (a solution) is code, the rest is prose
            fences = r"(?ms)^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$"
            prose = re.sub(fences, "\n", src)
            reasons = find_degenerate(prose)
            for m in re.finditer(fences, src):
                reasons += find_degenerate(m.group(2), code=True)
        if not reasons:
            continue
        first = reasons[0]
        found.append(
            R.DEGENERATE_TEXT.finding(
                title="Degenerate text",
                location=_where(n),
                issue=(
                    f"The {kind} cell is degenerate ({first.kind}: {first.detail}): "
                    f'"{first.excerpt}"'
                ),
                student_impact="The student reads repetition or placeholders instead of practice.",
                suggested_fix="Rewrite the cell from the planned exercise.",
            )
        )
    return found
