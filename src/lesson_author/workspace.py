"""The run state ``author`` keeps beside a course, and the guard that protects people's edits.

Everything lives under the project root (see :func:`lesson_author.course.tree.project_root`):

    .author/checkpoints.sqlite   the graph's checkpoints (pipeline/graph.py)
    .author/runs/<slug>.json     the last lesson run's summary (read by `author report`)
    .author/written.json         what author last wrote to each document (the edit guard)

**The edit guard.** ``author`` refuses to overwrite a document a person edited since
``author`` wrote it. The hash of what it wrote is kept in ``.author/written.json``
(project-relative path -> sha256), not inside the document, so the seed format stays clean.
A document author has no hash for (written by hand, or before author) counts as edited.
``--force`` overwrites anyway.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lesson_author.course.tree import write_atomic
from lesson_author.errors import UserError

AUTHOR_DIR = Path(".author")
CHECKPOINT_RELATIVE_PATH = AUTHOR_DIR / "checkpoints.sqlite"
WRITTEN_RELATIVE_PATH = AUTHOR_DIR / "written.json"
RUNS_RELATIVE_PATH = AUTHOR_DIR / "runs"


def checkpoint_path(project_root: Path) -> Path:
    return Path(project_root) / CHECKPOINT_RELATIVE_PATH


def run_summary_path(project_root: Path, slug: str) -> Path:
    """Where the last run of a lesson leaves its summary (read by `author report`)."""
    return Path(project_root) / RUNS_RELATIVE_PATH / f"{slug}.json"


def project_relative(project_root: Path, path: Path) -> str:
    """`path` relative to the project root (absolute when it lies outside), as posix text."""
    try:
        return Path(path).resolve().relative_to(Path(project_root).resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


# ---------------------------------------------------------------- the edit guard


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _written_path(project_root: Path) -> Path:
    return Path(project_root) / WRITTEN_RELATIVE_PATH


def load_written(project_root: Path) -> dict[str, str]:
    path = _written_path(project_root)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remember_written(project_root: Path, path: Path, text: str) -> None:
    """Record that author wrote `text` to `path` (call after every write of a document)."""
    written = load_written(project_root)
    written[project_relative(project_root, path)] = content_hash(text)
    target = _written_path(project_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, json.dumps(dict(sorted(written.items())), indent=2) + "\n")


def edited_since_written(project_root: Path, path: Path) -> str | None:
    """Why writing `path` would lose a person's work ('edited' / 'not written by author'), or None."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "not readable as UTF-8 text"
    recorded = load_written(project_root).get(project_relative(project_root, path))
    if recorded is None:
        return "it exists and author did not write it"
    if recorded != content_hash(current):
        return "it was edited since author wrote it"
    return None


def check_plan_writable(project_root: Path, path: Path, *, force: bool = False) -> None:
    """UserError when writing the planning document `path` would overwrite a person's edits
    (unless ``force``, i.e. --force)."""
    if force:
        return
    reason = edited_since_written(project_root, path)
    if reason is not None:
        raise UserError(
            f"will not overwrite the planning document: {reason}. Move it away, or run "
            "again with --force to replace it (its edits will be lost)",
            path=project_relative(project_root, path),
        )
