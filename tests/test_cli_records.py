"""``author check / status / records``: exit codes, output, and bad input as one line + exit 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from example_course import EXAMPLE_COURSE as EXAMPLE
from example_course import copy_example_course
from typer.testing import CliRunner

from lesson_author import __version__
from lesson_author.cli import ErrorBoundary, app, open_tree

ROOT = Path(__file__).resolve().parents[1]

SMALL = {
    "7.1": ["controlnet", "controlnet-in-practice", "ip-adapter"],
    "7.2": ["score-functions-and-sdes", "flow-matching"],
    "7.3": ["consistency-models", "latent-consistency-and-turbo", "the-speed-landscape"],
}
COURSE_MD = """\
# Course: Seed excerpt

## Series

| Series | Title | Status | Description |
|--------|-------|--------|-------------|
| 7 | Post-SD Advances | complete | The seed series |

## Module Status

| Module | Title | Lessons | Status |
|--------|-------|---------|--------|
| 7.1 | Controllable Generation | 3 of 3 | complete |
| 7.2 | The Score-Based Perspective | 2 of 2 | complete |
| 7.3 | Fast Generation | 3 of 3 | complete |
| 7.4 | Next-Generation Architectures | 4 of 4 | complete |
"""


def seed(seeds_dir: Path, number: str) -> Path:
    return next(seeds_dir.glob(f"{number}_*.txt"))


def make_seed_tree(seeds_dir: Path, root: Path, record: str = "001") -> Path:
    module = root / "series-7" / "module-7-4"
    (module / "lessons").mkdir(parents=True)
    (root / "course.md").write_text(COURSE_MD)
    shutil.copy(seed(seeds_dir, "003"), root / "series-7" / "plan.md")
    shutil.copy(seed(seeds_dir, "000"), module / "plan.md")
    shutil.copy(seed(seeds_dir, record), module / "record.md")
    shutil.copy(seed(seeds_dir, "004"), module / "lessons" / "z-image.md")
    for mod, slugs in SMALL.items():
        folder = root / "series-7" / f"module-{mod.replace('.', '-')}"
        folder.mkdir()
        rows = "".join(f"| Idea of {s} | DEVELOPED | {s} | |\n" for s in slugs)
        (folder / "record.md").write_text(
            f"# Module {mod}: Test -- Record\n\n**Status:** Complete ({len(slugs)} of {len(slugs)} lessons built)\n\n"
            "## Concept Index\n\n| Concept | Depth | Lesson | Notes |\n|---|---|---|---|\n" + rows
        )
    return root


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fresh(tmp_path: Path, seeds_dir: Path) -> Path:
    return make_seed_tree(seeds_dir, tmp_path / "records")


@pytest.fixture
def stale(tmp_path: Path, seeds_dir: Path) -> Path:
    """Module 7.4's record from before z-image (seed 002): 3 of 4 lessons, statuses say complete."""
    return make_seed_tree(seeds_dir, tmp_path / "records", record="002")


def assert_one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr.strip()
    assert err and "\n" not in err, err
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in err, (needle, err)


