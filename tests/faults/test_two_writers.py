"""Two `author` processes on one records tree: one writes, the other stops at once with one
line naming the holder (exit 2) or, with --wait, waits; nothing is lost either way."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fault_helpers import (
    assert_records_clean,
    endpoint_args,
    error_lines,
    make_project,
    run_author,
    start_author,
    wait_for,
)
from llm_fake_server import schema_reply, slow

from lesson_author.course.records import recorded_lessons
from lesson_author.course.tree import CourseTree


def slow_endpoint(endpoint, seconds: float = 0.05):
    """An endpoint slow enough that the first run is still writing when the second starts."""
    return endpoint(*[slow(seconds, schema_reply()) for _ in range(60)])


def test_a_second_writer_on_the_same_lesson_stops_at_once(project: Path, endpoint) -> None:
    server = slow_endpoint(endpoint)
    first = start_author(project, "lesson", "z-image", *endpoint_args(server))
    wait_for(lambda: server.count >= 1, what="the first run's first model call")

    second = run_author(project, "lesson", "z-image", *endpoint_args(server), timeout=30)
    _, err = first.communicate(timeout=120)

    assert second.returncode == 2
    (line,) = error_lines(second.stderr)
    assert f"pid {first.pid}" in line and "`author lesson z-image`" in line
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", line)
    assert "--wait" in line
    assert first.returncode in (0, 3), err
    assert "will not overwrite" not in err
    assert_records_clean(project)


def test_two_lessons_of_one_module_with_wait_lose_no_rows(tmp_path: Path, endpoint) -> None:
    from batch_samples import make_course  # sd3-and-flux made pending beside z-image

    project = make_project(tmp_path / "project")
    shutil.rmtree(project / "lessons")
    make_course(project)
    record = project / "lessons" / "series-7" / "module-7-4" / "record.md"
    before = recorded_lessons(CourseTree.open(project / "lessons").module_record("7.4"))
    assert "z-image" not in before and "sd3-and-flux" not in before

    server = slow_endpoint(endpoint)
    first = start_author(project, "lesson", "z-image", *endpoint_args(server))
    wait_for(lambda: server.count >= 1, what="the first run's first model call")
    second = start_author(project, "lesson", "sd3-and-flux", "--wait", *endpoint_args(server))
    _, err1 = first.communicate(timeout=120)
    _, err2 = second.communicate(timeout=120)

    assert first.returncode in (0, 3), err1
    assert second.returncode in (0, 3), err2
    assert f"waiting for pid {first.pid}" in err2
    after = recorded_lessons(CourseTree.open(project / "lessons").module_record("7.4"))
    assert {"z-image", "sd3-and-flux"} <= set(after)
    text = record.read_text(encoding="utf-8")
    assert "z-image" in text and "sd3-and-flux" in text
    assert_records_clean(project)
