"""`author plan z-image` on the example course with the embedded model: time and tokens per node.

Runs on a copy of lessons/ (so the example course keeps no generated plan),
with the response cache off unless --cache is given, then checks what a user
would: the planning document parses back with the records parser, `author check`
reports nothing for it, and which checklist items the small model left unchecked.

    .venv/bin/python benchmarks/plan_embedded.py [--slug z-image] [--cache] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lesson_author.cli_present import RichProgress
from lesson_author.course.check import check_tree
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.course.tree import CourseTree
from lesson_author.llm.config import load_config
from lesson_author.pipeline.runner import run_plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slug", default="z-image")
    parser.add_argument(
        "--cache", action="store_true", help="use the response cache (warm re-runs)"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="plan-embedded-"))
    records = work / "lessons"
    if not records.exists():
        shutil.copytree(ROOT / "lessons", records)
        (records / "series-7" / "module-7-4" / "lessons" / f"{args.slug}.md").unlink(
            missing_ok=True
        )
    config = load_config(provider="local", cache=args.cache, project_root=work)
    started = time.perf_counter()
    result = run_plan(args.slug, records_dir=records, config=config, progress=RichProgress())
    wall = time.perf_counter() - started

    print(f"\nauthor plan {args.slug} on the embedded model ({config.model}): {wall:.1f} s wall")
    print(f"{'node':<16} {'seconds':>8} {'calls':>6} {'tokens in':>10} {'tokens out':>11}")
    for n in result.nodes:
        label = n.node if n.attempt == 1 else f"{n.node}*"
        print(
            f"{label:<16} {n.elapsed_s:8.1f} {n.calls:>6} {n.prompt_tokens:>10} {n.completion_tokens:>11}"
        )
    total = result.usage.total()
    print(
        f"{'total':<16} {wall:8.1f} {total.calls:>6} {total.prompt_tokens:>10} {total.completion_tokens:>11}"
    )
    print("per phase (model calls):")
    for row in result.usage.summarize():
        print(
            f"  {row.phase:<24} {row.calls:>3} calls {row.latency_s:7.1f} s "
            f"{row.prompt_tokens:>7} in {row.completion_tokens:>6} out"
        )

    path = work / result.plan_path if result.plan_path else None
    ok = path is not None and path.is_file()
    if ok and path is not None:
        plan = parse_lesson_plan(path.read_text(encoding="utf-8"), path)
        problems = [
            p
            for p in check_tree(CourseTree.open(records))
            if Path(p.path).resolve() == path.resolve()
        ]
        print(
            f"document: {path} ({len(path.read_text(encoding='utf-8'))} chars), parsed back: "
            f"{len(plan.prerequisites)} prerequisites, {len(plan.outline)} outline sections, "
            f"{len(plan.exercises())} exercises"
        )
        print(f"author check on it: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        ok = not problems
    print(f"checklists: {len(result.checks) - len(result.unchecked)}/{len(result.checks)} checked")
    for check in result.unchecked:
        print(f"  [ ] {check.text}: {check.detail}")
    if not args.keep:
        print(f"(work folder {work} kept for inspection)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
