"""A lesson's files as they are on disk: the planning document, the lesson, its notebook.

The files go to the module's ``build/`` folder (``<slug>.mdx``, ``<slug>.ipynb``); a file an
author edited by hand since ``author`` last wrote it is not overwritten without ``--force``
(``.author/written.json`` remembers what was written, as for the planning document: see
lesson_author.workspace). The nodes read these files afresh, so an author's edits are used.
"""

from __future__ import annotations

from pathlib import Path

from lesson_author.course.models import LessonPlan
from lesson_author.course.tree import write_atomic
from lesson_author.errors import UserError
from lesson_author.lesson.lesson_doc import (
    BuiltLesson,
    BuiltSection,
    PracticeNotebook,
    mdx_filename,
    notebook_filename,
)
from lesson_author.lesson.mdx import read_mdx, render_mdx
from lesson_author.lesson.notebook import NotebookInvalid, notebook_text, read_notebook
from lesson_author.workspace import edited_since_written, remember_written

from .context import RunContext
from .state import LessonState


def current_plan(state: LessonState | None, run: RunContext) -> LessonPlan:
    """The planning document as it is on disk (an author may have edited it), else the state's."""
    path = run.location.plan_path
    if path.is_file():
        return run.tree.lesson_plan_at(path)
    if state is not None and state.plan is not None:
        return state.plan
    raise UserError(
        f"no planning document for '{run.location.slug}' at {run.relative(path)}: "
        f"run `author plan {run.location.slug}` first"
    )


def lesson_title(plan: LessonPlan, run: RunContext) -> str:
    return plan.title or run.location.ref.title


def lesson_paths(run: RunContext) -> tuple[Path, Path]:
    build_dir = run.location.build_dir
    slug = run.location.slug
    return build_dir / mdx_filename(slug), build_dir / notebook_filename(slug)


def edited_by_hand(run: RunContext, path: Path) -> bool:
    """Whether ``path`` exists with content ``author`` did not write there last."""
    return edited_since_written(run.project_root, path) is not None


def write_lesson_files(
    run: RunContext, lesson: BuiltLesson, *, overwrite_edits: bool = False
) -> list[Path]:
    """Write ``<slug>.mdx`` and ``<slug>.ipynb``; UserError before writing anything when one of
    them was edited by hand (unless ``overwrite_edits`` or ``--force``)."""
    mdx_path, nb_path = lesson_paths(run)
    texts = {mdx_path: render_mdx(lesson)}
    if lesson.notebook is not None:
        texts[nb_path] = notebook_text(lesson.notebook, lesson_title=lesson.title)
    if not (overwrite_edits or run.force):
        edited = [
            p for p in texts if edited_by_hand(run, p) and p.read_text(encoding="utf-8") != texts[p]
        ]
        if edited:
            names = ", ".join(run.relative(p) for p in edited)
            raise UserError(
                f"{names} was edited by hand since author wrote it; review it with "
                f"`author review {run.location.slug}`, or rebuild over it with --force"
            )
    mdx_path.parent.mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        write_atomic(path, text)
        remember_written(run.project_root, path, text)
    return list(texts)


def lesson_on_disk(
    run: RunContext,
) -> tuple[BuiltLesson | None, PracticeNotebook | None, str | None]:
    """(lesson, notebook, why the notebook is invalid) as the files are now."""
    mdx_path, nb_path = lesson_paths(run)
    lesson = (
        read_mdx(mdx_path.read_text(encoding="utf-8"), slug=run.location.slug)
        if mdx_path.is_file()
        else None
    )
    notebook, error = None, None
    if nb_path.is_file():
        try:
            notebook = read_notebook(
                nb_path.read_text(encoding="utf-8"), title=lesson.title if lesson else ""
            )
        except NotebookInvalid as exc:
            error = str(exc)
        except UnicodeDecodeError:
            error = "not UTF-8 text"
    return lesson, notebook, error


def _section_digest(section: BuiltSection) -> str:
    kinds = []
    for b in section.blocks:
        title = getattr(b, "title", "") or (
            b.left.title + " vs " + b.right.title if b.kind == "comparison" else ""
        )
        kinds.append(f"{b.kind}{f' {title!r}' if title else ''}")
    return f"{section.label}: {section.heading}" + (f" [{', '.join(kinds)}]" if kinds else "")


def section_digests(lesson: BuiltLesson) -> list[str]:
    return [_section_digest(s) for s in lesson.sections]
