"""Parse + validate the whole corpus the way ``author check`` does; print files/s and MB/s.

    .venv/bin/python benchmarks/records_corpus.py [RECORDS_DIR]

Each run opens a fresh :class:`CourseTree` (no parse cache carried over), so a
run is: read + parse every record file, then every check.  Also timed, each
on a fresh tree: ``author records --check`` (regenerate: parse + derive) and
the student state before z-image.  Figures are the median of 5 runs.
Target (issue 2): the whole corpus (6.5 MB) parsed and validated in under 1 s
on one core.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lesson_author.course.check import TextScans, check_tree
from lesson_author.course.knowledge import student_state
from lesson_author.course.records import regenerate
from lesson_author.course.tree import CourseTree

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "courseai-records"
RUNS = 5


def median_seconds(job: Callable[[CourseTree], object], root: Path) -> float:
    times = []
    for _ in range(RUNS):
        tree = CourseTree.open(root)
        start = time.perf_counter()
        job(tree)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not root.is_dir():
        print(f"no records tree at {root} (pass one as the first argument)", file=sys.stderr)
        return 2
    tree = CourseTree.open(root)
    files = tree.record_files()
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    scans = TextScans()
    problems = len(check_tree(tree, scans=scans))  # also fills the scans for the warm runs

    check_s = median_seconds(lambda t: check_tree(t, text=False), root)
    print(f"corpus: {len(files)} record files, {size_mb:.2f} MB ({root})")
    print(
        f"parse + validate (author check): {check_s * 1000:.0f} ms median of {RUNS} "
        f"-> {len(files) / check_s:.0f} files/s, {size_mb / check_s:.1f} MB/s "
        f"({problems} problems) [target < 1000 ms]"
    )
    warm_s = median_seconds(lambda t: check_tree(t, scans=scans), root)
    print(
        f"  + degenerate-text scan, unchanged files (scans kept in .author/): "
        f"{warm_s * 1000:.0f} ms median of {RUNS}"
    )
    start = time.perf_counter()
    check_tree(CourseTree.open(root), scans=TextScans())
    print(
        f"  + degenerate-text scan, first run (every file scanned): "
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    regen_s = median_seconds(regenerate, root)
    print(f"parse + regenerate (author records --check): {regen_s * 1000:.0f} ms median of {RUNS}")
    if (root / "series-7" / "plan.md").is_file():
        state_s = median_seconds(lambda t: student_state(t, "z-image"), root)
        print(f"parse + student state before z-image: {state_s * 1000:.0f} ms median of {RUNS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
