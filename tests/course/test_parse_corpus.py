"""The parser reads every real record file and loses no row, review, verdict or finding.

The counts are checked against independent, plain line counters over the
same files (regexes over lines, not the parser), so a construct the parser
misses or misreads shows up as a mismatch for that file.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lesson_author.course.models import Depth, LessonPlan, ModuleRecord, Severity, Verdict
from lesson_author.course.parse import (
    kind_of,
    parse_file,
    parse_lesson_plan,
    parse_module_plan,
    parse_module_record,
    parse_series_plan,
)

pytestmark = pytest.mark.corpus

SEEDS = {
    "000": ("module_plan", parse_module_plan),
    "001": ("module_record", parse_module_record),
    "002": ("module_record", parse_module_record),
    "003": ("series_plan", parse_series_plan),
    "004": ("lesson_plan", parse_lesson_plan),
}


def seed_path(seeds_dir: Path, prefix: str) -> Path:
    return next(seeds_dir.glob(f"{prefix}_*.txt"))


def record_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.rglob("*.md") if kind_of(p) is not None)


# ---------------------------------------------------------------- plain line counters


def unfenced(text: str) -> list[str]:
    """The file's lines with fenced code blocks blanked out."""
    out, fence = [], False
    for line in text.split("\n"):
        if re.match(r"^\s*(```|~~~)", line):
            fence = not fence
            out.append("")
            continue
        out.append("" if fence else line)
    return out


def table_rows_under(lines: list[str], heading: re.Pattern[str]) -> int:
    """Rows of the first table in the first section whose heading matches (header/separator
    excluded); rows after blank lines continue it (a concept index grouped by lesson)."""
    for i, line in enumerate(lines):
        if not heading.match(line):
            continue
        rows = []
        for after in lines[i + 1 :]:
            if after.startswith("#"):
                break
            if after.startswith("|"):
                rows.append(after)
            elif rows and after.strip():
                break
        return max(len(rows) - 2, 0) if rows else 0
    return 0


def review_finding_counts(lines: list[str]) -> Counter[str]:
    """Severity of each finding heading inside a ``## Review`` section."""
    counts: Counter[str] = Counter()
    in_review = False
    for line in lines:
        if re.match(r"^## ", line):
            in_review = bool(re.match(r"^## Review\b", line))
        elif in_review and (m := re.match(r"^#{3,} .*?\b(CRITICAL|IMPROVEMENT|POLISH)\b", line)):
            counts[m.group(1)] += 1
    return counts


CONCEPT_INDEX = re.compile(r"^#+ .*Concept Index")
PREREQUISITES = re.compile(r"^#+ Prerequisites?( Table)?\s*$", re.IGNORECASE)
REVIEW = re.compile(r"^#+ .*Review .*\d{4}-\d\d-\d\d")
VERDICT = re.compile(r"^#+ .*Verdict")


def plain_counts(text: str) -> dict[str, object]:
    lines = unfenced(text)
    return {
        "concept rows": table_rows_under(lines, CONCEPT_INDEX),
        "prerequisite rows": table_rows_under(lines, PREREQUISITES),
        "reviews": sum(1 for line in lines if REVIEW.match(line)),
        "verdicts": sum(1 for line in lines if VERDICT.match(line)),
        "findings": review_finding_counts(lines),
    }


def parsed_counts(model: object) -> dict[str, object]:
    reviews = model.reviews if isinstance(model, LessonPlan) else []
    findings: Counter[str] = Counter(f.severity.value for r in reviews for f in r.findings)
    return {
        "concept rows": len(model.concepts) if isinstance(model, ModuleRecord) else 0,
        "prerequisite rows": len(model.prerequisites) if isinstance(model, LessonPlan) else 0,
        "reviews": len(reviews),
        "verdicts": sum(1 for r in reviews if r.verdict is not None),
        "findings": findings,
    }


# ---------------------------------------------------------------- the corpus


def test_corpus_is_all_there(corpus_dir: Path) -> None:
    assert len(list(corpus_dir.rglob("*.md"))) == 159


def test_every_corpus_file_parses(corpus_dir: Path) -> None:
    kinds: Counter[str] = Counter()
    for path in sorted(corpus_dir.rglob("*.md")):
        model = parse_file(path)
        kinds[type(model).__name__] += 1
    assert kinds["NoneType"] == 6, "only the series summaries are no record"
    assert kinds["LessonPlan"] == 96 and kinds["ModuleRecord"] == 25 and kinds["ModulePlan"] == 25
    assert kinds["SeriesPlan"] == 6 and kinds["Course"] == 1


