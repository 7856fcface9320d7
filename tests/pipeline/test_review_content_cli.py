"""`author review` reads what the student reads: the reference z-image build with a notebook cell
that raises, reviewed through the CLI (scripted reviewer that finds nothing)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from lesson_samples import PASS_REVIEW, scripted_author

from lesson_author.cli import app
from lesson_author.llm.scripted import ScriptedProvider

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "benchmarks" / "fixtures" / "z-image"


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lessons"
    shutil.copytree(ROOT / "lessons", root, ignore=shutil.ignore_patterns("build"))
    module = root / "series-7" / "module-7-4"
    shutil.copy(FIXTURE / "plan.md", module / "lessons" / "z-image.md")
    (module / "build").mkdir(exist_ok=True)
    shutil.copy(FIXTURE / "z-image.mdx", module / "build" / "z-image.mdx")
    nb = json.loads((FIXTURE / "z-image.ipynb").read_text(encoding="utf-8"))
    nb["cells"][1]["source"] = (
        "import math\nTEXT_TOKENS = 128\nLATENT_SIDE = 32\nW = LATENT_SIDE // 0\n"
    )
    (module / "build" / "z-image.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    provider = ScriptedProvider(scripted_author([PASS_REVIEW]))
    monkeypatch.setattr("lesson_author.pipeline.runner.llm_config", lambda *a, **k: provider)
    monkeypatch.delenv("AUTHOR_EXECUTE", raising=False)
    return root


def review(course: Path, *options: str) -> tuple[int, dict]:
    result = CliRunner().invoke(
        app, ["review", "z-image", "--records", str(course), "--json", *options]
    )
    return result.exit_code, json.loads(result.stdout)


def test_a_failing_cell_is_critical_at_its_cell_and_named_in_the_document(course: Path) -> None:
    code, data = review(course)
    assert code == 3 and data["verdict"] == "MAJOR REVISION"
    runs = [f for f in data["findings"] if f["rule"] == "notebook-runs"]
    assert [(f["severity"], f["location"]) for f in runs] == [("CRITICAL", "Notebook cell 2")]
    assert "ZeroDivisionError" in runs[0]["issue"] and "line 4" in runs[0]["issue"]
    plan = (course / "series-7" / "module-7-4" / "lessons" / "z-image.md").read_text("utf-8")
    assert "**Location:** Notebook cell 2 (rule: notebook-runs)" in plan
    saved = json.loads(
        (course.parent / "reviews" / "z-image" / "iteration-1.json").read_text("utf-8")
    )
    first = saved["findings"][0]
    assert (first["rule"], first["source"]) == ("notebook-runs", "deterministic")


def test_no_execute_says_the_notebook_was_not_run(course: Path) -> None:
    code, data = review(course, "--no-execute")
    # the option lasts as long as the command: the next review in this process executes
    assert "AUTHOR_EXECUTE" not in os.environ
    rules = [(f["rule"], f["severity"]) for f in data["findings"]]
    assert ("notebook-not-run", "POLISH") in rules
    assert not [r for r, _ in rules if r == "notebook-runs"]
    assert code == 0 and data["verdict"] == "PASS"  # parsed, not run: said, and not a failure
