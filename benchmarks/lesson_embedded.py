"""`author lesson z-image` on the embedded model: time, model calls and tokens per phase; then
the same run again with the response cache warm.

    .venv/bin/python benchmarks/lesson_embedded.py [--keep DIR]

Works on a temp copy of the example course with the seed z-image planning document
(``../shared/seeds/004``, plus the Practice section its review names), so the run is the
lesson half: build -> review -> revise ... -> record. Prints one row per phase (runs,
wall time, model calls, cache hits, tokens in/out), the verdict per iteration, and for
the warm re-run the model calls (target: 0) and the wall time (target: under 3 s).

The warm re-run starts from a fresh copy of the course with the cold run's
``.author/cache.sqlite`` beside it: the same inputs, so every reply should come from the
cache. (Re-running in the cold run's own folder would not be the same inputs: its planning
document now carries the cold run's reviews.)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lesson"))

from lesson_samples import SEED_004, make_course

from lesson_author.llm.config import CACHE_RELATIVE_PATH
from lesson_author.pipeline.runner import LessonRunResult, llm_config, run_lesson


def report(title: str, result: LessonRunResult) -> None:
    print(f"\n{title}: {result.elapsed_s:.1f} s, status {result.status}")
    print(
        f"  {'phase':<8} {'runs':>4} {'wall s':>8} {'calls':>6} {'cached':>6} {'tok in':>8} {'tok out':>8}"
    )
    phases: dict[str, list] = {}
    for n in result.nodes:
        phases.setdefault(n.node, []).append(n)
    for name, runs in phases.items():
        print(
            f"  {name:<8} {len(runs):>4} {sum(r.elapsed_s for r in runs):>8.1f} "
            f"{sum(r.calls for r in runs):>6} {sum(r.cache_hits for r in runs):>6} "
            f"{sum(r.prompt_tokens for r in runs):>8} {sum(r.completion_tokens for r in runs):>8}"
        )
    for r in result.reviews:
        counts = ", ".join(f"{n} {s.value}" for s, n in r.counts.items() if n) or "no findings"
        print(
            f"  iteration {r.iteration}/{r.of}: {r.verdict.value if r.verdict else '?'} ({counts})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()
    if not SEED_004.is_file():
        sys.exit(f"needs the seed documents at {SEED_004.parent} (../shared)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lesson-embedded-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        cold_dir, warm_dir = folder / "cold", folder / "warm"
        for where in (cold_dir, warm_dir):
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir()
            make_course(where)
        cold_root = cold_dir / "lessons"
        cold = run_lesson("z-image", records_dir=cold_root, config=llm_config(cold_root))
        report("cold run (embedded model)", cold)
        (warm_dir / CACHE_RELATIVE_PATH).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cold_dir / CACHE_RELATIVE_PATH, warm_dir / CACHE_RELATIVE_PATH)
        warm_root = warm_dir / "lessons"
        started = time.perf_counter()
        warm = run_lesson("z-image", records_dir=warm_root, config=llm_config(warm_root))
        report("warm re-run (fresh copy, the cold run's response cache)", warm)
        calls = sum(n.calls for n in warm.nodes)
        wall = time.perf_counter() - started
        print(
            f"\nwarm re-run: {calls} model calls (target 0), {wall:.2f} s (target < 3 s): "
            f"{'met' if calls == 0 and wall < 3 else 'NOT met'}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
