"""Parse and validate a whole records tree; print files/s and MB/s (median of 5 runs).

    python benchmarks/parse_corpus.py [RECORDS_DIR] [--runs N]

Defaults to ../shared/corpus/courseai-records (6.5 MB, 159 files).  Target:
the whole corpus in under 1 s on one core.  "Validate" is the cheap pass
`author check` builds on: every review's verdict against the verdict rule,
every prerequisite's status against its depths, every concept row's depth.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from lesson_author.course.models import LessonPlan, ModuleRecord
from lesson_author.course.parse import kind_of, parse_file

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO.parent / "shared" / "corpus" / "courseai-records"


def validate(model: object) -> int:
    """Problems found by a verdict/depth pass over one parsed document."""
    problems = 0
    if isinstance(model, LessonPlan):
        for review in model.reviews:
            problems += review.verdict is not review.computed_verdict()
        for p in model.prerequisites:
            if p.required is None or p.actual is None:
                problems += p.status.upper().startswith("OK")
            else:
                problems += (p.actual >= p.required) != p.status.upper().startswith("OK")
    elif isinstance(model, ModuleRecord):
        problems += sum(1 for row in model.concepts if row.depth is None)
    return problems


def run(files: list[Path]) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, documents parsed, problems found) of one pass."""
    wall, cpu = time.perf_counter(), time.process_time()
    parsed = problems = 0
    for path in files:
        model = parse_file(path)
        if model is not None:
            parsed += 1
            problems += validate(model)
    return time.perf_counter() - wall, time.process_time() - cpu, parsed, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    if not args.records.is_dir():
        print(f"no records tree at {args.records}", file=sys.stderr)
        return 2
    files = sorted(p for p in args.records.rglob("*.md"))
    size = sum(p.stat().st_size for p in files)
    run(files)  # warm-up: imports, compiled regexes, file cache
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu, parsed, problems = run(files)
        walls.append(wall)
        cpus.append(cpu)
    records = sum(1 for p in files if kind_of(p) is not None)
    print(
        f"{len(files)} files ({records} record documents), {size / 1e6:.2f} MB; "
        f"{parsed} parsed, {problems} verdict/depth problems"
    )
    for name, times in (("wall", walls), ("cpu", cpus)):
        median = statistics.median(times)
        print(
            f"{name:>4} median of {args.runs}: {median:.3f} s  "
            f"({len(files) / median:.0f} files/s, {size / 1e6 / median:.1f} MB/s)  "
            f"runs: {', '.join(f'{t:.3f}' for t in times)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
