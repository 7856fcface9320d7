"""The example course for tests: never the live ``lessons/``, which ``author lesson`` writes.

The README's first command (``author lesson z-image``) records z-image into the live
``lessons/``; a test that read it afterwards would see a different course.  So tests
read :data:`EXAMPLE_COURSE`, a read-only copy of the course as committed (the git
index: ``git checkout-index`` of the files git tracks under ``lessons/``), made once per
test session in a temporary folder; without git (an unpacked archive) the live folder
is copied instead, without its ``build/`` folders.  Tests that write get their own
writable copy from :func:`copy_example_course` (or the ``example_course`` fixture).
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIVE_COURSE = REPO / "lessons"


def _tracked_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z", "--", "lessons"],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [name for name in out.decode("utf-8").split("\0") if name]


def _export(dest: Path) -> Path:
    files = _tracked_files()
    if files:
        subprocess.run(
            ["git", "-C", str(REPO), "checkout-index", f"--prefix={dest}/", "--", *files],
            check=True,
            capture_output=True,
        )
    elif LIVE_COURSE.is_dir():
        shutil.copytree(LIVE_COURSE, dest / "lessons", ignore=shutil.ignore_patterns("build"))
    course = dest / "lessons"
    for folder, _, names in os.walk(course):
        for name in names:  # read-only: a test that writes here fails loudly
            path = Path(folder) / name
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return course


def _pristine() -> Path:
    root = Path(tempfile.mkdtemp(prefix="example-course-"))

    def remove() -> None:
        for folder, _, names in os.walk(root):
            for name in names:
                (Path(folder) / name).chmod(0o644)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(remove)
    return _export(root)


EXAMPLE_COURSE = _pristine()


def copy_example_course(dest: Path) -> Path:
    """A writable copy of the committed example course at ``dest``; ``dest``."""
    shutil.copytree(EXAMPLE_COURSE, dest, copy_function=shutil.copyfile)
    return dest
