"""Orient recall on the seed z-image plan: the candidate set before z-image was planned.

The corpus-wide figures are benchmarks/state_corpus.py; this one keeps the case
the seeds describe: on a copy of ../shared/corpus/courseai-records with module
7.4 set back to its record before z-image (seed 002) and z-image.md removed,
the candidate rows (lesson_author.state.lesson_state) are compared with the
seed z-image document's "Relevant Concepts the Student Has" table (seed 004),
matched by source lesson and name; NOT TAUGHT rows are left out. Printed for
the default budget and for the embedded model's context window.

    .venv/bin/python benchmarks/orient_recall.py [--lessons z-image,sd3-and-flux,...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from state_corpus import CORPUS, SHARED, Figures, measure

from lesson_author.course.models import LessonPlan
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.course.tree import CourseTree
from lesson_author.llm.config import LLMConfig
from lesson_author.state import CANDIDATE_TOKEN_BUDGET, candidate_budget

SEED_BEFORE = SHARED / "seeds" / "002_583086d69e78ccc8.txt"
SEED_PLAN = SHARED / "seeds" / "004_f37c31f4a5f7254a.txt"
DEFAULT_LESSONS = ("z-image", "sd3-and-flux", "diffusion-transformers", "flow-matching")
PROMPT_LIMIT = 8000


def corpus_before_z_image(target: Path) -> Path:
    """A writable copy of the corpus as it was before z-image was planned."""
    records = target / "records"
    shutil.copytree(CORPUS, records)
    module = records / "series-7" / "module-7-4"
    shutil.copyfile(SEED_BEFORE, module / "record.md")
    (module / "lessons" / "z-image.md").unlink(missing_ok=True)
    return records


def reference_plan(tree: CourseTree, slug: str) -> LessonPlan:
    if slug == "z-image":
        return parse_lesson_plan(SEED_PLAN.read_text(encoding="utf-8"), SEED_PLAN)
    path = tree.lesson_plan_path(slug)
    if path is None:
        raise SystemExit(f"{slug}: no planning document in the corpus")
    return tree.lesson_plan_at(path)


def measure_lesson(tree: CourseTree, slug: str, budget: int = CANDIDATE_TOKEN_BUDGET) -> Figures:
    slugs = {loc.slug for loc in tree.lessons_in_order()}
    return measure(tree, slug, reference_plan(tree, slug), slugs, token_budget=budget)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default=",".join(DEFAULT_LESSONS))
    args = parser.parse_args(argv)
    if not CORPUS.is_dir() or not SEED_PLAN.is_file():
        print(f"skipped: {CORPUS} or the seeds are not there (they live in ../shared)")
        return 0
    ok = True
    local = candidate_budget(LLMConfig().n_ctx)
    with tempfile.TemporaryDirectory() as tmp:
        tree = CourseTree.open(corpus_before_z_image(Path(tmp)))
        for label, budget in (("default budget", CANDIDATE_TOKEN_BUDGET), ("embedded", local)):
            print(f"{label} ({budget} candidate tokens)")
            print(f"{'lesson':<24} {'recall':>7} {'found':>7} {'prompt tokens':>14}")
            for slug in args.lessons.split(","):
                r = measure_lesson(tree, slug, budget)
                flag = ""
                if budget == CANDIDATE_TOKEN_BUDGET and (
                    r.recall < 0.9 or r.prompt_tokens >= PROMPT_LIMIT
                ):
                    flag, ok = "  <-- below target", False
                print(
                    f"{slug:<24} {r.recall:7.0%} {r.recalled:>3}/{r.relevant:<3} "
                    f"{r.prompt_tokens:>14}{flag}"
                )
                for miss in r.missed:
                    print(f"{'':<24} missed: {miss}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
