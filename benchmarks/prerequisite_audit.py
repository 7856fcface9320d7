"""Prerequisite audit agreement: computed actual depth and OK/GAP vs a real plan's table.

For each row of the seed z-image document's Prerequisites Table, the audit
(analyze.audit_prerequisite) looks the concept up in the student state of the
corpus as it was before z-image (module 7.4 record = seed 002) and computes the
actual depth and the status. Printed: agreement on status, on actual depth, and
every row that differs with the record row it matched, so a disagreement can
be judged (the reference table was written by hand; the records are the truth).
The same for every other lesson document of the corpus against its own rows: the
figures over all rows, the mean and minimum per lesson, and the ten worst lessons.

    .venv/bin/python benchmarks/prerequisite_audit.py [--lessons z-image,...] [--verbose]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from orient_recall import CORPUS, corpus_before_z_image, reference_plan
from state_corpus import source_scope

from lesson_author.course.knowledge import student_state
from lesson_author.course.models import Depth
from lesson_author.course.tree import CourseTree
from lesson_author.state import _weights, audit_prerequisite, lesson_numbers, match_known

TARGET = 0.9


@dataclass
class Audit:
    slug: str
    rows: int = 0
    status_ok: int = 0
    depth_ok: int = 0
    external: int = 0  # rows whose Source names no lesson or module of the course
    external_status_ok: int = 0
    differences: list[str] = field(default_factory=list)


def measure(tree: CourseTree, slug: str) -> Audit:
    student = student_state(tree, slug)
    numbers = lesson_numbers(tree.lessons_in_order())
    weights = _weights(student)
    rows = [p for p in reference_plan(tree, slug).prerequisites if p.required is not None]
    audit = Audit(slug, rows=len(rows))
    for ref in rows:
        got = audit_prerequisite(ref.concept, ref.required, "", student, numbers, weights)
        ref_status = "GAP" if "GAP" in ref.status.upper() else "OK"
        ref_actual = ref.actual or Depth.parse(ref.source)  # some tables swap two columns
        note = ""
        if ref_actual is not None and ref_status != ("OK" if ref_actual >= ref.required else "GAP"):
            note = " (the document's status contradicts its own depths)"
        same_status = got.status == ref_status
        same_depth = got.actual == ref_actual
        audit.status_ok += same_status
        audit.depth_ok += same_depth
        if source_scope(ref.source, set(numbers)) is None:
            audit.external += 1
            audit.external_status_ok += same_status
        if not (same_status and same_depth):
            match = match_known(ref.concept, student, weights)
            found = (
                f"{match.concept.concept[:70]!r} ({match.concept.lesson})"
                if match
                else "no record row"
            )
            audit.differences.append(
                f"{ref.concept[:60]!r}: document {ref_actual}/{ref_status} "
                f"[{ref.source}], records {got.actual}/{got.status} <- {found}{note}"
            )
    return audit


def documents(tree: CourseTree) -> list[str]:
    """Every lesson, in course order, whose planning document has a Prerequisites table (z-image's
    is the seed document)."""
    found = []
    for loc in tree.lessons_in_order():
        path = tree.lesson_plan_path(loc.slug)
        written = loc.slug == "z-image" or (path is not None and path.is_file())
        if written and reference_plan(tree, loc.slug).prerequisites:
            found.append(loc.slug)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default="", help="comma-separated slugs (default: all)")
    parser.add_argument("--verbose", action="store_true", help="print every differing row")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is not there (the corpus lives in ../shared)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tree = CourseTree.open(corpus_before_z_image(Path(tmp)))
        slugs = [s for s in args.lessons.split(",") if s] or documents(tree)
        results = [measure(tree, slug) for slug in slugs]
    measured = [r for r in results if r.rows]
    rows = sum(r.rows for r in measured)
    status_share = sum(r.status_ok for r in measured) / max(1, rows)
    depth_share = sum(r.depth_ok for r in measured) / max(1, rows)
    per_lesson = [r.status_ok / r.rows for r in measured]
    external = sum(r.external for r in measured)
    print(
        f"{len(measured)} lesson documents, {rows} prerequisite rows with a required depth: "
        f"status agrees on {status_share:.1%}, actual depth on {depth_share:.1%}; per lesson "
        f"status mean {statistics.mean(per_lesson):.1%}, min {min(per_lesson):.0%}"
    )
    print(
        f"    {external} rows cite no lesson of the course (prior education: the records cannot "
        f"hold them; status agrees on {sum(r.external_status_ok for r in measured)}); over the "
        f"other rows status agrees on "
        f"{(sum(r.status_ok for r in measured) - sum(r.external_status_ok for r in measured)) / max(1, rows - external):.1%}"
    )
    z = next((r for r in measured if r.slug == "z-image"), None)
    if z is not None:
        print(
            f"z-image (the seed document): status {z.status_ok}/{z.rows}, depth {z.depth_ok}/{z.rows}"
        )
    shown = measured if args.verbose else sorted(measured, key=lambda r: r.status_ok / r.rows)[:10]
    print(f"\n{'lesson':<36} {'rows':>5} {'status agrees':>14} {'depth agrees':>13}")
    for r in shown:
        print(
            f"{r.slug:<36} {r.rows:>5} {r.status_ok:>6} ({r.status_ok / r.rows:4.0%}) "
            f"{r.depth_ok:>5} ({r.depth_ok / r.rows:4.0%})"
        )
        for line in r.differences if args.verbose else r.differences[:3]:
            print(f"{'':<38}{line}")
    met = status_share >= TARGET
    print(f"\ntarget {'met' if met else 'NOT met'}: status agrees on >= {TARGET:.0%} of the rows")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
