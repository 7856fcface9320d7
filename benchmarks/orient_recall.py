"""Orient recall: does the deterministic candidate set hold the concepts a real plan relied on?

On a copy of ../shared/corpus/courseai-records with module 7.4 set back to its
record before z-image (seed 002) and z-image.md removed, the load node's
candidate rows for z-image are compared with the seed z-image document's
"Relevant Concepts the Student Has" table, matched by the concept's lesson and
name; the same for three more corpus lessons against their own documents.
Rows the reference marks NOT TAUGHT have no record row to find and are left
out of the denominator. Prints recall and the orient prompt's size
(tokens ~ characters / 4; with the embedded model's tokenizer when
`--tokenizer` is given and llama-cpp-python is installed).

    .venv/bin/python benchmarks/orient_recall.py [--lessons z-image,sd3-and-flux,...] [--tokenizer]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lesson_author.course.models import Depth, LessonPlan
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.course.tree import CourseTree
from lesson_author.llm.config import LLMConfig
from lesson_author.pipeline.context import RunContext
from lesson_author.pipeline.load import load_node
from lesson_author.pipeline.orient import (
    candidate_budget,
    concept_name,
    orient_messages,
    tokens,
)
from lesson_author.pipeline.state import ConceptFact, LessonState

SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "courseai-records"
SEED_BEFORE = SHARED / "seeds" / "002_583086d69e78ccc8.txt"
SEED_PLAN = SHARED / "seeds" / "004_f37c31f4a5f7254a.txt"
DEFAULT_LESSONS = ("z-image", "sd3-and-flux", "diffusion-transformers", "flow-matching")
PROMPT_LIMIT = 8000
MIN_NAME_COVERAGE = 0.5


@dataclass
class LessonFigures:
    slug: str
    reference: int
    found: int
    unresolved_sources: int
    candidates: int
    prompt_chars: int
    prompt_tokens: int
    missed: list[str]

    @property
    def recall(self) -> float:
        return self.found / self.reference if self.reference else 1.0


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


def source_scope(source: str, tree: CourseTree) -> tuple[set[str], set[str]] | None:
    """(lesson slugs, module ids) a reference row's Source names; None when it names none we know."""
    slugs = {loc.slug for loc in tree.lessons_in_order()}
    lessons = {w for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+|[a-z]{3,}", source) if w in slugs}
    named = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", source)
    modules = set()
    if not named:  # "Series 5.1 (Advanced Alignment)": a module, not a lesson
        modules = set(re.findall(r"\b(\d+\.\d+)\b(?!\.\d)", source))
    if not lessons and not modules:
        return None
    return lessons, modules


def name_matches(reference: str, candidate: str) -> bool:
    ref_head = set(tokens(concept_name(reference)))
    cand_full = set(tokens(candidate))
    cand_head = set(tokens(concept_name(candidate)))
    ref_full = set(tokens(reference))
    forward = len(ref_head & cand_full) / len(ref_head) if ref_head else 0.0
    backward = len(cand_head & ref_full) / len(cand_head) if cand_head else 0.0
    return max(forward, backward) >= MIN_NAME_COVERAGE


def measure(
    tree: CourseTree, slug: str, tokenizer: Any = None, budget: int | None = None
) -> LessonFigures:
    location = tree.locate(slug)
    run = RunContext(
        tree=tree,
        location=location,
        provider=SimpleNamespace(name="none", model="none"),  # type: ignore[arg-type]
        project_root=tree.root.parent,
        force=True,  # only load runs here; nothing is written
        candidate_tokens=budget,
    )
    update = load_node(LessonState(slug=slug), run)
    state = LessonState(
        slug=slug, lesson=update["lesson"], module=update["module"], candidates=update["candidates"]
    )
    candidates: list[ConceptFact] = state.candidates
    reference = [
        r for r in reference_plan(tree, slug).relevant_concepts if r.depth is not Depth.NOT_TAUGHT
    ]
    found = 0
    unresolved = 0
    missed = []
    for row in reference:
        scope = source_scope(row.source, tree)
        if scope is None:
            unresolved += 1
            pool = candidates
        else:
            lessons, modules = scope
            pool = [c for c in candidates if c.lesson in lessons or c.module in modules]
        if any(name_matches(row.concept, c.concept) for c in pool):
            found += 1
        else:
            missed.append(f"{concept_name(row.concept)} [{row.source}]")
    messages = orient_messages(state, run)
    text = "\n".join(m["content"] for m in messages)
    if tokenizer is not None:
        prompt_tokens = len(tokenizer(text.encode("utf-8"), add_bos=False, special=False))
    else:
        prompt_tokens = (len(text) + 3) // 4
    return LessonFigures(
        slug=slug,
        reference=len(reference),
        found=found,
        unresolved_sources=unresolved,
        candidates=len(candidates),
        prompt_chars=len(text),
        prompt_tokens=prompt_tokens,
        missed=missed,
    )


def load_tokenizer() -> Any:
    try:
        from lesson_author.llm.config import LLMConfig
        from lesson_author.llm.local_provider import LocalProvider, load_model
    except ImportError:
        return None
    provider = LocalProvider(LLMConfig(provider="local", cache=False))
    loaded = load_model(provider.path, 8192)
    return loaded.llama.tokenize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default=",".join(DEFAULT_LESSONS))
    parser.add_argument(
        "--tokenizer", action="store_true", help="count tokens with the embedded model"
    )
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is not there (the corpus lives in ../shared)")
        return 0
    tokenizer = load_tokenizer() if args.tokenizer else None
    unit = "tokens (model tokenizer)" if tokenizer else "tokens (chars/4)"
    with tempfile.TemporaryDirectory() as tmp:
        tree = CourseTree.open(corpus_before_z_image(Path(tmp)))
        slugs = args.lessons.split(",")
        rows = [measure(tree, slug, tokenizer) for slug in slugs]
        local_budget = candidate_budget(LLMConfig().n_ctx)
        small = [measure(tree, slug, tokenizer, local_budget) for slug in slugs]
    print(f"{'lesson':<24} {'recall':>7} {'found':>7} {'cands':>6} {'prompt ' + unit:>28}")
    ok = True
    for r in rows:
        flag = "" if r.recall >= 0.9 and r.prompt_tokens < PROMPT_LIMIT else "  <-- below target"
        ok = ok and not flag
        print(
            f"{r.slug:<24} {r.recall:7.0%} {r.found:>3}/{r.reference:<3} {r.candidates:>6} "
            f"{r.prompt_tokens:>28}{flag}"
        )
        if r.unresolved_sources:
            print(
                f"{'':<24} ({r.unresolved_sources} reference row(s) cite a lesson the course does not have; matched by name)"
            )
        for miss in r.missed:
            print(f"{'':<24} missed: {miss}")
    print()
    print(
        f"with the embedded model's context window ({LLMConfig().n_ctx} tokens): candidate budget {local_budget}"
    )
    for r in small:
        print(
            f"{r.slug:<24} {r.recall:7.0%} {r.found:>3}/{r.reference:<3} {r.candidates:>6} {r.prompt_tokens:>28}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
