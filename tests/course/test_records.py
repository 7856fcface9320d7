"""Regenerating the derived parts of the records, and upserting a lesson into a module record."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest

from lesson_author.course import parse
from lesson_author.course.models import ConceptRow, Depth, LessonSummary, ModuleRecord
from lesson_author.course.records import (
    bullet_is_true,
    lessons_count_is_true,
    module_progress,
    regenerate,
    review_facts,
    review_line,
    review_note_bullet,
    stale_diff,
    status_line_is_true,
    upsert_lesson,
    write_regenerated,
)
from lesson_author.course.tree import CourseTree

COURSE_MD = """\
# Course: Post-SD Advances (seed excerpt)

## Goal
The seed documents arranged as a records tree, with small hand-made records for 7.1-7.3.

## Series

| Series | Title | Status | Description |
|--------|-------|--------|-------------|
| 7 | Post-SD Advances | complete | ControlNet, SDXL, consistency models, flow matching |

## Module Status

| Module | Title | Lessons | Status |
|--------|-------|---------|--------|
| 7.1 | Controllable Generation | 3 of 3 | complete |
| 7.2 | The Score-Based Perspective | 2 of 2 | complete |
| 7.3 | Fast Generation | 3 of 3 | complete |
| 7.4 | Next-Generation Architectures | 4 of 4 | complete |
"""

SMALL_RECORDS = {
    "7.1": ("Controllable Generation", ["controlnet", "controlnet-in-practice", "ip-adapter"]),
    "7.2": ("The Score-Based Perspective", ["score-functions-and-sdes", "flow-matching"]),
    "7.3": (
        "Fast Generation",
        ["consistency-models", "latent-consistency-and-turbo", "the-speed-landscape"],
    ),
}


def small_record(module: str, title: str, slugs: list[str]) -> str:
    rows = "".join(f"| Core idea of {s} | DEVELOPED | {s} | Hand-made row. |\n" for s in slugs)
    summaries = "".join(
        f"\n### {s} (Lesson {i})\n**Status:** Complete\n**Cognitive load:** BUILD\n"
        for i, s in enumerate(slugs, 1)
    )
    return (
        f"# Module {module}: {title} -- Record\n\n**Goal:** A hand-made record for tests.\n"
        f"**Status:** Complete ({len(slugs)} of {len(slugs)} lessons built)\n\n## Concept Index\n\n"
        "| Concept | Depth | Lesson | Notes |\n|---------|-------|--------|-------|\n"
        f"{rows}\n## Per-Lesson Summaries\n{summaries}"
    )


def seed(seeds_dir: Path, number: str) -> Path:
    return next(seeds_dir.glob(f"{number}_*.txt"))


def seed_tree(
    seeds_dir: Path, root: Path, record: str = "001", z_image_doc: bool = True
) -> CourseTree:
    """The seeds as a records tree: course.md (hand-made), series 7 plan (003), module 7.4 plan
    (000), record (001 after z-image / 002 before), z-image.md (004), small records for 7.1-7.3."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "course.md").write_text(COURSE_MD)
    series = root / "series-7"
    module = series / "module-7-4"
    (module / "lessons").mkdir(parents=True)
    shutil.copy(seed(seeds_dir, "003"), series / "plan.md")
    shutil.copy(seed(seeds_dir, "000"), module / "plan.md")
    shutil.copy(seed(seeds_dir, record), module / "record.md")
    if z_image_doc:
        shutil.copy(seed(seeds_dir, "004"), module / "lessons" / "z-image.md")
    for mod, (title, slugs) in SMALL_RECORDS.items():
        folder = series / f"module-{mod.replace('.', '-')}"
        folder.mkdir()
        (folder / "record.md").write_text(small_record(mod, title, slugs))
    return CourseTree.open(root)


ROW_74 = (
    "| 7.4 | Next-Generation Architectures | 4 | {} | SDXL, Diffusion Transformers (DiT), "
    "SD3/Flux, Z-Image -- the architectural shift from U-Net to transformer and beyond convergence |"
)


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


# ---------------------------------------------------------------- the seed tree


