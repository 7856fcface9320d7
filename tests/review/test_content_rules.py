"""The content rules on real lesson files: the reference z-image build (benchmarks/fixtures,
copied to tmp_path) and its seeded variants, as benchmarks/review_defects.py seeds them."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from lesson_author.checks.inputs import (
    ENV_EXECUTE,
    ENV_SKIP_RULES,
    CheckOptions,
    execute_setting,
    skip_rules_setting,
)
from lesson_author.checks.mdx_compile import CACHE_FILE, compile_mdx, find_tool
from lesson_author.checks.registry import RULES, is_deterministic
from lesson_author.checks.review_checks import review_checks
from lesson_author.course.models import Finding, Review, Severity
from lesson_author.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "review_defects", ROOT / "benchmarks" / "review_defects.py"
)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["review_defects"] = bench  # dataclasses look their module up
_spec.loader.exec_module(bench)

MDX_READY = find_tool(ROOT) is not None and (find_tool(ROOT) / "node_modules").is_dir()  # type: ignore[operator]
needs_mdx = pytest.mark.skipif(
    not MDX_READY or shutil.which("node") is None,
    reason="node or tools/mdx/node_modules is absent (run `npm ci --prefix tools/mdx`)",
)


@pytest.fixture
def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The reference build, read from a copy in tmp_path."""
    copy = tmp_path / "z-image"
    shutil.copytree(bench.FIXTURE, copy)
    monkeypatch.setattr(bench, "FIXTURE", copy)
    return bench.reference()


def run(build, tmp_path: Path, *, execute: bool = True, **options) -> list[Finding]:
    opts = CheckOptions(execute=execute, cache_dir=tmp_path / ".author", **options)
    return review_checks(*bench.files_of(build), options=opts)


def summary(findings: list[Finding]) -> list[tuple[str | None, str, str]]:
    return [(f.rule, f.severity.value, f.location) for f in findings]


@needs_mdx
def test_the_reference_build_passes_every_deterministic_rule(reference, tmp_path: Path) -> None:
    assert run(reference, tmp_path) == []
    # the compile result is cached by content: the cache now holds the lesson's key
    cache = json.loads((tmp_path / ".author" / CACHE_FILE).read_text(encoding="utf-8"))
    assert list(cache.values()) == [[]]


DETERMINISTIC = [d for d in bench.DEFECTS if not d.llm_only]


@needs_mdx
@pytest.mark.parametrize("defect", DETERMINISTIC, ids=[d.rule for d in DETERMINISTIC])
def test_each_seeded_defect_is_found_at_its_place(defect, reference, tmp_path: Path) -> None:
    found = run(defect.edit(reference), tmp_path)
    got = bench.hit(found, defect)
    assert got is not None, summary(found)
    assert got.rule in RULES and is_deterministic(got)
    assert got.issue and got.suggested_fix


def test_the_benchmark_seeds_at_least_twelve_defects_of_distinct_kinds() -> None:
    assert len(bench.DEFECTS) >= 12
    assert len({d.name for d in bench.DEFECTS}) == len(bench.DEFECTS)
    assert {d.rule for d in DETERMINISTIC} <= set(RULES)


def test_a_failing_cell_names_its_error_and_line(reference, tmp_path: Path) -> None:
    defect = next(d for d in bench.DEFECTS if d.rule == "notebook-runs")
    (got,) = [f for f in run(defect.edit(reference), tmp_path) if f.rule == "notebook-runs"]
    assert got.location == "Notebook cell 2"
    assert "ZeroDivisionError" in got.issue and "line 6" in got.issue
    assert "PATCH = LATENT_SIDE // (TEXT_TOKENS - 128)" in got.issue


def test_a_syntax_error_names_the_line_and_its_cell_is_not_run(reference, tmp_path) -> None:
    defect = next(d for d in bench.DEFECTS if d.rule == "notebook-syntax")
    found = run(defect.edit(reference), tmp_path, execute=False)
    (syntax,) = [f for f in found if f.rule == "notebook-syntax"]
    assert syntax.severity is Severity.CRITICAL and "cell 2 line 3" in syntax.issue
    assert "from IPython.display import" in syntax.issue


def test_execution_off_is_said_never_silent(reference, tmp_path: Path) -> None:
    found = [f for f in run(reference, tmp_path, execute=False) if f.rule != "mdx-compile"]
    assert summary(found) == [("notebook-not-run", "POLISH", "Notebook")]
    assert "NOT executed" in found[0].issue


