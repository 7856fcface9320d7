"""Prerequisite audit agreement: computed actual depth and OK/GAP vs a real plan's table.

For each row of the seed z-image document's Prerequisites Table, the audit
(analyze.audit_prerequisite) looks the concept up in the student state of the
corpus as it was before z-image (module 7.4 record = seed 002) and computes the
actual depth and the status. Printed: agreement on status, on actual depth, and
every row that differs with the record row it matched, so a disagreement can
be judged (the reference table was written by hand; the records are the truth).
The same for three more corpus lessons against their own documents.

    .venv/bin/python benchmarks/prerequisite_audit.py [--lessons z-image,...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from orient_recall import CORPUS, corpus_before_z_image, reference_plan

from lesson_author.course.knowledge import student_state
from lesson_author.course.models import Depth
from lesson_author.course.tree import CourseTree
from lesson_author.state import _weights, audit_prerequisite, lesson_numbers, match_known

DEFAULT_LESSONS = ("z-image", "sd3-and-flux", "diffusion-transformers", "flow-matching")
TARGET = 0.9


def measure(tree: CourseTree, slug: str) -> tuple[int, int, int, list[str]]:
    student = student_state(tree, slug)
    numbers = lesson_numbers(tree.lessons_in_order())
    weights = _weights(student)
    rows = [p for p in reference_plan(tree, slug).prerequisites if p.required is not None]
    status_ok = depth_ok = 0
    differences = []
    for ref in rows:
        got = audit_prerequisite(ref.concept, ref.required, "", student, numbers, weights)
        ref_status = "GAP" if "GAP" in ref.status.upper() else "OK"
        ref_actual = ref.actual or Depth.parse(ref.source)  # some tables swap two columns
        note = ""
        if ref_actual is not None and ref_status != ("OK" if ref_actual >= ref.required else "GAP"):
            note = " (the document's status contradicts its own depths)"
        same_status = got.status == ref_status
        same_depth = got.actual == ref_actual
        status_ok += same_status
        depth_ok += same_depth
        if not (same_status and same_depth):
            match = match_known(ref.concept, student, weights)
            found = (
                f"{match.concept.concept[:70]!r} ({match.concept.lesson})"
                if match
                else "no record row"
            )
            differences.append(
                f"{ref.concept[:60]!r}: document {ref_actual}/{ref_status} "
                f"[{ref.source}], records {got.actual}/{got.status} <- {found}{note}"
            )
    return len(rows), status_ok, depth_ok, differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default=",".join(DEFAULT_LESSONS))
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is not there (the corpus lives in ../shared)")
        return 0
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tree = CourseTree.open(corpus_before_z_image(Path(tmp)))
        print(f"{'lesson':<24} {'rows':>5} {'status agrees':>14} {'depth agrees':>13}")
        for slug in args.lessons.split(","):
            total, status_ok, depth_ok, differences = measure(tree, slug)
            share = status_ok / total if total else 1.0
            flag = "" if share >= TARGET else "  <-- status below target"
            if slug == "z-image":
                ok = ok and share >= TARGET
            print(
                f"{slug:<24} {total:>5} {status_ok:>6} ({share:4.0%}) "
                f"{depth_ok:>5} ({depth_ok / total if total else 1:4.0%}){flag}"
            )
            for line in differences:
                print(f"{'':<26}{line}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