def test_the_seed_tree_after_z_image_is_fresh(tmp_path: Path, seeds_dir: Path) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records")
    assert regenerate(tree) == {}
    assert stale_diff(tree) == ""
    progress = module_progress(tree)
    assert progress["7.4"].status_line == "Complete (4 of 4 lessons built)"
    assert progress["7.2"].lessons_text == "2 of 2"


def test_before_z_image_the_module_is_in_progress(tmp_path: Path, seeds_dir: Path) -> None:
    """Record 002 says "Complete (3 of 3 lessons built)", but the series plan lists 4 lessons."""
    tree = seed_tree(seeds_dir, tmp_path / "records", record="002", z_image_doc=False)
    changes = regenerate(tree)
    root = tree.root
    assert set(changes) == {
        root / "series-7" / "module-7-4" / "record.md",
        root / "series-7" / "plan.md",
        root / "course.md",
    }
    record_old = (root / "series-7" / "module-7-4" / "record.md").read_text()
    removed, added = changed_lines(
        record_old, changes[root / "series-7" / "module-7-4" / "record.md"]
    )
    assert removed == ["**Status:** Complete (3 of 3 lessons built)"]
    assert added == ["**Status:** In progress (3 of 4 lessons built)"]

    removed, added = changed_lines(
        (root / "series-7" / "plan.md").read_text(), changes[root / "series-7" / "plan.md"]
    )
    assert removed == [
        "**Status:** Complete",
        ROW_74.format("complete"),
    ]
    assert added == [
        "**Status:** In progress",
        ROW_74.format("in progress"),
    ]
    removed, added = changed_lines(COURSE_MD, changes[root / "course.md"])
    assert added == [
        "| 7 | Post-SD Advances | in progress | ControlNet, SDXL, consistency models, flow matching |",
        "| 7.4 | Next-Generation Architectures | 3 of 4 | in progress |",
    ]

    diff = stale_diff(tree)
    assert "-**Status:** Complete (3 of 3 lessons built)" in diff
    assert "+++ b/series-7/module-7-4/record.md" in diff

    write_regenerated(tree)
    assert regenerate(tree) == {}, "a second run changes nothing"
    assert stale_diff(tree) == ""


def test_review_line_and_notes_are_derived_from_the_planning_document(
    tmp_path: Path, seeds_dir: Path
) -> None:
    doc = parse.parse_lesson_plan(seed(seeds_dir, "004").read_text(), seed(seeds_dir, "004"))
    facts = review_facts(doc)
    assert [(f.number, f.verdict.value) for f in facts] == [(1, "MAJOR REVISION"), (2, "PASS")]
    # the seed record's z-image review line is exactly the canonical form
    assert "**Review:** " + review_line(facts) in seed(seeds_dir, "001").read_text().splitlines()
    assert review_line(facts) == (
        "PASS on iteration 2/3 (iteration 1 had 1 CRITICAL + 3 IMPROVEMENT + 2 POLISH, all fixed; "
        "iteration 2 found only 2 POLISH)"
    )
    bullet = review_note_bullet(facts[0])
    assert bullet.startswith(
        "- Iteration 1: MAJOR REVISION--1 critical (Notebook missing), 3 improvement ("
    )
    assert bullet_is_true(bullet, facts[0]) and not bullet_is_true(bullet, facts[1])


def test_a_true_review_line_in_other_words_is_kept(tmp_path: Path, seeds_dir: Path) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records")
    path = tree.record_path("7.4")
    ours = "**Review:** Passed at iteration 2/3. Iteration 1 had 1 critical, 3 improvements and 2 polish findings, all resolved."
    text = re.sub(
        r"^\*\*Review:\*\* PASS on iteration 2/3 \(iteration 1 had 1 CRITICAL.*$",
        ours,
        path.read_text(),
        flags=re.MULTILINE,
    )
    assert ours in text
    path.write_text(text)
    assert regenerate(tree) == {}