def test_mdx_not_compiled_is_said_when_the_compiler_is_absent(reference, tmp_path) -> None:
    empty = tmp_path / "no-tool"
    (empty).mkdir()
    (empty / "check.mjs").write_text("", encoding="utf-8")
    found = [f for f in run(reference, tmp_path, execute=False, mdx_tool=empty)]
    skipped = [f for f in found if f.rule == "mdx-compile"]
    assert summary(skipped) == [("mdx-compile", "POLISH", "Whole lesson")]
    assert "NOT compiled" in skipped[0].issue and "npm ci" in skipped[0].issue


@needs_mdx
def test_mdx_errors_carry_line_and_column(tmp_path: Path) -> None:
    (result,) = compile_mdx(["# T\n\n<Foo>\n\ntext\n"], cache_dir=tmp_path)
    assert result.compiled and result.errors[0].line == 3
    assert "closing tag" in result.errors[0].message


def test_a_python_code_block_that_does_not_parse(reference, tmp_path: Path) -> None:
    broken = bench.mdx("    return tokens\n", "    return tokens +\n")(reference)
    found = run(broken, tmp_path, execute=False)
    (got,) = [f for f in found if f.rule == "code-syntax"]
    assert got.location.startswith("Section 2") and "line 6" in got.issue
    # the same text as a `text` block is pseudocode, not Python: not checked
    as_text = bench.mdx(
        '<CodeBlock language="python">\n\n```python\ndef s3',
        '<CodeBlock language="text">\n\n```text\ndef s3',
    )(broken)
    assert not [f for f in run(as_text, tmp_path, execute=False) if f.rule == "code-syntax"]


def test_degenerate_notebook_cell(reference, tmp_path: Path) -> None:
    loop = "Count the tokens and count the tokens and count the tokens. " * 4
    broken = bench.cell(
        3, "Build the joint sequence length", loop + "Build the joint sequence length"
    )(reference)
    found = [f for f in run(broken, tmp_path, execute=False) if f.rule == "degenerate-text"]
    assert summary(found) == [("degenerate-text", "CRITICAL", "Notebook cell 3")]


def test_a_solution_cell_tagged_solution_replaces_its_starter(reference, tmp_path) -> None:
    """The convention's second form: a code cell tagged `solution` after the starter."""
    nb = json.loads(reference.notebook)
    solution_md = nb["cells"][4]
    assert "<details>" in "".join(solution_md["source"])
    nb["cells"][4] = {
        "cell_type": "code",
        "id": "cell-5",
        "metadata": {"tags": ["solution"]},
        "execution_count": None,
        "outputs": [],
        "source": "image_tokens = LATENT_SIDE * LATENT_SIDE\nsequence_length = 1000\n",
    }
    build = bench.Build(reference.plan, reference.mdx, json.dumps(nb))
    found = [f for f in run(build, tmp_path) if f.rule and f.rule.startswith("notebook")]
    assert summary(found) == [("notebook-exercise", "CRITICAL", "Notebook cell 4")]
    assert "cell 5" in found[0].issue and "AssertionError" in found[0].issue


def test_the_kernel_runs_contained(reference, tmp_path: Path) -> None:
    probe = (
        "import os, socket\n"
        "open('scratch.txt', 'w').write('x')\n"
        f"assert os.getcwd() != {str(Path.cwd())!r}\n"
        # loopback only: in a fresh network namespace even lo is down (unreachable at once);
        # outside one, the closed discard port refuses. No packet ever leaves the machine.
        "socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
    )
    broken = bench.cell(2, "2 x 2 patches", "2 x 2 patches\n" + probe)(reference)
    found = run(broken, tmp_path)
    assert summary(found) == [("notebook-runs", "CRITICAL", "Notebook cell 2")]
    got = found[0]
    assert "Run with: throwaway working directory, 60 s per cell" in got.issue
    assert "address space limited to 2048 MB" in got.issue
    if "no network" in got.issue:  # Linux with network namespaces: the connection fails at once
        assert "OSError" in got.issue and "unreachable" in got.issue.lower()
    else:
        assert "network not isolated" in got.issue and "ConnectionRefusedError" in got.issue
    assert not (bench.FIXTURE / "scratch.txt").exists() and not Path("scratch.txt").exists()


