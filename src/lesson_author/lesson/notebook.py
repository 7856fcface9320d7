"""The practice notebook: :class:`PracticeNotebook` <-> a validated nbformat v4 notebook.

Layout (the seed course's notebooks): a title cell, a setup code cell, then per
exercise a markdown cell ``## Exercise N: [Guided] Title`` with the task, a code
cell with the starter code, and a markdown cell with the solution inside a
``<details>`` block; last, the key takeaways.  Cell ids are stable
(``cell-1`` ...) so that rebuilding the same content writes the same bytes.
"""

from __future__ import annotations

import json
import re

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lesson_author.lesson.lesson_doc import BuiltExercise, PracticeNotebook
from lesson_author.text.degenerate import without_repeats

LEVELS = ("Guided", "Supported", "Independent")
DEFAULT_SETUP = "# Setup: run this cell first.\nimport math\nimport random\n\nrandom.seed(0)\n"
_EXERCISE_HEADING = re.compile(
    r"^#{1,4}\s*Exercise\s*(\d+)\s*[:.\-]?\s*\[?(Guided|Supported|Independent)\]?\s*[:.\-]?\s*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_EXERCISE_HEADING_LEVEL_LAST = re.compile(
    r"^#{1,4}\s*Exercise\s*(\d+)\s*[:.\-]\s*(.*?)\s*[(\[](Guided|Supported|Independent)[)\]]\s*$",
    re.IGNORECASE | re.MULTILINE,
)


class NotebookInvalid(ValueError):
    """The file is not a valid nbformat v4 notebook."""


def _fenced(code: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}python\n{code.strip(chr(10))}\n{ticks}"


def render_notebook(practice: PracticeNotebook, *, lesson_title: str) -> NotebookNode:
    """The notebook for ``practice``; validated with nbformat before it is returned."""
    cells: list[NotebookNode] = []
    intro = [
        f"# {lesson_title}: Practice",
        "",
        (
            f"Practice for the lesson **{lesson_title}**. Run the setup cell first. The exercises "
            "go from **[Guided]** (most of the code is given) through **[Supported]** (a scaffold) "
            "to **[Independent]** (you design the solution). Try each one before opening its "
            "solution."
        ),
    ]
    cells.append(new_markdown_cell("\n".join(intro)))
    cells.append(new_code_cell(practice.setup_code.strip("\n") or DEFAULT_SETUP.strip("\n")))
    for i, ex in enumerate(practice.exercises, start=1):
        task = [f"## Exercise {i}: [{ex.level}] {ex.title}"]
        if ex.task:
            task += ["", ex.task]
        instructions = without_repeats(ex.instructions, ex.task).strip()
        if instructions:
            task += ["", instructions]
        cells.append(
            new_markdown_cell("\n".join(task), metadata={"exercise": i, "level": ex.level})
        )
        starter = ex.starter_code.strip("\n") or "# Your code here\n"
        cells.append(new_code_cell(starter.rstrip("\n"), metadata={"exercise": i}))
        solution = ["<details>", "<summary>Solution</summary>", ""]
        if ex.solution_code.strip():
            solution += [_fenced(ex.solution_code), ""]
        if ex.solution_notes.strip():
            solution += [ex.solution_notes.strip(), ""]
        solution.append("</details>")
        cells.append(new_markdown_cell("\n".join(solution), metadata={"solution": i}))
    if practice.takeaways:
        lines = ["## Key Takeaways", ""]
        lines += [f"{i}. {t}" for i, t in enumerate(practice.takeaways, start=1)]
        cells.append(new_markdown_cell("\n".join(lines)))
    for n, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{n}"
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def notebook_text(practice: PracticeNotebook, *, lesson_title: str) -> str:
    """The notebook file's text (stable JSON, one trailing newline)."""
    return nbformat.writes(render_notebook(practice, lesson_title=lesson_title)) + "\n"


def parse_notebook(text: str) -> NotebookNode:
    """The notebook in ``text``; :class:`NotebookInvalid` with a one-line reason otherwise."""
    try:
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookInvalid(f"not JSON: {str(exc).splitlines()[0][:200]}") from exc
    except Exception as exc:  # nbformat raises assorted errors for bad structure
        raise NotebookInvalid(" ".join(str(exc).split())[:200]) from exc
    if nb.get("nbformat") != 4:
        raise NotebookInvalid(f"nbformat {nb.get('nbformat')!r}, expected 4")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookInvalid(" ".join(str(exc.message).split())[:200]) from exc
    return nb


def _source(cell: NotebookNode) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _code_in(markdown: str) -> tuple[str, str]:
    """(code, notes) of a solution cell: the first fenced block, and the text after it."""
    body = re.sub(r"(?s)</?details>|<summary>.*?</summary>", "", markdown).strip()
    m = re.search(r"(?ms)^(`{3,})[^\n]*\n(.*?)\n?^\1\s*$", body)
    if not m:
        return "", body
    notes = (body[: m.start()] + body[m.end() :]).strip()
    return m.group(2), notes


def read_notebook(text: str, *, title: str = "") -> PracticeNotebook:
    """The practice content of a notebook file (tolerant of hand-written headings)."""
    nb = parse_notebook(text)
    cells = nb.cells
    setup = next((_source(c) for c in cells if c.cell_type == "code"), "")
    exercises: list[BuiltExercise] = []
    takeaways: list[str] = []
    current: BuiltExercise | None = None
    for cell in cells:
        src = _source(cell)
        if cell.cell_type == "markdown":
            heading = _match_exercise(src)
            if heading is not None:
                level, ex_title, rest = heading
                current = BuiltExercise(level=level, title=ex_title, task=rest)
                exercises.append(current)
                continue
            if "<details" in src and current is not None:
                current.solution_code, current.solution_notes = _code_in(src)
                continue
            if re.match(r"^#{1,4}\s*key takeaways", src.strip(), re.IGNORECASE):
                takeaways = [
                    re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", line).strip()
                    for line in src.splitlines()[1:]
                    if re.match(r"^\s*(?:\d+\.|[-*])\s+", line)
                ]
                current = None
        elif cell.cell_type == "code" and current is not None and not current.starter_code:
            current.starter_code = src
    return PracticeNotebook(title=title, setup_code=setup, exercises=exercises, takeaways=takeaways)


def _match_exercise(src: str) -> tuple[str, str, str] | None:
    first, _, rest = src.strip().partition("\n")
    m = _EXERCISE_HEADING.match(first)
    if m:
        return m.group(2).capitalize(), m.group(3).strip(" *"), rest.strip()
    m = _EXERCISE_HEADING_LEVEL_LAST.match(first)
    if m:
        return m.group(3).capitalize(), m.group(2).strip(" *"), rest.strip()
    return None
