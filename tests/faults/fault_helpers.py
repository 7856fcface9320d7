"""The fault suite's harness: a temp project, `author` as a real process, a fake endpoint.

Each test gets a project (``pyproject.toml`` with short timeouts under ``[tool.author]``, a
writable copy of the example course in ``lessons/``) and runs the installed ``author``
command in it as a separate process, against the fake OpenAI-compatible server of
``tests/llm/llm_fake_server.py`` on 127.0.0.1 (``auto=True``: every request past the
script gets a reply built from the request's own schema). Nothing leaves the loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "llm"))
sys.path.insert(0, str(HERE.parent / "pipeline"))

from llm_fake_server import FakeOpenAIServer

MODEL = "fake-model"
PYPROJECT = """\
[tool.author]
records = "lessons"
timeout_s = {timeout_s}
wait_notice_s = {wait_notice_s}
max_attempts = 3
"""


def author_command() -> list[str]:
    """The ``author`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "author"
    if script.is_file():
        return [str(script)]
    found = shutil.which("author")
    assert found, "the `author` command is not installed (pip install -e .)"
    return [found]


def make_project(root: Path, *, timeout_s: float = 5, wait_notice_s: float = 30) -> Path:
    """``root`` as a project: pyproject.toml and a copy of the example course."""
    from example_course import copy_example_course

    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(timeout_s=timeout_s, wait_notice_s=wait_notice_s), encoding="utf-8"
    )
    copy_example_course(root / "lessons")
    return root


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AUTHOR_"))}
    env["COLUMNS"] = "200"  # rich: one line per message
    return env


def endpoint_args(server: FakeOpenAIServer, base_url: str | None = None) -> list[str]:
    return ["--base-url", base_url or server.base_url, "--model", MODEL]


def run_author(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*author_command(), *args],
        check=False,
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_author(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*author_command(), *args],
        cwd=project,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_records_clean(project: Path) -> None:
    """What `author check` and `author records --check` compute, in this process (a new
    process per check would double the suite's time): no problem, nothing stale."""
    from lesson_author.course.check import ERROR, check_tree
    from lesson_author.course.records import stale_diff
    from lesson_author.course.tree import CourseTree

    tree = CourseTree.open(project / "lessons")
    # `author check` exits 0 on warnings (a planning document's style deviations)
    errors = [str(p) for p in check_tree(tree) if p.level == ERROR]
    assert errors == [], errors
    diff = stale_diff(tree)
    assert diff == "", diff


def wait_for(condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def files_under(root: Path, skip: Sequence[str] = (".venv",)) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not set(p.parts) & set(skip)]
