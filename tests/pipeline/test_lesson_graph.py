"""The lesson half's control flow with a scripted model: build -> review -> revise ... -> record."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lesson"))

from lesson_samples import (
    PASS_REVIEW,
    make_course,
    requires_shared,
    reviewer_says,
    scripted_author,
)

from lesson_author.course.models import Severity, Verdict
from lesson_author.course.parse import parse_lesson_plan, parse_module_record
from lesson_author.course.records import stale_diff
from lesson_author.course.tree import CourseTree
from lesson_author.lesson.schemas import ReviewerOutput
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.runner import (
    RunStopped,
    build_now,
    make_run_context,
    review_now,
    run_lesson,
)

pytestmark = requires_shared

SLUG = "z-image"
TODAY = "2026-02-20"

SEED_ITERATION_1 = reviewer_says(
    ("CRITICAL", "Notebook exercises cannot run", "notebook"),
    ("IMPROVEMENT", "Visual semantic tokens introduced without adequate explanation", "4"),
    ("IMPROVEMENT", "Decoupled-DMD loss decomposition modality missing", "9"),
    ("IMPROVEMENT", "Prompt Enhancer explanation is shallow and disconnected", "Section 6"),
    ("POLISH", "Repeated point in the S3-DiT aside", "4"),
    ("POLISH", "Flux.2 Dev reference may be incorrect", "13"),
)
SEED_ITERATION_2 = reviewer_says(
    ("POLISH", "Aside repeats body text", "4"),
    ("POLISH", "Notebook TODO markers could be more helpful", "notebook"),
    verification=[{"finding": n, "fixed": True, "note": "Addressed."} for n in range(1, 7)],
)
STILL_BAD = reviewer_says(("IMPROVEMENT", "Prompt Enhancer explanation is shallow", "6"))


def lesson(tmp_path: Path, reviews: list[ReviewerOutput], **kwargs):
    root = tmp_path / "lessons"
    if not root.exists():
        make_course(tmp_path)
    provider = ScriptedProvider(scripted_author(reviews))
    result = run_lesson(SLUG, records_dir=root, config=provider, today=TODAY, **kwargs)
    return result, provider, root


def plan_of(root: Path):
    path = root / "series-7" / "module-7-4" / "lessons" / "z-image.md"
    return parse_lesson_plan(path.read_text(encoding="utf-8"), path)


def record_text(root: Path) -> str:
    return (root / "series-7" / "module-7-4" / "record.md").read_text(encoding="utf-8")


def test_major_revision_then_pass_writes_two_reviews_and_records_once(tmp_path: Path) -> None:
    result, provider, root = lesson(tmp_path, [SEED_ITERATION_1, SEED_ITERATION_2])
    assert result.passed and result.status == "recorded"
    assert [(r.iteration, r.verdict) for r in result.reviews] == [
        (1, Verdict.MAJOR_REVISION),
        (2, Verdict.PASS),
    ]
    plan = plan_of(root)
    assert [(r.iteration, r.of, r.verdict) for r in plan.reviews] == [
        (1, 3, Verdict.MAJOR_REVISION),
        (2, 3, Verdict.PASS),
    ]
    first, second = plan.reviews
    assert first.counts == {Severity.CRITICAL: 1, Severity.IMPROVEMENT: 3, Severity.POLISH: 2}
    assert second.counts == {Severity.CRITICAL: 0, Severity.IMPROVEMENT: 0, Severity.POLISH: 2}
    assert second.notes.startswith("**Verification of iteration 1 fixes:**\nAll six findings")
    text = (root / "series-7" / "module-7-4" / "lessons" / "z-image.md").read_text()
    assert (
        text.index("(Iteration 1/3)") < text.index("(Iteration 2/3)") < text.index("## Checklists")
    )

    # revise rewrote only the named sections (4, 6, 9, 13) and the notebook, one call each
    assert provider.calls["revise_section"] == 4
    assert provider.calls["revise_notebook"] == 1 + 4
    revised = [m[-1]["content"] for phase, m in provider.requests if phase == "revise_section"]
    assert sorted(int(p.split("this section: ")[1].split(".")[0]) for p in revised) == [4, 6, 9, 13]

    # recorded once: one summary, the plan's concept rows, the module complete
    record = record_text(root)
    assert record.count("### z-image") == 1
    assert "**Status:** Complete (4 of 4 lessons built)" in record
    parsed = parse_module_record(record)
    rows = [r for r in parsed.concepts if r.lesson == SLUG]
    assert [r.concept for r in rows] == [
        "S3-DiT single-stream design",
        "Decoupled-DMD",
        "DMDR",
        "Qwen3-4B as text encoder",
        "3D Unified RoPE",
        "DMD (Distribution Matching Distillation)",
    ]
    assert all(r.depth is not None and r.depth.value == "INTRODUCED" for r in rows)
    summary = parsed.summary(SLUG)
    assert summary is not None and summary.status == "Complete" and summary.number == 4
    assert summary.review == (
        "PASS on iteration 2/3 (iteration 1 had 1 CRITICAL + 3 IMPROVEMENT + 2 POLISH, all fixed; "
        "iteration 2 found only 2 POLISH)"
    )
    assert summary.notebook == "`build/z-image.ipynb`"
    assert "- Iteration 1: MAJOR REVISION--1 critical" in summary.part("Review notes")
    assert stale_diff(CourseTree.open(root)) == ""  # nothing derived is left stale
    # every file the run wrote is named in the result
    assert "lessons/series-7/module-7-4/build/z-image.mdx" in result.written
    assert "reviews/z-image/iteration-2.json" in result.written
    assert "lessons/series-7/module-7-4/record.md" in result.written


def test_three_non_pass_reviews_stop_without_pass(tmp_path: Path) -> None:
    result, provider, root = lesson(tmp_path, [STILL_BAD, STILL_BAD, STILL_BAD])
    assert not result.passed and result.status == "stopped"
    assert [r.verdict for r in result.reviews] == [Verdict.NEEDS_REVISION] * 3
    assert [f.title for f in result.open_findings] == ["Prompt Enhancer explanation is shallow"]
    assert provider.calls["review"] == 3 and provider.calls["revise_section"] == 2
    plan = plan_of(root)
    assert [r.verdict for r in plan.reviews] == [Verdict.NEEDS_REVISION] * 3
    assert all(r.verdict is not Verdict.PASS for r in plan.reviews)
    summary = parse_module_record(record_text(root)).summary(SLUG)
    assert summary.status == "Built, review open (NEEDS REVISION on iteration 3/3)"
    assert summary.review.startswith("NEEDS REVISION on iteration 3/3")
    # the verification says the finding is still open
    assert "is still open" in plan.reviews[2].notes


def test_max_iterations_one_stops_after_the_first_review(tmp_path: Path) -> None:
    result, provider, _ = lesson(tmp_path, [STILL_BAD], max_iterations=1)
    assert not result.passed and len(result.reviews) == 1 and provider.calls["revise_section"] == 0


def test_deleted_notebook_is_critical_whatever_the_reviewer_says(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    provider = ScriptedProvider(scripted_author([PASS_REVIEW, PASS_REVIEW]))
    run = make_run_context(SLUG, records_dir=root, config=provider, today=TODAY)
    written = build_now(run)
    assert written == [
        "lessons/series-7/module-7-4/build/z-image.mdx",
        "lessons/series-7/module-7-4/build/z-image.ipynb",
    ]
    (run.location.build_dir / "z-image.ipynb").unlink()
    review, _ = review_now(run)
    assert review.verdict is Verdict.MAJOR_REVISION
    assert [(f.severity, f.title) for f in review.findings] == [
        (Severity.CRITICAL, "Notebook missing")
    ]
    # rebuilt, the next review (iteration 2) passes and verifies the notebook is back
    build_now(run)
    review, _ = review_now(run)
    assert review.iteration == 2 and review.verdict is Verdict.PASS
    assert "1. **CRITICAL (Notebook missing):** Fixed." in review.notes


def test_rerunning_a_recorded_lesson_does_not_duplicate_rows(tmp_path: Path) -> None:
    _, _, root = lesson(tmp_path, [PASS_REVIEW])
    first = record_text(root)
    result, provider, _ = lesson(tmp_path, [PASS_REVIEW])
    assert result.passed and not result.planned  # the planning document exists: not planned again
    assert provider.calls["build_section"] == 14  # a finished run starts over
    second = record_text(root)
    assert second == first
    assert second.count("### z-image") == 1
    plan = plan_of(root)
    assert [(r.iteration, r.verdict) for r in plan.reviews] == [(1, Verdict.PASS)]


def test_other_lessons_in_the_record_are_untouched(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    before = record_text(root)
    lesson(tmp_path, [PASS_REVIEW])
    after = record_text(root)
    head = (
        before[: before.index("## Per-Lesson Summaries")]
        if "## Per-Lesson Summaries" in before
        else ""
    )
    for line in before.splitlines():
        if line.startswith("|") and "| sdxl |" in line:
            assert line in after
    for block in before.split("\n### ")[1:]:
        assert block.split("\n", 1)[1][:200] in after
    assert head.splitlines()[0] == after.splitlines()[0]


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    root = make_course(tmp_path)

    def dies_in_revise(messages, schema, phase):
        if phase == "revise_section":
            from lesson_author.llm.errors import LLMError

            raise LLMError("phase 'revise_section': the model went away")
        return scripted_author([STILL_BAD])(messages, schema, phase)

    with pytest.raises(RunStopped, match="stopped at revise"):
        run_lesson(SLUG, records_dir=root, config=ScriptedProvider(dies_in_revise), today=TODAY)
    provider = ScriptedProvider(scripted_author([PASS_REVIEW]))
    result = run_lesson(SLUG, records_dir=root, config=provider, today=TODAY)
    assert result.resumed_at == "revise"
    assert provider.calls["build_section"] == 0  # the build is not repeated
    assert provider.calls["revise_section"] == 1
    assert [(r.iteration, r.verdict) for r in result.reviews] == [
        (1, Verdict.NEEDS_REVISION),
        (2, Verdict.PASS),
    ]


def test_plan_to_record_end_to_end_leaves_the_records_clean(tmp_path: Path) -> None:
    from test_plan_graph import full_script

    from lesson_author.course.check import check_tree

    root = make_course(tmp_path)
    (root / "series-7" / "module-7-4" / "lessons" / "z-image.md").unlink()  # not planned yet
    plan_replies = full_script()
    author = scripted_author([STILL_BAD, PASS_REVIEW])

    def script(messages, schema, phase):
        if phase in plan_replies:
            return plan_replies[phase].pop(0)
        return author(messages, schema, phase)

    events: list = []
    result = run_lesson(
        SLUG, records_dir=root, config=ScriptedProvider(script), today=TODAY, progress=events.append
    )
    assert result.planned and result.passed
    ends = [e.node for e in events if e.kind == "end"]
    assert ends[:6] == ["load", "orient", "analyze", "design", "plan_checks", "write_plan"]
    assert ends[6:] == ["build", "review", "revise", "review", "record"]
    plan = plan_of(root)
    assert [r.verdict for r in plan.reviews] == [Verdict.NEEDS_REVISION, Verdict.PASS]
    tree = CourseTree.open(root)
    assert check_tree(tree) == []
    assert stale_diff(tree) == ""
    record = parse_module_record(record_text(root))
    assert record.summary(SLUG) is not None and record.summary(SLUG).status == "Complete"
    # every markdown document written parses back with the records parser
    from lesson_author.course.parse import parse_file

    for relative in result.written:
        path = tmp_path / relative
        if relative.startswith("reviews/") and path.suffix == ".md":
            assert parse_lesson_plan(path.read_text(encoding="utf-8")).reviews
        elif path.suffix == ".md":
            assert parse_file(path) is not None, relative


def test_a_gate_after_build_pauses_and_the_edited_lesson_is_reviewed(tmp_path: Path) -> None:
    root = make_course(tmp_path)
    provider = ScriptedProvider(scripted_author([PASS_REVIEW]))
    paused = run_lesson(
        SLUG, records_dir=root, config=provider, today=TODAY, interrupt_after=["build"]
    )
    assert paused.paused_before == "review" and not paused.reviews
    mdx = root / "series-7" / "module-7-4" / "build" / "z-image.mdx"
    mdx.write_text(mdx.read_text().replace("Prose of section 3", "An edit \u2014 spaced"))
    result = run_lesson(SLUG, records_dir=root, config=provider, today=TODAY)
    assert result.resumed_at == "review" and result.passed
    assert [f.title for f in result.reviews[0].findings] == [
        "Em dashes with spaces in visible text"
    ]
    assert "An edit \u2014 spaced" in mdx.read_text()  # PASS: nothing revised the author's text


def test_revising_a_hand_edited_lesson_keeps_its_sections_once(tmp_path: Path) -> None:
    from lesson_author.lesson.mdx import read_mdx
    from lesson_author.pipeline.lesson_files import current_plan, lesson_on_disk
    from lesson_author.pipeline.revise import revise_lesson

    root = make_course(tmp_path)
    run = make_run_context(SLUG, records_dir=root, config=ScriptedProvider(scripted_author([])))
    build_now(run)
    mdx = run.location.build_dir / "z-image.mdx"
    # the author drops the outline comments and adds a section of their own
    text = "\n".join(line for line in mdx.read_text().splitlines() if "{/* outline" not in line)
    mdx.write_text(text + "\n\n## An Author's Aside\n\nSomething extra.\n")
    lesson_before, notebook, _ = lesson_on_disk(run)
    assert all(s.number is None for s in lesson_before.sections)
    finding = reviewer_says(("IMPROVEMENT", "Shallow", "6")).findings[0]
    from lesson_author.review.findings import from_reviewer

    revised, done = revise_lesson(
        run,
        current_plan(None, run),
        lesson_before.model_copy(update={"notebook": notebook}),
        [from_reviewer(finding, lesson_before)],
    )
    assert done == ["section 6"]
    headings = [s.heading for s in revised.sections]
    assert len(headings) == len(set(headings)) == 18  # 17 planned + the author's own
    assert headings[-1] == "An Author's Aside"
    assert read_mdx(mdx.read_text()).sections[-1].prose == "Something extra."


@requires_shared
def test_a_revision_that_forgets_a_missing_modality_gets_it_from_the_plan(tmp_path: Path) -> None:
    """Seed 004 plans a Visual comparison (MMDiT vs S3-DiT); a build without any comparison
    or card is flagged, and a reviser that rewrites prose only (as SmolLM2 does) still
    yields a lesson that carries it: the block comes from the plan's own description."""
    from lesson_samples import author_reply

    from lesson_author.checks.review_checks import BuildFiles, check_modalities
    from lesson_author.lesson.lesson_doc import ComparisonRow, GradientCard
    from lesson_author.lesson.schemas import SectionDraft
    from lesson_author.pipeline.lesson_files import current_plan, lesson_on_disk
    from lesson_author.pipeline.revise import revise_lesson

    def prose_only(messages: list[dict[str, str]], schema: type, phase: str):
        if phase == "revise_section":
            return SectionDraft(heading="Rewritten", paragraphs=["Only new prose."])
        return author_reply(messages, schema, phase)

    root = make_course(tmp_path)
    run = make_run_context(SLUG, records_dir=root, config=ScriptedProvider(prose_only))
    build_now(run)
    plan = current_plan(None, run)
    built, notebook, _ = lesson_on_disk(run)
    visual = (ComparisonRow, GradientCard)
    bare = built.model_copy(
        update={
            "notebook": notebook,
            "sections": [
                s.model_copy(update={"blocks": [b for b in s.blocks if not isinstance(b, visual)]})
                for s in built.sections
            ],
        }
    )

    def modality_findings(lesson):
        files = BuildFiles(lesson, notebook, None, "z-image.mdx", "z-image.ipynb")
        return [f for f in check_modalities(plan, files) if f.title.endswith("Visual")]

    findings = modality_findings(bare)
    assert [f.title for f in findings] == ["Planned modality missing: Visual"]

    revised, done = revise_lesson(run, plan, bare, findings)
    assert done and done[0].startswith("section ")
    assert modality_findings(revised) == []
    added = [b for s in revised.sections for b in s.blocks if isinstance(b, visual)]
    assert len(added) == 1 and isinstance(added[0], ComparisonRow)
    assert added[0].left.title == "MMDiT dual-stream block"
    assert added[0].right.title == "S3-DiT single-stream block"
    assert any("2x projections" in item for item in added[0].left.items)
    assert any("refiner layers" in item for item in added[0].right.items)


