"""workspace.py (paths, the writer lock, stale temp files) and the early, one-line failures
a newcomer meets: a record that is not UTF-8, a second writer, Ctrl-C, a URL with a password."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lesson_author import workspace
from lesson_author.cli import app
from lesson_author.course.check import check_tree
from lesson_author.course.tree import CourseTree, project_root, write_atomic
from lesson_author.llm.config import redact_url

MODULE = Path("series-7/module-7-4")


def hold_lock_in_another_process(records: Path, seconds: float) -> subprocess.Popen[str]:
    """A process that holds the records tree's lock for ``seconds`` (prints 'held' first)."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from lesson_author.workspace import writer_lock
        with writer_lock({str(records)!r}, "author lesson z-image"):
            print("held", flush=True)
            time.sleep({seconds})
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_every_run_state_path_is_beside_the_records_tree(example_course: Path) -> None:
    root = project_root(example_course)
    assert workspace.run_summary_path(root, "z-image") == root / ".author/runs/z-image.json"
    assert workspace.reviews_dir(root, "z-image") == root / "reviews/z-image"
    assert workspace.checkpoint_path(root).parent == workspace.lock_path(root).parent


def test_a_second_writer_is_told_who_holds_the_lock(example_course: Path) -> None:
    holder = hold_lock_in_another_process(example_course, 30)
    try:
        with (
            pytest.raises(workspace.LockBusy) as caught,
            workspace.writer_lock(example_course, "author records"),
        ):
            pass
        message = str(caught.value)
        assert f"pid {holder.pid}" in message and "`author lesson z-image`" in message
        assert "since " in message and "UTC" in message and "--wait" in message
        result = CliRunner().invoke(app, ["records", "--records", str(example_course)])
        assert result.exit_code == 2 and f"pid {holder.pid}" in result.output
    finally:
        holder.kill()
        holder.wait()


def test_wait_waits_for_the_holder_and_says_so(example_course: Path) -> None:
    holder = hold_lock_in_another_process(example_course, 0.5)
    heard: list[str] = []
    try:
        with workspace.writer_lock(
            example_course, "author records", wait=True, notify=heard.append
        ):
            assert holder.wait(timeout=10) == 0  # it let go before we got the lock
    finally:
        holder.kill()
    assert heard and heard[0].startswith(f"waiting for pid {holder.pid}")


def test_the_lock_is_reentrant_and_its_holder_file_goes_with_it(example_course: Path) -> None:
    root = project_root(example_course)
    with workspace.writer_lock(example_course, "author lesson --all-pending"):
        with workspace.writer_lock(example_course, "author lesson --all-pending (z-image)"):
            assert "author lesson --all-pending" in workspace.holder_text(root)
        assert workspace.holder_path(root).is_file()  # still held by the outer block
    assert not workspace.holder_path(root).exists()


def test_a_killed_holder_leaves_no_lock(example_course: Path) -> None:
    holder = hold_lock_in_another_process(example_course, 30)
    holder.kill()  # SIGKILL: the operating system releases the lock
    holder.wait()
    with workspace.writer_lock(example_course, "author records"):
        pass


def test_stale_temp_files_are_reported_by_check_and_removed_by_the_next_writer(
    example_course: Path,
) -> None:
    stale = example_course / MODULE / ".record.md.k3j4h5g6.tmp"
    stale.write_text("half a record", encoding="utf-8")
    tree = CourseTree.open(example_course)
    problems = [p for p in check_tree(tree) if p.code == "temp"]
    assert [p.path for p in problems] == [stale]
    result = CliRunner().invoke(app, ["check", str(example_course)])
    assert result.exit_code == 1 and ".record.md.k3j4h5g6.tmp" in result.output

    heard: list[str] = []
    with workspace.writer_lock(example_course, "author records", notify=heard.append):
        assert not stale.exists()
    assert "removed 1 temp file(s)" in heard[0]
    assert check_tree(CourseTree.open(example_course)) == []


def test_write_atomic_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "record.md"
    write_atomic(target, "one\n")
    write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert workspace.stale_temp_files(tmp_path, tmp_path) == []


@pytest.mark.parametrize(
    "name",
    ["course.md", "series-7/plan.md", f"{MODULE}/plan.md", f"{MODULE}/record.md"],
)
def test_a_file_the_run_writes_back_is_read_before_the_first_model_call(
    example_course: Path, name: str
) -> None:
    path = example_course / name
    path.write_bytes(path.read_bytes() + b"\n\xff\xfe latin-1 bytes\n")
    # an endpoint nobody listens on: a model call would fail with exit 4, not 2
    result = CliRunner().invoke(
        app,
        ["lesson", "z-image", "--records", str(example_course), "--no-cache"]
        + ["--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"{name}:" in lines[0] and "not UTF-8" in lines[0]
    assert not (example_course / MODULE / "lessons" / "z-image.md").exists()


def test_status_on_a_record_that_is_not_utf8_fails_in_one_line(example_course: Path) -> None:
    record = example_course / MODULE / "record.md"
    record.write_bytes(record.read_text(encoding="utf-8").encode("utf-16"))
    result = CliRunner().invoke(app, ["status", str(example_course)])
    assert result.exit_code == 2
    assert "record.md:1: not UTF-8" in result.output
    assert "No lessons planned" not in result.output


def test_ctrl_c_exits_130(example_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lesson_author.pipeline import runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_lesson", interrupted)
    result = CliRunner().invoke(app, ["lesson", "z-image", "--records", str(example_course)])
    assert result.exit_code == 130 and "interrupted" in result.output


def test_credentials_in_a_url_are_redacted() -> None:
    assert redact_url("http://user:pa55@host:8000/v1") == "http://[REDACTED]@host:8000/v1"
    assert redact_url("https://token@host/v1") == "https://[REDACTED]@host/v1"
    assert redact_url("http://localhost:11434/v1") == "http://localhost:11434/v1"
    assert redact_url(None) is None