def test_execution_setting_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_EXECUTE, raising=False)
    assert execute_setting(tmp_path) is True
    (tmp_path / "pyproject.toml").write_text("[tool.author]\nexecute = false\n", encoding="utf-8")
    assert execute_setting(tmp_path / "sub") is False
    monkeypatch.setenv(ENV_EXECUTE, "1")
    assert execute_setting(tmp_path) is True
    assert execute_setting(tmp_path, option=False) is False


def test_skip_rules_refuses_unknown_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SKIP_RULES, "empty-section, notebook-runs")
    assert skip_rules_setting(tmp_path) == {"empty-section", "notebook-runs"}
    monkeypatch.setenv(ENV_SKIP_RULES, "empty-sections")
    with pytest.raises(UserError, match="unknown rule id"):
        skip_rules_setting(tmp_path)


def test_the_rule_id_round_trips_through_the_planning_document(reference) -> None:
    from lesson_author.course.parse import parse_lesson_plan
    from lesson_author.course.render import render_lesson_plan
    from lesson_author.review.documents import review_file, with_review

    plan = parse_lesson_plan(reference.plan)
    finding = Finding(
        severity=Severity.CRITICAL,
        rule="notebook-runs",
        title="Notebook cell 2 fails when run",
        location="Notebook cell 2",
        issue="ZeroDivisionError.",
    )
    reviewer = Finding(severity=Severity.POLISH, title="Flat hook", location="Section 1 (Hook)")
    review = Review(date="2026-03-01", iteration=1, of=3, findings=[finding, reviewer])
    text = render_lesson_plan(with_review(plan, review))
    assert "**Location:** Notebook cell 2 (rule: notebook-runs)" in text
    back = parse_lesson_plan(text).reviews[-1].findings
    assert [(f.rule, f.location) for f in back] == [
        ("notebook-runs", "Notebook cell 2"),
        (None, "Section 1 (Hook)"),
    ]
    assert render_lesson_plan(parse_lesson_plan(text)) == text
    data = review_file("z-image", review).model_dump(mode="json")
    assert [(f["rule"], f["source"]) for f in data["findings"]] == [
        ("notebook-runs", "deterministic"),
        (None, "reviewer"),
    ]


def test_text_the_model_could_not_write_never_passes(reference, tmp_path: Path) -> None:
    # the embedded model's lessons carry "(no usable answer)" where a field stayed degenerate;
    # no rule read it, so such a lesson could pass
    from lesson_author.text.degenerate import NO_ANSWER

    take = "Take a concrete case. A prompt gives 128 text tokens"
    broken = bench.chain(
        bench.mdx(take, f"{NO_ANSWER} A prompt gives 128 text tokens"),
        bench.cell(
            3, "Build the joint sequence length", f"Build the joint sequence length {NO_ANSWER}"
        ),
    )(reference)
    found = [f for f in run(broken, tmp_path, execute=False) if f.rule == "no-answer"]
    assert len(found) == 2 and all(f.severity.value == "CRITICAL" for f in found)
    assert found[1].location == "Notebook cell 3"
    assert found[0].location.startswith("Section") and "1 place(s)" in found[0].issue
    assert not [f for f in run(reference, tmp_path, execute=False) if f.rule == "no-answer"]


def test_a_misconception_the_model_could_not_write_is_not_asked_for(reference, tmp_path) -> None:
    # CI8: "Planned misconception not addressed: (no usable answer)" asked the lesson to
    # correct a misconception the plan does not have; the plan's gap is no-answer's to report
    from lesson_author.text.degenerate import NO_ANSWER

    planned = '"Decoupled-DMD is a brand new objective unrelated to DMD"'
    unplanned = bench.Build(
        bench.replace(reference.plan, planned, NO_ANSWER), reference.mdx, reference.notebook
    )
    rule = "misconception-unaddressed"
    assert not [f for f in run(unplanned, tmp_path, execute=False) if f.rule == rule]
    # the same plan row with a statement the lesson does not address is still reported
    stray = bench.Build(
        bench.replace(reference.plan, planned, '"Patches are pixels in a different order"'),
        reference.mdx,
        reference.notebook,
    )
    found = [f for f in run(stray, tmp_path, execute=False) if f.rule == rule]
    assert [f.title for f in found] == [
        "Planned misconception not addressed: Patches are pixels in a different order"
    ]