@requires_shared
def test_a_missing_modality_no_section_talks_about_goes_to_the_first_content_section(
    tmp_path: Path,
) -> None:
    """SmolLM2 plans modalities like '**Symbolic** | Symbolic_1': no outline section shares a
    word with that, yet the finding must reach a section (it was left unplaced, and the same
    finding came back in every iteration)."""
    from lesson_author.checks.review_checks import BuildFiles, check_modalities
    from lesson_author.course.models import Modality
    from lesson_author.lesson.lesson_doc import CodeBlock
    from lesson_author.pipeline.lesson_files import current_plan, lesson_on_disk
    from lesson_author.pipeline.revise import revise_lesson, revision_targets

    root = make_course(tmp_path)
    run = make_run_context(SLUG, records_dir=root, config=ScriptedProvider(scripted_author([])))
    build_now(run)
    plan = current_plan(None, run).model_copy(
        update={"modalities": [Modality(modality="**Symbolic**", what="Symbolic_1")]}
    )
    built, notebook, _ = lesson_on_disk(run)
    bare = built.model_copy(
        update={
            "notebook": notebook,
            "sections": [
                s.model_copy(
                    update={"blocks": [b for b in s.blocks if not isinstance(b, CodeBlock)]}
                )
                for s in built.sections
            ],
        }
    )
    files = BuildFiles(bare, notebook, None, "z-image.mdx", "z-image.ipynb")
    findings = check_modalities(plan, files)
    assert [f.title for f in findings] == ["Planned modality missing: Symbolic"]

    targets = revision_targets(findings, plan, bare)
    first_content = next(s.number for s in plan.outline if s.title.startswith("Explain"))
    assert list(targets.sections) == [first_content] and not targets.unplaced
    revised, _ = revise_lesson(run, plan, bare, findings)
    assert check_modalities(plan, BuildFiles(revised, notebook, None, "", "")) == []
