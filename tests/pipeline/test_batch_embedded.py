"""`author lesson --all-pending --module 7.4` on the embedded model, for real: two lessons
(sd3-and-flux made pending again, then z-image) built, reviewed once and recorded in order.

Both keep a planning document (sd3-and-flux its own, z-image seed 004's), so the batch runs
build -> review -> record for each; `test_lesson_embedded.py` covers the plan phases on the
embedded model. One review iteration and the response cache off: a cold run is what is
measured. The per-lesson figures go to stdout (``pytest -rA`` or ``-s`` shows them).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip(
    "llama_cpp",
    reason="llama-cpp-python is not importable here (pip install 'lesson-author[local]'); "
    "CI installs it",
)

from batch_samples import make_course
from lesson_samples import requires_shared
from typer.testing import CliRunner

from lesson_author.cli import app
from lesson_author.course.check import check_tree
from lesson_author.course.records import recorded_lessons, stale_diff
from lesson_author.course.tree import CourseTree

ENDPOINT_VARIABLES = (
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "AUTHOR_PROVIDER",
    "AUTHOR_MODEL",
    "AUTHOR_LOCAL_MODEL",
)


@pytest.mark.slow
@requires_shared
def test_the_embedded_model_runs_a_batch_over_two_lessons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENDPOINT_VARIABLES:  # the default provider: no endpoint, the embedded model
        monkeypatch.delenv(name, raising=False)
    root = make_course(tmp_path, keep_plans=True)
    tree = CourseTree.open(root)
    assert not {"sd3-and-flux", "z-image"} & recorded_lessons(tree.module_record("7.4"))

    started = time.perf_counter()
    result = CliRunner().invoke(
        app,
        ["lesson", "--all-pending", "--module", "7.4", "--max-iterations", "1", "--no-cache",
         "--json", "--records", str(root)],
    )  # fmt: skip
    elapsed = time.perf_counter() - started

    assert result.exit_code in (0, 3), result.output  # 3: a lesson recorded without PASS
    lessons = json.loads(result.stdout)["lessons"]
    for lesson in lessons:
        print(
            f"{lesson['slug']}: {lesson['status']}, {lesson['verdict']}, "
            f"{lesson['elapsed_s']:.0f} s, {lesson['calls']} calls, "
            f"{lesson['prompt_tokens']}/{lesson['completion_tokens']} tokens"
        )
    print(f"batch: {elapsed:.0f} s")
    assert [(d["slug"], d["outcome"] in ("recorded", "not_pass")) for d in lessons] == [
        ("sd3-and-flux", True),
        ("z-image", True),
    ], [d["status"] for d in lessons]
    assert all(d["iterations"] == 1 and d["calls"] > 0 for d in lessons)

    tree = CourseTree.open(root)
    assert {"sd3-and-flux", "z-image"} <= recorded_lessons(tree.module_record("7.4"))
    for slug in ("sd3-and-flux", "z-image"):
        build = root / "series-7" / "module-7-4" / "build"
        assert (build / f"{slug}.mdx").is_file() and (build / f"{slug}.ipynb").is_file()
    assert stale_diff(tree) == ""
    assert [str(p) for p in check_tree(tree)] == []