def test_a_false_review_line_is_rewritten(tmp_path: Path, seeds_dir: Path) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records")
    path = tree.record_path("7.4")
    original = path.read_text()
    wrong = original.replace(
        "**Review:** PASS on iteration 2/3 (iteration 1 had 1 CRITICAL + 3 IMPROVEMENT + 2 POLISH, all fixed; iteration 2 found only 2 POLISH)",
        "**Review:** PASS on iteration 2/3 (iteration 1 had 3 IMPROVEMENT + 2 POLISH, all fixed)",
    )
    wrong = wrong.replace(
        "- Iteration 2: PASS--0 critical, 0 improvement, 2 polish",
        "- Iteration 2: PASS--0 critical, 1 improvement, 2 polish",
    )
    assert wrong != original
    path.write_text(wrong)
    changes = regenerate(tree)
    removed, added = changed_lines(wrong, changes[path])
    assert len(removed) == 2 and len(added) == 2
    assert added[0] == "**Review:** " + (
        "PASS on iteration 2/3 (iteration 1 had 1 CRITICAL + 3 IMPROVEMENT + 2 POLISH, all fixed; "
        "iteration 2 found only 2 POLISH)"
    )
    assert added[1].startswith(
        "- Iteration 2: PASS--0 critical, 0 improvement, 2 polish (Aside repeats"
    )
    write_regenerated(tree)
    assert regenerate(tree) == {}


def test_missing_review_parts_are_added_to_a_structured_summary(
    tmp_path: Path, seeds_dir: Path
) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records")
    path = tree.record_path("7.4")
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("### z-image"))
    kept = [
        line
        for i, line in enumerate(lines)
        if i < start or not line.startswith(("**Review:**", "- Iteration", "**Review notes:**"))
    ]
    path.write_text("".join(kept).rstrip("\n") + "\n")
    new = regenerate(tree)[path]
    block = new[new.index("### z-image") :]
    head = block.splitlines()[:5]
    assert head[3].startswith("**Notebook:**") and head[4].startswith(
        "**Review:** PASS on iteration 2/3"
    )
    assert block.rstrip("\n").splitlines()[-3:] == [
        "**Review notes:**",
        review_note_bullet(review_facts(tree.lesson_plan("z-image"))[0]),
        review_note_bullet(review_facts(tree.lesson_plan("z-image"))[1]),
    ]
    write_regenerated(tree)
    assert regenerate(tree) == {}


def test_bullets_for_iterations_that_never_ran_are_dropped(tmp_path: Path, seeds_dir: Path) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records")
    path = tree.record_path("7.4")
    text = (
        path.read_text().rstrip("\n")
        + "\n- Iteration 3: PASS--0 critical, 0 improvement, 0 polish\n"
    )
    path.write_text(text)
    new = regenerate(tree)[path]
    z_image = new[new.index("### z-image") :]
    assert "- Iteration 3:" not in z_image
    assert z_image.count("- Iteration 2: PASS") == 1 and z_image.count("- Iteration 1: MAJOR") == 1


def test_free_form_summaries_get_nothing_added(tmp_path: Path, seeds_dir: Path) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records")
    path = tree.record_path("7.4")
    text = path.read_text()
    start = text.index("### z-image (Lesson 4)")
    path.write_text(
        text[:start] + "### z-image (Lesson 4)\nA short prose summary, no header lines.\n"
    )
    assert path.read_text() == regenerate(tree).get(path, path.read_text())


def test_fact_readers() -> None:
    assert status_line_is_true("Complete (6 lessons)", 6, 6)
    assert status_line_is_true("Complete", 4, 4)
    assert not status_line_is_true("Complete (3 of 3 lessons built)", 3, 4)
    assert status_line_is_true("In progress (3 of 4 lessons built)", 3, 4)
    assert status_line_is_true("active", 3, 4)
    assert not status_line_is_true("complete", 0, 3)
    assert not status_line_is_true("incomplete", 3, 3)
    assert lessons_count_is_true("4", 3, 4)  # a bare number is the planned count
    assert not lessons_count_is_true("4 of 4", 3, 4)
    assert not lessons_count_is_true("", 3, 4)


# ---------------------------------------------------------------- upsert


def render_record(record: ModuleRecord) -> str:
    from lesson_author.course.render import render_module_record

    return render_module_record(record)