# ---------------------------------------------------------------- the commands


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_check_clean_tree_exits_0(runner: CliRunner, fresh: Path) -> None:
    result = runner.invoke(app, ["check", str(fresh)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "no problems" in result.stderr


def test_check_warnings_exit_0_unless_strict(runner: CliRunner, fresh: Path) -> None:
    # a section written in a form the parser does not read, and a verdict that departs
    # from the verdict rule, are warnings: the data is not broken
    doc = next((fresh / "series-7").rglob("lessons/*.md"))
    text = doc.read_text()
    cut = text.index("### Lesson Outline")
    end = text.find("\n## ", cut)
    text = text[:cut] + "### Lesson Outline\n\nThe sections are described in prose only.\n"
    doc.write_text(text + (text[end:] if end > 0 else ""))
    result = runner.invoke(app, ["check", str(fresh)])
    assert result.exit_code == 0, result.output
    [printed] = result.stdout.splitlines()
    line = doc.read_text()[:cut].count("\n") + 1
    assert printed.startswith(f"{doc}:{line}: warning: the lesson outline here")
    assert "0 errors, 1 warning in 1 file" in result.stderr
    assert runner.invoke(app, ["check", str(fresh), "--strict"]).exit_code == 1
    as_json = runner.invoke(app, ["check", str(fresh), "--json"])
    [problem] = json.loads(as_json.stdout)
    assert (problem["code"], problem["level"]) == ("unread-section", "warning")


def test_check_prints_file_line_message_and_exits_1(runner: CliRunner, fresh: Path) -> None:
    record = fresh / "series-7" / "module-7-4" / "record.md"
    text = record.read_text()
    line = text[: text.index("| DEVELOPED | sdxl |")].count("\n") + 1
    record.write_text(text.replace("| DEVELOPED | sdxl |", "| DEEP | sdxl |", 1))
    result = runner.invoke(app, ["check", "--records", str(fresh)])
    assert result.exit_code == 1
    [printed] = result.stdout.splitlines()
    assert printed.startswith(
        f"{record}:{line}: unknown depth 'DEEP' for concept 'Dual text encoders (CLIP"
    )
    assert printed.endswith("(use MENTIONED, INTRODUCED, DEVELOPED, APPLIED or NOT TAUGHT)")
    assert "1 error, 0 warnings in 1 file" in result.stderr
    as_json = runner.invoke(app, ["check", str(fresh), "--json"])
    assert as_json.exit_code == 1
    [problem] = json.loads(as_json.stdout)
    assert (problem["path"], problem["line"], problem["code"]) == (
        str(record),
        line,
        "unknown-depth",
    )


def test_path_argument_overrides_records_option(
    runner: CliRunner, fresh: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["check", str(fresh), "--records", str(tmp_path / "nowhere")])
    assert result.exit_code == 0, result.output


def test_records_dir_from_pyproject(
    runner: CliRunner, fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = fresh.parent
    (project / "pyproject.toml").write_text('[tool.author]\nrecords = "records"\n')
    monkeypatch.chdir(project)
    assert runner.invoke(app, ["check"]).exit_code == 0


def test_status(runner: CliRunner, stale: Path) -> None:
    result = runner.invoke(app, ["status", str(stale)])
    assert result.exit_code == 0, result.output
    assert "Module 7.4: Next-Generation Architectures" in result.stdout
    assert "3 of 4 lessons built" in result.stdout


def test_records_check_then_records_then_fresh(runner: CliRunner, stale: Path) -> None:
    before = snapshot(stale)
    check = runner.invoke(app, ["records", str(stale), "--check"])
    assert check.exit_code == 1
    assert "-**Status:** Complete (3 of 3 lessons built)" in check.stdout
    assert "+**Status:** In progress (3 of 4 lessons built)" in check.stdout
    assert snapshot(stale) == before, "--check writes nothing"

    run = runner.invoke(app, ["records", str(stale)])
    assert run.exit_code == 0, run.output
    written = {Path(line.removeprefix("updated ")) for line in run.stdout.splitlines()}
    assert written == {
        stale / "course.md",
        stale / "series-7" / "plan.md",
        stale / "series-7" / "module-7-4" / "record.md",
    }
    after = snapshot(stale)

    again = runner.invoke(app, ["records", str(stale)])
    assert again.exit_code == 0 and again.stdout == "" and "up to date" in again.stderr
    assert snapshot(stale) == after, "a second run changes nothing"
    assert runner.invoke(app, ["records", str(stale), "--check"]).exit_code == 0


def test_fresh_seed_tree_records_check_exits_0(runner: CliRunner, fresh: Path) -> None:
    result = runner.invoke(app, ["records", str(fresh), "--check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


# ---------------------------------------------------------------- the corpus and the example course


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "records"
    shutil.copytree(corpus_dir, root)
    return root


def test_corpus_check_status_records(runner: CliRunner, corpus_copy: Path) -> None:
    check = runner.invoke(app, ["check", str(corpus_copy)])
    assert check.exit_code in (0, 1) and "Traceback" not in check.output
    for line in check.stdout.splitlines():
        assert line.startswith(str(corpus_copy)) and ": " in line
    status = runner.invoke(app, ["status", str(corpus_copy)])
    assert status.exit_code == 0, status.output
    assert "Deep Learning Foundations" in status.stdout
    stale = runner.invoke(app, ["records", str(corpus_copy), "--check"])
    assert stale.exit_code in (0, 1) and "Traceback" not in stale.output
    assert runner.invoke(app, ["records", str(corpus_copy)]).exit_code == 0
    assert runner.invoke(app, ["records", str(corpus_copy), "--check"]).exit_code == 0


def test_example_course(runner: CliRunner, tmp_path: Path) -> None:
    if not (EXAMPLE / "series-7" / "plan.md").is_file():
        pytest.skip("the example course in lessons/ is not there yet")
    copy = tmp_path / "lessons"
    copy_example_course(copy)
    check = runner.invoke(app, ["check", str(copy)])
    assert check.exit_code == 0, check.stdout
    assert runner.invoke(app, ["status", str(copy)]).exit_code == 0
    records = runner.invoke(app, ["records", str(copy), "--check"])
    assert records.exit_code == 0, records.stdout


# ---------------------------------------------------------------- bad input


def test_missing_records_dir(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(
        runner.invoke(app, ["status", "--records", "nowhere"]), "nowhere", "does not exist"
    )
    assert_one_line_error(runner.invoke(app, ["check"]), "lessons", "does not exist")


def test_non_utf8_file(runner: CliRunner, stale: Path) -> None:
    bad = stale / "series-7" / "module-7-1" / "record.md"
    bad.write_bytes(bad.read_bytes().replace(b"Test", b"T\xe9st"))
    before = snapshot(stale)
    result = runner.invoke(app, ["records", str(stale)])
    assert_one_line_error(result, str(bad))
    assert snapshot(stale) == before, "nothing written"
    assert_one_line_error(runner.invoke(app, ["status", str(stale)]), str(bad))


def test_truncated_table(runner: CliRunner, stale: Path) -> None:
    plan = stale / "series-7" / "plan.md"
    text = plan.read_text()
    cut = text.index("| 11 | sd3-and-flux |") + len("| 11 | sd3-and")
    plan.write_text(text[:cut])
    before = snapshot(stale)
    result = runner.invoke(app, ["records", str(stale)])
    assert_one_line_error(result, str(plan))
    assert snapshot(stale) == before


def test_half_written_record(runner: CliRunner, stale: Path) -> None:
    record = stale / "series-7" / "module-7-4" / "record.md"
    text = record.read_text()
    record.write_text(text[: text.index("| Patchify operation") + 40])
    before = snapshot(stale)
    result = runner.invoke(app, ["records", str(stale)])
    assert_one_line_error(result, str(record))
    assert snapshot(stale) == before


def test_unknown_and_path_like_slugs(runner: CliRunner, fresh: Path) -> None:
    """A command taking a slug, behind the app's error boundary (as `author lesson` will be)."""
    probe = typer.Typer(cls=ErrorBoundary)

    @probe.command()
    def where(slug: str, records: Path) -> None:
        typer.echo(open_tree(records).locate(slug).plan_path)

    @probe.command()
    def other() -> None:  # two commands, so `where` stays a subcommand
        pass

    ok = runner.invoke(probe, ["where", "z-image", str(fresh)])
    assert ok.exit_code == 0 and ok.stdout.strip().endswith("z-image.md")
    assert_one_line_error(
        runner.invoke(probe, ["where", "nope", str(fresh)]),
        "unknown lesson slug 'nope'",
        str(fresh),
    )
    for slug in ("../x", "/etc/passwd", "a/b"):
        assert_one_line_error(
            runner.invoke(probe, ["where", slug, str(fresh)]), "invalid lesson slug"
        )


def _author_command() -> list[str]:
    script = Path(sys.executable).parent / "author"
    if script.is_file():
        return [str(script)]
    found = shutil.which("author")
    if found:
        return [found]
    # not installed as a script: run the same entry point in a real process
    return [
        sys.executable,
        "-c",
        "import sys; from lesson_author.cli import app; sys.argv[0] = 'author'; app()",
    ]


def test_real_process_bad_input_exit_2_no_traceback(tmp_path: Path, seeds_dir: Path) -> None:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    missing = subprocess.run(
        [*_author_command(), "status", "--records", "nowhere"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2, missing
    assert "Traceback" not in missing.stderr + missing.stdout
    assert missing.stderr.strip().count("\n") == 0 and "nowhere" in missing.stderr

    tree = make_seed_tree(seeds_dir, tmp_path / "records", record="002")
    bad = tree / "series-7" / "module-7-4" / "record.md"
    bad.write_bytes(b"\xff\xfe" + bad.read_bytes())
    broken = subprocess.run(
        [*_author_command(), "records", str(tree)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert broken.returncode == 2, broken
    assert "Traceback" not in broken.stderr + broken.stdout
    assert str(bad) in broken.stderr and broken.stderr.strip().count("\n") == 0