def test_counts_match_plain_line_counts_in_every_file(corpus_dir: Path, seeds_dir: Path) -> None:
    mismatches = []
    checked = Counter[str]()
    files = [(p, parse_file(p)) for p in record_files(corpus_dir)]
    files += [
        (seed_path(seeds_dir, k), read(seed_path(seeds_dir, k).read_text()))
        for k, (_, read) in SEEDS.items()
    ]
    for path, model in files:
        expected = plain_counts(path.read_text(encoding="utf-8"))
        got = parsed_counts(model)
        if got != expected:
            mismatches.append(f"{path}: parsed {got} but the file has {expected}")
        for name, value in expected.items():
            checked[name] += sum(value.values()) if isinstance(value, Counter) else value
    assert not mismatches, "\n".join(mismatches)
    # the comparison is not vacuous: the corpus is full of these constructs
    assert checked["concept rows"] > 800 and checked["prerequisite rows"] > 500
    assert checked["reviews"] == checked["verdicts"] > 200
    assert checked["findings"] > 850


def test_depths_verdicts_and_summary_counts_are_read_everywhere(corpus_dir: Path) -> None:
    unread_depths, miscounted = [], []
    reviews = 0
    for path in record_files(corpus_dir):
        model = parse_file(path)
        if isinstance(model, ModuleRecord):
            unread_depths += [r.depth_raw for r in model.concepts if r.depth is None]
        if isinstance(model, LessonPlan):
            for review in model.reviews:
                reviews += 1
                assert review.verdict is not None, f"{path}:{review.line}"
                found = Counter(f.severity for f in review.findings)
                if any(found[sev] != n for sev, n in review.counts.items()):
                    miscounted.append(f"{path.name}:{review.line}")
    # two rows say REINFORCED, which is no depth: kept as written for `author check`
    assert unread_depths == ["REINFORCED", "REINFORCED"]
    # each review's own Summary agrees with the findings read, but for one review
    # whose author listed four POLISH findings and counted three
    assert reviews == 221
    assert miscounted == ["autograd.md:274"]


def test_drifted_formats_are_read(corpus_dir: Path) -> None:
    flow = parse_file(corpus_dir / "series-7/module-7-2/lessons/flow-matching.md")
    assert isinstance(flow, LessonPlan)
    assert [r.iteration for r in flow.reviews] == [1, 2, 3]
    dash = parse_file(corpus_dir / "series-1/module-1-1/lessons/gradient-descent.md")
    assert isinstance(dash, LessonPlan)
    assert dash.slug == "gradient-descent" and dash.module.startswith("1.1")
    assert dash.reviews[1].verdict is Verdict.PASS
    assert dash.reviews[1].verdict_raw == "PASS with polish notes"
    assert [f.severity for f in dash.reviews[0].findings] == [
        Severity.IMPROVEMENT,
        Severity.IMPROVEMENT,
        Severity.POLISH,
        Severity.POLISH,
    ]
    assert len(dash.relevant_concepts) == 12, "a table straight under the Phase 1 heading"
    record = parse_file(corpus_dir / "series-2/module-2-3/record.md")
    assert isinstance(record, ModuleRecord)
    assert [s.slug for s in record.summaries] == [
        "saving-and-loading",
        "gpu-training",
        "fashion-mnist-project",
    ]
    assert [s.number for s in record.summaries] == [1, 2, 3]


def test_cells_with_unescaped_pipes_keep_their_columns(corpus_dir: Path) -> None:
    record = parse_file(corpus_dir / "series-6/module-6-2/record.md")
    assert isinstance(record, ModuleRecord)
    row = next(r for r in record.concepts if r.concept.startswith("Closed-form shortcut"))
    assert "q(x_t|x_0)" in row.concept
    assert (row.depth, row.lesson) == (Depth.DEVELOPED, "the-forward-process")
    assert all(r.lesson and " " not in r.lesson for r in record.concepts)


# ---------------------------------------------------------------- the seeds