def _seed_records(seeds_dir: Path) -> tuple[str, ModuleRecord, ModuleRecord]:
    before_text = seed(seeds_dir, "002").read_text()
    before = parse.parse_module_record(before_text, seed(seeds_dir, "002"))
    after = parse.parse_module_record(seed(seeds_dir, "001").read_text(), seed(seeds_dir, "001"))
    return before_text, before, after


def test_upsert_z_image_into_the_seed_record_gives_the_seed_after(
    tmp_path: Path, seeds_dir: Path
) -> None:
    before_text, before, after = _seed_records(seeds_dir)
    rows = [r for r in after.concepts if r.lesson == "z-image"]
    summary = after.summary("z-image")
    assert len(rows) == 11 and summary is not None
    upserted = upsert_lesson(before, "z-image", rows, summary)
    assert before.summary("z-image") is None, "the input model is not changed"
    text = render_record(upserted)

    # everything of lessons 1-3 is byte for byte what it was
    removed, added = changed_lines(before_text, text)
    assert removed == []
    assert len([a for a in added if a.startswith("| ") and "| z-image |" in a]) == 11

    # then `author records` updates the status: the result is seed 001, byte for byte
    tree = seed_tree(seeds_dir, tmp_path / "records", record="002")
    tree.record_path("7.4").write_text(text)
    write_regenerated(tree)
    assert tree.record_path("7.4").read_text() == seed(seeds_dir, "001").read_text()


def test_upsert_again_replaces_and_never_duplicates(seeds_dir: Path) -> None:
    _, before, after = _seed_records(seeds_dir)
    rows = [r for r in after.concepts if r.lesson == "z-image"]
    summary = after.summary("z-image")
    once = upsert_lesson(before, "z-image", rows, summary)
    twice = upsert_lesson(once, "z-image", rows, summary)
    assert render_record(twice) == render_record(once)
    assert sum(1 for r in twice.concepts if r.lesson == "z-image") == 11
    assert [s.slug for s in twice.summaries] == [
        "sdxl",
        "diffusion-transformers",
        "sd3-and-flux",
        "z-image",
    ]

    # a re-run with fewer rows replaces them in place
    fewer = upsert_lesson(twice, "z-image", rows[:2], summary)
    assert [r.concept for r in fewer.concepts if r.lesson == "z-image"] == [
        r.concept for r in rows[:2]
    ]


def test_upsert_in_the_middle_keeps_other_lessons_byte_for_byte(seeds_dir: Path) -> None:
    before_text, before, _ = _seed_records(seeds_dir)
    new_row = ConceptRow(
        concept="A replacement concept",
        depth=Depth.INTRODUCED,
        depth_raw="INTRODUCED",
        lesson="diffusion-transformers",
        notes="Re-recorded.",
    )
    summary = before.summary("diffusion-transformers").model_copy(update={"status": "Complete"})
    updated = upsert_lesson(before, "diffusion-transformers", [new_row], summary)
    text = render_record(updated)
    old_lines = before_text.splitlines()
    new_lines = text.splitlines()
    old_rows = [
        line
        for line in old_lines
        if line.startswith("| ") and "| diffusion-transformers |" not in line
    ]
    new_rows = [
        line
        for line in new_lines
        if line.startswith("| ") and "| diffusion-transformers |" not in line
    ]
    assert old_rows == new_rows, "other lessons' rows are untouched"
    dit = [i for i, line in enumerate(new_lines) if "| diffusion-transformers |" in line]
    assert len(dit) == 1
    # in place: after the last sdxl row, before the first sd3-and-flux row
    sdxl_last = max(i for i, line in enumerate(new_lines) if "| sdxl |" in line)
    sd3_first = min(i for i, line in enumerate(new_lines) if "| sd3-and-flux |" in line)
    assert sdxl_last < dit[0] < sd3_first
    assert [s.slug for s in updated.summaries] == ["sdxl", "diffusion-transformers", "sd3-and-flux"]


def test_upsert_a_lesson_missing_from_the_record_goes_after_earlier_lessons(
    seeds_dir: Path,
) -> None:
    """Take diffusion-transformers (lesson 2) out of seed 002, upsert it back: seed 002 again."""
    before_text, before, _ = _seed_records(seeds_dir)
    rows = [r for r in before.concepts if r.lesson == "diffusion-transformers"]
    summary = before.summary("diffusion-transformers")
    without = before.model_copy(deep=True)
    without.concepts = [r for r in without.concepts if r.lesson != "diffusion-transformers"]
    without.summaries = [s for s in without.summaries if s.slug != "diffusion-transformers"]
    back = upsert_lesson(without, "diffusion-transformers", rows, summary)
    assert [r.lesson for r in back.concepts] == [r.lesson for r in before.concepts]
    assert [s.slug for s in back.summaries] == ["sdxl", "diffusion-transformers", "sd3-and-flux"]
    assert render_record(back) == before_text


def test_upsert_without_a_lesson_number_appends(seeds_dir: Path) -> None:
    _, before, _ = _seed_records(seeds_dir)
    row = ConceptRow(
        concept="Inserted", depth=Depth.MENTIONED, depth_raw="MENTIONED", lesson="x", notes=""
    )
    updated = upsert_lesson(before, "extra", [row], LessonSummary(slug="extra", status="Complete"))
    assert updated.concepts[-1].lesson == "extra" and updated.concepts[-1].concept == "Inserted"
    assert updated.summaries[-1].slug == "extra"


# ---------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "records"
    shutil.copytree(corpus_dir, root)
    return root


DERIVED = re.compile(
    r"^(\*\*Status:\*\*|\*\*Review:\*\*|\*\*Review notes:\*\*|- Iteration \d+|\| *\d+(\.\d+)? *\|)|^$"
)


def test_corpus_regeneration_touches_only_derived_lines_and_is_idempotent(
    corpus_copy: Path,
) -> None:
    tree = CourseTree.open(corpus_copy)
    changes = regenerate(tree)
    for path, new in changes.items():
        removed, added = changed_lines(path.read_text(), new)
        for line in removed + added:
            assert DERIVED.match(line), f"{path}: non-derived line changed: {line[:100]}"
    write_regenerated(tree)
    assert regenerate(tree) == {}
    assert stale_diff(tree) == ""


def test_crlf_files_keep_their_line_endings(tmp_path: Path, seeds_dir: Path) -> None:
    tree = seed_tree(seeds_dir, tmp_path / "records", record="002", z_image_doc=False)
    path = tree.record_path("7.4")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    old = path.read_bytes()
    write_regenerated(tree)
    new = path.read_bytes()
    assert b"**Status:** In progress (3 of 4 lessons built)\r\n" in new
    assert new.count(b"\r\n") == old.count(b"\r\n") and b"\n" not in new.replace(b"\r\n", b"")
    assert regenerate(tree) == {}


def test_a_review_bullet_names_a_repeated_title_once_with_its_count() -> None:
    from lesson_author.course.models import Finding, Severity, Verdict
    from lesson_author.course.records import MAX_BULLET_TITLES, IterationFacts
    from lesson_author.text.degenerate import degenerate

    critical = [Finding(severity=Severity.CRITICAL, title="Degenerate text") for _ in range(5)]
    critical += [
        Finding(severity=Severity.CRITICAL, title=f"Notebook cell {n} fails") for n in (2, 4)
    ]
    polish = [Finding(severity=Severity.POLISH, title=f"Polish item {n}") for n in range(9)]
    facts = IterationFacts(
        number=1,
        of=3,
        counts={Severity.CRITICAL: 7, Severity.IMPROVEMENT: 0, Severity.POLISH: 9},
        verdict=Verdict.MAJOR_REVISION,
        findings=critical + polish,
    )
    bullet = review_note_bullet(facts)
    assert "7 critical (Degenerate text x5, Notebook cell 2 fails, Notebook cell 4 fails)" in bullet
    assert f"and {9 - MAX_BULLET_TITLES} more" in bullet
    assert degenerate(bullet) is None  # the record's own text never reads as a loop
    assert bullet_is_true(bullet, facts)
