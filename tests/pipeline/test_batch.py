"""`author lesson --all-pending`: many lessons in course order, failures and dependence,
the summary and the exit code, with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_samples import TODAY, BatchModel, make_course
from lesson_samples import requires_shared, reviewer_says
from rich.console import Console
from typer.testing import CliRunner

from lesson_author.cli import app
from lesson_author.cli_present import print_batch_result
from lesson_author.course.check import check_tree
from lesson_author.course.knowledge import student_state
from lesson_author.course.parse import parse_lesson_plan, parse_module_record
from lesson_author.course.records import recorded_lessons, stale_diff
from lesson_author.course.tree import CourseTree
from lesson_author.errors import UserError
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.batch import pending_lessons, run_batch
from lesson_author.state import match_known

pytestmark = requires_shared  # scripted_author's replies come with the seed helpers

MODULE_DIR = Path("series-7") / "module-7-4"


def batch(root: Path, model: BatchModel, **options):
    options.setdefault("module", "7.4")
    return run_batch(
        root,
        config=ScriptedProvider(model),
        today=TODAY,
        on_lesson=model.observe,
        **options,
    )


def recorded(root: Path, module: str = "7.4") -> set[str]:
    return recorded_lessons(CourseTree.open(root).module_record(module))


def summary_text(result) -> str:
    console = Console(width=250, record=True)
    print_batch_result(result, console)
    return console.export_text()


# ---------------------------------------------------------------- what is pending


def test_pending_lessons_are_the_planned_unrecorded_ones_in_course_order(tmp_path: Path) -> None:
    root = make_course(tmp_path, ("7.3", "the-speed-landscape"))
    tree = CourseTree.open(root)
    assert [loc.slug for loc in pending_lessons(tree, module="7.4")] == ["sd3-and-flux", "z-image"]
    assert [loc.slug for loc in pending_lessons(tree, series="7")] == [
        "the-speed-landscape",
        "sd3-and-flux",
        "z-image",
    ]
    assert pending_lessons(tree, series="4") == []
    assert next(loc.slug for loc in pending_lessons(tree)) == "the-speed-landscape"
    for bad, message in (
        ({"module": "7.9"}, "no series plan"),
        ({"module": "seven"}, "module number like 7.4"),
        ({"series": "x"}, "series number like 7"),
    ):
        with pytest.raises(UserError, match=message):
            pending_lessons(tree, **bad)


# ---------------------------------------------------------------- order and student state


def test_batch_records_each_lesson_before_the_next_so_it_sees_its_predecessor(
    tmp_path: Path,
) -> None:
    root = make_course(tmp_path)
    before = student_state(CourseTree.open(root), "z-image")
    assert match_known("MMDiT joint attention", before) is None  # sd3-and-flux: not recorded yet

    model = BatchModel()
    result = batch(root, model)

    assert [e.slug for e in result.entries] == ["sd3-and-flux", "z-image"]
    assert model.events == [
        ("start", "sd3-and-flux", None),
        ("end", "sd3-and-flux", "recorded"),
        ("start", "z-image", None),
        ("end", "z-image", "recorded"),
    ]
    assert [e.outcome for e in result.entries] == ["recorded", "recorded"]
    assert result.exit_code == 0
    assert {"sd3-and-flux", "z-image"} <= recorded(root)

    # z-image was planned from records that already held sd3-and-flux's concept rows:
    # its orient prompt listed them and its audit found the prerequisite there
    orient = model.prompts_of("z-image", "orient")
    assert orient and "MMDiT joint attention" in orient[0]
    plan_path = root / MODULE_DIR / "lessons" / "z-image.md"
    plan = parse_lesson_plan(plan_path.read_text(encoding="utf-8"), plan_path)
    mmdit = next(p for p in plan.prerequisites if p.concept == "MMDiT joint attention")
    assert (mmdit.status, mmdit.actual.value) == ("OK", "DEVELOPED")
    assert "sd3-and-flux" in mmdit.source

    record = parse_module_record((root / MODULE_DIR / "record.md").read_text(encoding="utf-8"))
    assert [s.slug for s in record.summaries] == [
        "sdxl",
        "diffusion-transformers",
        "sd3-and-flux",
        "z-image",
    ]
    tree = CourseTree.open(root)
    assert check_tree(tree) == []
    assert stale_diff(tree) == ""

    text = summary_text(result)
    for row in ("sd3-and-flux", "z-image"):
        line = next(l for l in text.splitlines() if l.startswith(f"│ {row} "))
        assert "PASS" in line and "recorded" in line
    assert "2 recorded" in text

    # nothing is pending any more: a second run has nothing to do
    again = batch(root, BatchModel())
    assert again.entries == [] and again.exit_code == 0
    assert "no pending lessons" in summary_text(again)


# ---------------------------------------------------------------- failures and dependence


def test_a_failed_lesson_skips_the_later_lessons_of_its_module(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    model = BatchModel(fail=("sd3-and-flux", "build_section"))
    result = batch(root, model)

    first, second = result.entries
    assert first.outcome == "failed"
    assert "stopped at build" in first.reason and "the model went away" in first.reason
    assert first.calls > 0 and first.tokens[0] > 0  # its planning calls are counted
    assert second.outcome == "skipped" and second.depends_on == "sd3-and-flux"
    assert model.lessons["z-image"] == 0  # no model call was made for the skipped lesson
    assert result.exit_code == 1
    assert not {"sd3-and-flux", "z-image"} & recorded(root)

    text = summary_text(result)
    assert "skipped: depends on sd3-and-flux, which was not recorded" in text
    assert "failed: stopped at build" in text
    assert "1 failed, 1 skipped" in text


def test_a_lesson_of_another_module_still_runs_after_a_failure(tmp_path: Path) -> None:
    root = make_course(tmp_path, ("7.3", "the-speed-landscape"))
    model = BatchModel(fail=("the-speed-landscape", "orient"))
    result = batch(root, model, module=None, series="7")

    assert [(e.slug, e.outcome) for e in result.entries] == [
        ("the-speed-landscape", "failed"),
        ("sd3-and-flux", "recorded"),
        ("z-image", "recorded"),
    ]
    assert "stopped at orient" in result.entries[0].reason
    assert result.exit_code == 1
    assert {"sd3-and-flux", "z-image"} <= recorded(root)
    assert "the-speed-landscape" not in recorded(root, "7.3")


def test_ctrl_c_stops_the_whole_batch(tmp_path: Path) -> None:
    root = make_course(tmp_path, ("7.3", "the-speed-landscape"))
    model = BatchModel(fail=("the-speed-landscape", "orient"), interrupt=True)
    result = batch(root, model, module=None, series="7")

    assert result.interrupted and result.exit_code == 130  # interrupted, as the README says
    assert [(e.slug, e.outcome) for e in result.entries] == [
        ("the-speed-landscape", "failed"),
        ("sd3-and-flux", "skipped"),
        ("z-image", "skipped"),
    ]
    assert result.entries[0].reason == "interrupted (Ctrl-C)"
    assert model.lessons["sd3-and-flux"] == 0
    assert "run the same command again to go on" in summary_text(result)


def test_a_lesson_that_does_not_pass_is_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    still_bad = reviewer_says(("IMPROVEMENT", "Hook is vague", "1"))
    model = BatchModel(reviews=[still_bad, reviewer_says()])
    result = batch(root, model, max_iterations=1)

    assert [(e.slug, e.outcome, e.verdict, e.iterations) for e in result.entries] == [
        ("sd3-and-flux", "not_pass", "NEEDS REVISION", 1),
        ("z-image", "recorded", "PASS", 1),
    ]
    assert result.exit_code == 3
    assert {"sd3-and-flux", "z-image"} <= recorded(root)
    assert "not PASS (recorded with open findings)" in summary_text(result)


# ---------------------------------------------------------------- the command


def invoke(*argv: str):
    return CliRunner().invoke(app, list(argv), env={"COLUMNS": "250"})


def use_model(monkeypatch: pytest.MonkeyPatch, model: BatchModel) -> None:
    provider = ScriptedProvider(model)
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: provider)


def test_cli_all_pending_module_prints_the_summary_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_course(tmp_path)
    use_model(monkeypatch, BatchModel())
    result = invoke("lesson", "--all-pending", "--module", "7.4", "--records", str(root))
    assert result.exit_code == 0, result.output
    assert "[1/2] sd3-and-flux (module 7.4)" in result.output
    assert "[2/2] z-image (module 7.4): recorded" in result.output
    assert "author lesson --all-pending: module 7.4" in result.output
    assert "2 recorded" in result.output


def test_cli_all_pending_json_and_exit_1_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_course(tmp_path)
    use_model(monkeypatch, BatchModel(fail=("sd3-and-flux", "orient")))
    result = invoke(
        "lesson", "--all-pending", "--series", "7", "--json", "--max-iterations", "1",
        "--records", str(root),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["scope"] == "series 7" and data["exit_code"] == 1
    assert [(d["slug"], d["outcome"], d["depends_on"]) for d in data["lessons"]] == [
        ("sd3-and-flux", "failed", None),
        ("z-image", "skipped", "sd3-and-flux"),
    ]
    assert data["counts"] == {"recorded": 0, "not_pass": 0, "failed": 1, "skipped": 1}


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "which lesson?"),
        (["z-image", "--all-pending", "--module", "7.4"], "not both"),
        (["--all-pending"], "exactly one of --module or --series"),
        (["--all-pending", "--module", "7.4", "--series", "7"], "exactly one of"),
        (["z-image", "--module", "7.4"], "select lessons for --all-pending"),
        (["--all-pending", "--module", "9.9"], "no series plan"),
    ],
)
def test_cli_selection_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    root = make_course(tmp_path)
    use_model(monkeypatch, BatchModel())
    result = invoke("lesson", *argv, "--records", str(root))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
