"""What the lesson half of the pipeline costs without a model: graph, checks, files, records.

    .venv/bin/python benchmarks/lesson_overhead.py [--runs 5]

Runs build -> review -> revise -> review -> revise -> review -> record (three review
iterations, none PASS, the most work the loop does) on a temp copy of the example
course with the seed z-image plan, with an instant scripted provider, and prints the
median and worst wall time of the whole graph, the per-node split of the median run,
and the model calls made. Target: the whole graph under 2 s. Needs ../shared (the seed).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lesson"))

from lesson_samples import SEED_004, make_course, reviewer_says, scripted_author

from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline.runner import run_lesson

TARGET_S = 2.0


def one_run() -> tuple[float, dict[str, float], int]:
    still_bad = reviewer_says(("IMPROVEMENT", "Prompt Enhancer explanation is shallow", "6"))
    provider = ScriptedProvider(scripted_author([still_bad] * 3))
    folder = Path(tempfile.mkdtemp(prefix="lesson-overhead-"))
    try:
        root = make_course(folder)
        started = time.perf_counter()
        result = run_lesson("z-image", records_dir=root, config=provider, today="2026-02-20")
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert len(result.reviews) == 3 and not result.passed
    split: dict[str, float] = {}
    for n in result.nodes:
        split[n.node] = split.get(n.node, 0.0) + n.elapsed_s
    return elapsed, split, sum(provider.calls.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not SEED_004.is_file():
        sys.exit(f"needs the seed documents at {SEED_004.parent} (../shared)")
    one_run()  # warm imports, jinja2 and pydantic caches
    runs = sorted((one_run() for _ in range(args.runs)), key=lambda r: r[0])
    times = [r[0] for r in runs]
    median_run = runs[len(runs) // 2]
    print(f"lesson graph, 3 iterations, instant model: {args.runs} runs")
    print(
        f"  median {statistics.median(times):.3f} s   worst {max(times):.3f} s   "
        f"target < {TARGET_S:.1f} s: {'met' if max(times) < TARGET_S else 'NOT met'}"
    )
    print(f"  model calls per run: {median_run[2]}")
    print("  per node (median run):")
    for node, seconds in median_run[1].items():
        print(f"    {node:<8} {seconds:.3f} s")


if __name__ == "__main__":
    main()