def test_seed_lesson_plan(seeds_dir: Path) -> None:
    plan = parse_lesson_plan(seed_path(seeds_dir, "004").read_text())
    assert (plan.title, plan.slug) == ("Z-Image & Z-Image Turbo", "z-image")
    assert plan.series.startswith("7 (Post-SD Advances), **Module:** 7.4")
    assert plan.cognitive_load.startswith("BUILD (2-3 new concepts")
    assert len(plan.relevant_concepts) == 15
    assert plan.relevant_concepts[-1].depth is Depth.NOT_TAUGHT
    gaps = [p for p in plan.prerequisites if p.status == "GAP"]
    assert [(p.concept, p.required, p.actual) for p in gaps] == [
        ("DMD (Distribution Matching Distillation)", Depth.INTRODUCED, Depth.NOT_TAUGHT)
    ]
    assert len(plan.prerequisites) == 14 and len(plan.gaps) == 1
    assert (len(plan.misconceptions), len(plan.examples), len(plan.modalities)) == (5, 4, 4)
    assert len(plan.connections) == 7
    assert [s.number for s in plan.outline] == list(range(1, 17))
    assert plan.outline[3].title == "Explain: S3-DiT -- The Single-Stream Architecture"
    assert "# Pseudocode for one S3-DiT block" in plan.outline[3].body
    first, second = plan.reviews
    assert (first.date, first.iteration, first.of) == ("2026-02-20", 1, 3)
    assert first.verdict is Verdict.MAJOR_REVISION is first.computed_verdict()
    assert first.counts == {Severity.CRITICAL: 1, Severity.IMPROVEMENT: 3, Severity.POLISH: 2}
    notebook = first.findings[0]
    assert (notebook.severity, notebook.title) == (Severity.CRITICAL, "Notebook missing")
    assert notebook.location.startswith("Practice section")
    assert notebook.suggested_fix.startswith("Create the notebook")
    assert second.verdict is Verdict.PASS and len(second.findings) == 2
    assert second.notes.startswith("**Verification of iteration 1 fixes:**")
    assert [c.title for c in plan.checklists] == ["Prerequisite Audit", "Pedagogical Design"]
    assert all(item.checked for c in plan.checklists for item in c.items)
    assert [e.level for e in plan.exercises()] == []  # seed 004 lists exercises in prose


def test_seed_records_before_and_after(seeds_dir: Path) -> None:
    before = parse_module_record(seed_path(seeds_dir, "002").read_text())
    after = parse_module_record(seed_path(seeds_dir, "001").read_text())
    assert (before.module, before.title) == ("7.4", "Next-Generation Architectures")
    assert before.status == "Complete (3 of 3 lessons built)"
    assert after.status == "Complete (4 of 4 lessons built)"
    assert len(after.concepts) - len(before.concepts) == 11
    assert [s.slug for s in after.summaries] == [
        "sdxl",
        "diffusion-transformers",
        "sd3-and-flux",
        "z-image",
    ]
    z = after.summary("z-image")
    assert z is not None and z.number == 4 and z.cognitive_load == "BUILD"
    assert z.notebook == "`notebooks/7-4-4-z-image.ipynb`"
    assert z.review.startswith("PASS on iteration 2/3")
    assert z.part(
        "Review notes",
    ).startswith("- Iteration 1: MAJOR REVISION")  # type: ignore[union-attr]
    mmdit = next(c for c in after.concepts if c.concept.startswith("MMDiT joint attention"))
    assert (mmdit.depth, mmdit.lesson) == (Depth.DEVELOPED, "sd3-and-flux")


def test_seed_plans(seeds_dir: Path) -> None:
    module = parse_module_plan(seed_path(seeds_dir, "000").read_text())
    assert (module.module, module.status) == ("7.4", "Complete (4 of 4 lessons built)")
    assert [r.lesson for r in module.sequence] == [
        "sdxl",
        "diffusion-transformers",
        "sd3-and-flux",
        "z-image",
    ]
    assert list(module.topic_allocation) == [r.lesson for r in module.sequence]
    assert module.topic_allocation["z-image"].startswith("- S3-DiT single-stream")
    assert [r.load for r in module.load_trajectory] == ["BUILD", "STRETCH", "BUILD", "BUILD"]
    assert len(module.misconceptions) == 7
    series = parse_series_plan(seed_path(seeds_dir, "003").read_text())
    assert (series.number, series.title, series.status) == ("7", "Post-SD Advances", "Complete")
    assert [m.module for m in series.modules] == ["7.1", "7.2", "7.3", "7.4"]
    assert [lesson.slug for lesson in series.module_lessons("7.4")] == [
        "sdxl",
        "diffusion-transformers",
        "sd3-and-flux",
        "z-image",
    ]
    assert series.lessons[-1].number == 12 and len(series.connections) == 19
