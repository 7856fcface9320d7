"""`author lesson z-image` on the embedded model: time, model calls and tokens per phase; then
the same run again with the response cache warm.

    .venv/bin/python benchmarks/lesson_embedded.py [--keep DIR] [--lenient-json]

Works on a temp copy of the example course with the seed z-image planning document
(``../shared/seeds/004``, plus the Practice section its review names), so the run is the
lesson half: build -> review -> revise ... -> record. Prints one row per phase (runs,
wall time, model calls, cache hits, tokens in/out), the verdict per iteration, and for
the warm re-run the model calls (target: 0) and the wall time (target: under 3 s).

``--lenient-json`` accepts raw control characters (newlines) inside JSON strings: the
llama-cpp-python grammar for a string is ``[^"\\\\]``, so the embedded model can write a raw
newline in a code field, which strict JSON parsing refuses. Until the LLM layer parses
leniently, this flag shows what the run costs once it does.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "build"))

from lesson_samples import SEED_004, make_course

from lesson_author.pipeline.lesson_graph import LessonRunResult, run_lesson
from lesson_author.pipeline.run import llm_config


def lenient_json() -> None:
    """Let validate_reply accept raw control characters inside strings (see the module doc)."""
    from pydantic import ValidationError

    from lesson_author.llm import base

    strict = base.validate_reply

    def validate(text, schema):  # type: ignore[no-untyped-def]
        result = strict(text, schema)
        if not isinstance(result, str) or text is None:
            return result
        try:
            data = json.loads(base._strip_code_fence(text), strict=False)
            return schema.model_validate(data)
        except (ValueError, ValidationError):
            return result

    base.validate_reply = validate  # type: ignore[assignment]


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
    parser.add_argument("--lenient-json", action="store_true")
    args = parser.parse_args()
    if not SEED_004.is_file():
        sys.exit(f"needs the seed documents at {SEED_004.parent} (../shared)")
    if args.lenient_json:
        lenient_json()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lesson-embedded-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        root = folder / "lessons"
        if not root.exists():
            make_course(folder)
        config = llm_config(root)
        cold = run_lesson("z-image", records_dir=root, config=config, restart=True)
        report("cold run (embedded model)", cold)
        started = time.perf_counter()
        warm = run_lesson("z-image", records_dir=root, config=llm_config(root))
        report("warm re-run (response cache)", warm)
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
