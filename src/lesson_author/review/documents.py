"""Where a review is written: the planning document and ``reviews/<slug>/``.

* The planning document grows a ``## Review -- DATE (Iteration N/M)`` section
  per iteration, before ``## Checklists`` (the seed's layout).  It is done on
  the models: parse, put the review in ``plan.reviews``, render.  Writing
  iteration N replaces any review numbered N or later (a restarted run
  rewrites its iterations instead of appending duplicates).
* ``reviews/<slug>/iteration-N.md`` holds the same section text;
  ``iteration-N.json`` holds the review for tools, with each finding's source
  (``deterministic`` or ``reviewer``) and, from iteration 2, whether each
  earlier finding is fixed.  Review files are never deleted or overwritten:
  ``author review`` numbers its review after every iteration on disk
  (:func:`next_iteration`), and when a restarted run writes an iteration that
  exists with other content, the existing files of that and later iterations
  are moved to ``reviews/<slug>/superseded/<time>/`` first.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from lesson_author.checks.registry import is_deterministic
from lesson_author.course.models import Finding, LessonPlan, Review, Severity, Verdict
from lesson_author.course.tree import write_atomic
from lesson_author.review.findings import Verification
from lesson_author.workspace import reviews_dir as _reviews_dir

_ITERATION_FILE = re.compile(r"iteration-(\d+)\.(md|json)$")


def with_review(plan: LessonPlan, review: Review) -> LessonPlan:
    """``plan`` with ``review`` as its last review; reviews numbered ``review.iteration`` or later go."""
    n = review.iteration or len(plan.reviews) + 1
    kept = [r for r in plan.reviews if (r.iteration or 0) < n]
    return plan.model_copy(update={"reviews": [*kept, review]})


def append_review_to_plan(plan_path: Path, review: Review) -> LessonPlan:
    """Write ``review`` into the planning document at ``plan_path``; the updated plan."""
    from lesson_author.course.parse import parse_lesson_plan, read_text
    from lesson_author.course.render import render_lesson_plan

    plan = parse_lesson_plan(read_text(plan_path), plan_path)
    updated = with_review(plan, review)
    write_atomic(plan_path, render_lesson_plan(updated))
    return updated


# ---------------------------------------------------------------- reviews/<slug>/


class FindingEntry(BaseModel):
    severity: Severity
    rule: str | None = None  # the deterministic rule's id; None for the reviewer's findings
    title: str
    location: str = ""
    issue: str = ""
    student_impact: str = ""
    suggested_fix: str = ""
    source: str = Field(description="'deterministic' or 'reviewer'")


class VerificationEntry(BaseModel):
    severity: Severity
    title: str
    fixed: bool
    how: str
    note: str = ""
    location: str = ""  # with rule: the earlier finding's identity (older files: title only)
    rule: str | None = None

    def verification(self) -> Verification:
        earlier = Finding(
            severity=self.severity, rule=self.rule, title=self.title, location=self.location
        )
        return Verification(earlier, fixed=self.fixed, how=self.how, note=self.note)


class ReviewFile(BaseModel):
    """``reviews/<slug>/iteration-N.json``."""

    slug: str
    date: str
    iteration: int
    of: int
    verdict: Verdict
    counts: dict[str, int]
    findings: list[FindingEntry] = Field(default_factory=list)
    verification: list[VerificationEntry] = Field(default_factory=list)
    notes: str = ""

    def review(self) -> Review:
        return Review(
            date=self.date,
            iteration=self.iteration,
            of=self.of,
            counts={Severity(k): v for k, v in self.counts.items()},
            verdict=self.verdict,
            findings=[Finding(**f.model_dump(exclude={"source"})) for f in self.findings],
            notes=self.notes,
        )


def review_file(slug: str, review: Review, statuses: Sequence[Verification] = ()) -> ReviewFile:
    return ReviewFile(
        slug=slug,
        date=review.date,
        iteration=review.iteration or 1,
        of=review.of or 3,
        verdict=review.verdict or review.computed_verdict(),
        counts={s.value: int(review.counts.get(s, 0)) for s in Severity.__members__.values()},
        findings=[
            FindingEntry(
                **f.model_dump(exclude={"line"}),
                source="deterministic" if is_deterministic(f) else "reviewer",
            )
            for f in review.findings
        ],
        verification=[
            VerificationEntry(
                severity=s.finding.severity,
                title=s.finding.title,
                location=s.finding.location,
                rule=s.finding.rule,
                fixed=bool(s.fixed),
                how=s.how,
                note=s.note,
            )
            for s in statuses
        ],
        notes=review.notes,
    )


def reviews_dir(project_root: Path, slug: str) -> Path:
    return _reviews_dir(project_root, slug)


def iterations_on_disk(project_root: Path, slug: str) -> list[int]:
    """The iteration numbers that have a file in ``reviews/<slug>/``, ascending."""
    folder = reviews_dir(project_root, slug)
    if not folder.is_dir():
        return []
    found = {int(m.group(1)) for p in folder.iterdir() if (m := _ITERATION_FILE.fullmatch(p.name))}
    return sorted(found)


def next_iteration(project_root: Path, slug: str, plan: LessonPlan) -> int:
    """The number of a new review: after every review of the planning document and every
    iteration file on disk (a planning document cut short keeps its history on disk)."""
    numbers = [r.iteration or k for k, r in enumerate(plan.reviews, start=1)]
    return max([0, *numbers, *iterations_on_disk(project_root, slug)]) + 1


def _same_text(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, ValueError):
        return False


def _set_aside(folder: Path, names: Sequence[str]) -> Path:
    """Move ``names`` out of ``folder`` into a new ``superseded/<time>/`` folder (renames:
    nothing is deleted or overwritten); the folder they went to."""
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = folder / "superseded"
    target = base / stamp
    k = 1
    while target.exists():
        k += 1
        target = base / f"{stamp}-{k}"
    target.mkdir(parents=True)
    for name in names:
        os.replace(folder / name, target / name)
    return target


def write_review_files(
    project_root: Path, slug: str, review: Review, statuses: Sequence[Verification] = ()
) -> list[Path]:
    """Write ``iteration-N.md`` and ``.json``; the paths written.

    Never deletes or overwrites a review file: files of iteration N (with other content)
    or later are first moved to ``superseded/<time>/`` (a restarted run); writing the
    same text again (a resumed run) is a no-op."""
    from lesson_author.course.render import render_review

    folder = reviews_dir(project_root, slug)
    folder.mkdir(parents=True, exist_ok=True)
    n = review.iteration or 1
    md = folder / f"iteration-{n}.md"
    js = folder / f"iteration-{n}.json"
    md_text = render_review(review).rstrip("\n") + "\n"
    data = review_file(slug, review, statuses).model_dump(mode="json")
    js_text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    in_the_way = []
    for old in sorted(folder.iterdir()):
        m = _ITERATION_FILE.fullmatch(old.name)
        if not m or int(m.group(1)) < n:
            continue
        if int(m.group(1)) == n and _same_text(old, md_text if old == md else js_text):
            continue
        in_the_way.append(old.name)
    if in_the_way:
        _set_aside(folder, in_the_way)
    write_atomic(md, md_text)
    write_atomic(js, js_text)
    return [md, js]


def load_review_files(project_root: Path, slug: str) -> list[ReviewFile]:
    """Every ``iteration-N.json`` of the lesson, in iteration order (unreadable files skipped)."""
    folder = reviews_dir(project_root, slug)
    if not folder.is_dir():
        return []
    found: list[tuple[int, ReviewFile]] = []
    for path in folder.glob("iteration-*.json"):
        m = _ITERATION_FILE.fullmatch(path.name)
        if not m:
            continue
        try:
            found.append(
                (int(m.group(1)), ReviewFile.model_validate_json(path.read_text(encoding="utf-8")))
            )
        except (OSError, ValueError):
            continue
    return [f for _, f in sorted(found, key=lambda x: x[0])]


def finding_rows(files: Sequence[ReviewFile]) -> list[dict[str, Any]]:
    """One row per finding of every iteration, with its status now (fixed, carried, open,
    accepted) and why, by the rule of :mod:`lesson_author.review.status`."""
    from .status import finding_rows as status_rows

    checks = {f.iteration: [v.verification() for v in f.verification] for f in files}
    sources = [{x.title: x.source for x in f.findings} for f in files]
    numbers = {f.iteration: k for k, f in enumerate(files)}
    return [
        {
            "iteration": row.iteration,
            "status": row.status,
            "status_note": row.status_note,
            "severity": row.severity.value,
            "title": row.title,
            "location": row.location,
            "issue": row.issue,
            "student_impact": row.student_impact,
            "suggested_fix": row.suggested_fix,
            "source": sources[numbers[row.iteration]].get(row.title, ""),
        }
        for row in status_rows([f.review() for f in files], checks)
    ]
