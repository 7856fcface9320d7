"""Where author keeps its own files beside a records tree, and the lock that keeps writers apart.

Every path under ``<project>/.author/`` and ``<project>/reviews/<slug>/`` is built here
(``<project>`` is :func:`~lesson_author.course.tree.project_root` of the records tree), so
the modules that read and write them agree.

**The lock.** Every command that writes (``lesson``, ``plan``, ``build``, ``review``,
``records`` without ``--check``; a batch per lesson) holds ``.author/lock`` (a
:mod:`filelock` lock: the operating system releases it when its process dies, even by
``kill -9``) for as long as it writes.  The holder writes who it is (pid, command, since
when) into ``.author/lock.json`` beside it.  A second writer stops at once with one
line naming the holder and exit 2 (:class:`LockBusy`), or with ``wait=True`` says whom
it waits for and waits.

**Stale temp files.** :func:`~lesson_author.course.tree.write_atomic` writes
``.NAME.XXXXXXXX.tmp`` beside its target and renames it; a process killed in between
leaves the temp file.  The lock's new holder removes them (no writer can be mid-write
then); :func:`stale_temp_files` lists them for ``author check``.

**The edit guard.** ``author`` refuses to overwrite a document a person edited since
``author`` wrote it. The hash of what it wrote is kept in ``.author/written.json``
(project-relative path -> sha256), not inside the document, so the seed format stays clean.
A document author has no hash for (written by hand, or before author) counts as edited.
``--force`` overwrites anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from lesson_author.errors import UserError

AUTHOR_DIR = ".author"
REVIEWS_DIR = "reviews"
LOCK_NAME = "lock"
HOLDER_NAME = "lock.json"
# write_atomic's temp files: tempfile.mkstemp(prefix=".NAME.", suffix=".tmp")
TEMP_FILE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


# ---------------------------------------------------------------- paths


def author_dir(project_root: Path) -> Path:
    return Path(project_root) / AUTHOR_DIR


def cache_path(project_root: Path) -> Path:
    """The response cache (sqlite)."""
    return author_dir(project_root) / "cache.sqlite"


def checkpoint_path(project_root: Path) -> Path:
    """The LangGraph checkpoints (sqlite)."""
    return author_dir(project_root) / "checkpoints.sqlite"


def written_path(project_root: Path) -> Path:
    """The hashes of the documents author wrote (to tell a person's edits from its own)."""
    return author_dir(project_root) / "written.json"


def run_summary_path(project_root: Path, slug: str) -> Path:
    """Where the last run of a lesson leaves its summary (read by ``author report``)."""
    return author_dir(project_root) / "runs" / f"{slug}.json"


def reviews_dir(project_root: Path, slug: str) -> Path:
    """``reviews/<slug>/``: the review files of every iteration, and the report."""
    return Path(project_root) / REVIEWS_DIR / slug


def lock_path(project_root: Path) -> Path:
    return author_dir(project_root) / LOCK_NAME


def holder_path(project_root: Path) -> Path:
    return author_dir(project_root) / HOLDER_NAME


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
    return written_path(project_root)


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
    from lesson_author.course.tree import write_atomic

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


# ---------------------------------------------------------------- the writer lock


class LockBusy(UserError):
    """Another author process is writing this records tree."""


_locks: dict[Path, FileLock] = {}
_locks_guard = threading.Lock()


def _file_lock(path: Path) -> FileLock:
    # one instance per path and process: the lock is re-entrant (a batch holds it per
    # lesson inside a command that may hold it already) and not per thread
    with _locks_guard:
        lock = _locks.get(path)
        if lock is None:
            lock = _locks[path] = FileLock(str(path), thread_local=False)
        return lock


def holder_text(project_root: Path) -> str:
    """Who holds the lock, from its sidecar file: ``pid 123 (`author lesson x`, since ...)``."""
    try:
        info = json.loads(holder_path(project_root).read_text(encoding="utf-8"))
        return (
            f"pid {info['pid']} on {info.get('host', '?')} (`{info['command']}`, "
            f"since {info['since']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another author process"


def _write_holder(project_root: Path, command: str) -> None:
    from lesson_author.course.tree import write_atomic

    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    write_atomic(holder_path(project_root), json.dumps(info) + "\n")


@contextmanager
def writer_lock(
    records_dir: Path,
    command: str,
    *,
    wait: bool = False,
    notify: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the records tree's writer lock for the ``with`` block.

    Busy: :class:`LockBusy` at once (one line naming the holder), or with ``wait`` a line
    saying whom it waits for, then wait.  The first acquisition in this process removes
    stale temp files (``notify`` hears what was removed).  Re-entrant within a process.
    """
    from lesson_author.course.tree import project_root

    root = project_root(Path(records_dir))
    author_dir(root).mkdir(parents=True, exist_ok=True)
    lock = _file_lock(lock_path(root))
    if lock.is_locked:  # this process holds it already
        lock.acquire()
    else:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = holder_text(root)
            if not wait:
                raise LockBusy(
                    f"the records tree {Path(records_dir)} is being written by {holder}; "
                    "run again when it is done, or add --wait to wait for it"
                ) from None
            if notify is not None:
                notify(f"waiting for {holder} to finish writing {Path(records_dir)} ...")
            lock.acquire()
        _write_holder(root, command)
        removed = remove_stale_temp_files(Path(records_dir), root)
        if removed and notify is not None:
            notify(
                f"removed {len(removed)} temp file(s) left by an interrupted write: "
                + ", ".join(str(p) for p in removed)
            )
    try:
        yield
    finally:
        if lock.lock_counter == 1:
            try:
                holder_path(root).unlink()
            except OSError:
                pass
        lock.release()


# ---------------------------------------------------------------- stale temp files


def stale_temp_files(records_dir: Path, project_root: Path | None = None) -> list[Path]:
    """write_atomic's temp files under the records tree, ``.author/`` and ``reviews/``."""
    from lesson_author.course.tree import project_root as find_root

    root = Path(project_root) if project_root is not None else find_root(Path(records_dir))
    found: set[Path] = set()
    for top in (Path(records_dir), author_dir(root), Path(root) / REVIEWS_DIR):
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "node_modules")]
            found.update(Path(dirpath) / f for f in filenames if TEMP_FILE.match(f))
    return sorted(found)


def remove_stale_temp_files(records_dir: Path, project_root: Path | None = None) -> list[Path]:
    """Remove the temp files of interrupted writes; the paths removed. Call under the lock."""
    removed = []
    for path in stale_temp_files(records_dir, project_root):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed
