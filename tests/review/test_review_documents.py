"""Review documents: the planning document's review sections and reviews/<slug>/, read back."""

from __future__ import annotations

import json
from pathlib import Path

from lesson_samples import requires_shared, seed_plan_text

from lesson_author.course.models import Finding, Review, Severity
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.lesson.schemas import FixJudgment
from lesson_author.review.documents import (
    append_review_to_plan,
    finding_rows,
    load_review_files,
    write_review_files,
)
from lesson_author.review.findings import make_review, verify_previous

pytestmark = requires_shared


def essentials(review: Review) -> dict:
    return {
        "date": review.date,
        "iteration": review.iteration,
        "of": review.of,
        "verdict": review.verdict,
        "counts": {s: review.counts.get(s, 0) for s in Severity},
        "findings": [
            (f.severity, f.title, f.location, f.issue, f.student_impact, f.suggested_fix)
            for f in review.findings
        ],
        "notes": review.notes,
    }


def finding(severity: str, title: str, location: str) -> Finding:
    return Finding(
        severity=Severity(severity),
        title=title,
        location=location,
        issue=f"{title}.",
        student_impact="The student is confused.",
        suggested_fix="Fix it.",
    )


FIRST = [
    finding(
        "CRITICAL", "Notebook missing", "Practice section and notebook `build/z-image.ipynb`"
    ).model_copy(update={"rule": "notebook-missing"}),
    finding(
        "IMPROVEMENT",
        "Prompt Enhancer explanation is shallow",
        "Section 6 (Explain: Text Encoding)",
    ),
    finding("POLISH", "Flux.2 Dev reference may be incorrect", "Section 13 (Elaborate)"),
]
SECOND = [finding("POLISH", "Aside repeats body text", "Section 4 (Explain: S3-DiT)")]


def two_iterations() -> tuple[Review, Review, list]:
    first = make_review("2026-02-20", 1, 3, FIRST, "**What works well:**\n- The arc.")
    judgments = [FixJudgment(finding=2, fixed=True, note="A concrete example was added.")]
    second = make_review(
        "2026-02-21", 2, 3, SECOND, "**Overall assessment:**\nReady.", first, judgments
    )
    return first, second, verify_previous(first, second.findings, judgments)


def test_reviews_go_into_the_planning_document_before_the_checklists(tmp_path: Path) -> None:
    path = tmp_path / "z-image.md"
    original = seed_plan_text()
    path.write_text(original, encoding="utf-8")
    first, second, _ = two_iterations()
    append_review_to_plan(path, first)
    append_review_to_plan(path, second)
    text = path.read_text(encoding="utf-8")
    assert (
        text.index("## Review -- 2026-02-20 (Iteration 1/3)")
        < text.index("## Review -- 2026-02-21 (Iteration 2/3)")
        < text.index("## Checklists")
    )
    assert text.startswith(original[: original.index("---\n\n## Checklists")])
    plan = parse_lesson_plan(text, path)
    assert [essentials(r) for r in plan.reviews] == [essentials(first), essentials(second)]
    assert (
        plan.reviews[0].verdict.value == "MAJOR REVISION"
        and plan.reviews[1].verdict.value == "PASS"
    )
    assert plan.reviews[1].notes.startswith("**Verification of iteration 1 fixes:**")
    # a restarted run writing iteration 1 again replaces iterations 1 and later
    append_review_to_plan(path, first)
    again = parse_lesson_plan(path.read_text(encoding="utf-8"), path)
    assert [essentials(r) for r in again.reviews] == [essentials(first)]


def test_review_files_hold_the_same_review(tmp_path: Path) -> None:
    first, second, statuses = two_iterations()
    written = write_review_files(tmp_path, "z-image", first)
    write_review_files(tmp_path, "z-image", second, statuses)
    assert [p.name for p in written] == ["iteration-1.md", "iteration-1.json"]
    folder = tmp_path / "reviews" / "z-image"
    for n, review in ((1, first), (2, second)):
        md = (folder / f"iteration-{n}.md").read_text(encoding="utf-8")
        assert md.startswith(f"## Review -- {review.date} (Iteration {n}/3)")
        assert [essentials(r) for r in parse_lesson_plan(md).reviews] == [essentials(review)]
        data = json.loads((folder / f"iteration-{n}.json").read_text(encoding="utf-8"))
        assert data["verdict"] == review.verdict.value and data["iteration"] == n
    data = json.loads((folder / "iteration-2.json").read_text(encoding="utf-8"))
    assert [(v["title"], v["fixed"]) for v in data["verification"]] == [
        ("Notebook missing", True),
        ("Prompt Enhancer explanation is shallow", True),
        ("Flux.2 Dev reference may be incorrect", True),
    ]
    assert data["findings"][0]["source"] == "reviewer"
    first_data = json.loads((folder / "iteration-1.json").read_text(encoding="utf-8"))
    assert first_data["findings"][0]["source"] == "deterministic"

    files = load_review_files(tmp_path, "z-image")
    assert [essentials(f.review()) for f in files] == [essentials(first), essentials(second)]
    rows = finding_rows(files)
    assert [(r["iteration"], r["title"], r["status"]) for r in rows] == [
        (1, "Notebook missing", "fixed"),
        (1, "Prompt Enhancer explanation is shallow", "fixed"),
        (1, "Flux.2 Dev reference may be incorrect", "fixed"),
        (2, "Aside repeats body text", "accepted"),  # POLISH only: the lesson passed with it
    ]
    # writing iteration 1 again (a restarted run) sets the later iteration's files aside,
    # never deletes them: reviews/z-image/superseded/<time>/ keeps them, byte for byte
    before = {p.name: p.read_bytes() for p in folder.glob("iteration-2.*")}
    write_review_files(tmp_path, "z-image", first)
    assert sorted(p.name for p in folder.glob("iteration-*")) == [
        "iteration-1.json",
        "iteration-1.md",
    ]
    (aside,) = (folder / "superseded").iterdir()
    assert {p.name: p.read_bytes() for p in aside.iterdir()} == before
