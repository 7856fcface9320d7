"""The student state on every lesson of the corpus: candidate recall and computed prerequisites.

For every lesson document in ../shared/corpus/courseai-records that has a
"Relevant Concepts" or a "Prerequisites" table, the state before that lesson
is rebuilt from the records (lesson_author.state.lesson_state: the lesson's
own rows and summary and every later lesson's are not part of it) and compared
with the document the course's author wrote:

(a) candidate recall: the share of the document's "Relevant Concepts" rows
    (NOT TAUGHT rows left out: no record row to find) that a candidate row
    matches, by source lesson (or module) and name; with the orient prompt's
    size in tokens (characters / 4);
(b) computed prerequisites: the share of the document's "Prerequisites" rows
    that a computed row matches by name (and source lesson when it has one),
    and of those, the share whose actual depth agrees (MISSING = NOT TAUGHT).

Prints mean, minimum and the ten worst lessons of each, and the time per
lesson of the state computation. Exit 1 when a target is missed.

    .venv/bin/python benchmarks/state_corpus.py [--lessons a,b] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lesson_author.course.models import Depth, LessonPlan
from lesson_author.course.tree import CourseTree
from lesson_author.state import CANDIDATE_TOKEN_BUDGET, ComputedPrerequisite, lesson_state
from lesson_author.text.words import concept_key, concept_name, tokens

SHARED = Path(os.environ.get("LESSON_AUTHOR_SHARED") or ROOT.parent / "shared")
CORPUS = SHARED / "corpus" / "courseai-records"
RECALL_MEAN, RECALL_MIN, PROMPT_LIMIT = 0.90, 0.70, 8000
FOUND_TARGET, DEPTH_TARGET, SECONDS_LIMIT = 0.85, 0.90, 1.0
MIN_NAME_COVERAGE = 0.5


@dataclass
class Figures:
    slug: str
    relevant: int = 0
    recalled: int = 0
    unreachable: int = 0  # reference rows no record row before the lesson matches by name
    prompt_tokens: int = 0
    prerequisites: int = 0
    computed: int = 0
    computed_taught: int = 0  # computed rows with a record row behind them
    computed_used: int = 0  # of those, rows the document's tables name
    external: int = 0
    found: int = 0
    depth_agrees: int = 0
    known: int = 0  # record rows the student has before the lesson
    bound_found: int = 0  # with every record row offered as computed
    bound_agrees: int = 0
    exact: int = 0  # rows naming a record row exactly (same name before any parenthesis)
    exact_agrees: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    missed: list[str] = field(default_factory=list)
    missed_prereqs: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.recalled / self.relevant if self.relevant else 1.0

    @property
    def found_share(self) -> float:
        return self.found / self.prerequisites if self.prerequisites else 1.0


def source_scope(source: str, slugs: set[str]) -> tuple[set[str], set[str]] | None:
    """(lesson slugs, module ids) a reference row's Source cell names; None when none we know."""
    lessons = {w for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+|[a-z]{3,}", source) if w in slugs}
    modules: set[str] = set()
    if not lessons:  # "Series 5.1 (Advanced Alignment)", "4.2.3": the module
        modules = set(re.findall(r"\b(\d+\.\d+)(?:\.\d+)?\b", source))
    if not lessons and not modules:
        return None
    return lessons, modules


def name_score(reference: str, candidate: str) -> float:
    """The larger share of one name's words the other concept holds."""
    ref_head, ref_full = set(tokens(concept_name(reference))), set(tokens(reference))
    cand_head, cand_full = set(tokens(concept_name(candidate))), set(tokens(candidate))
    forward = len(ref_head & cand_full) / len(ref_head) if ref_head else 0.0
    backward = len(cand_head & ref_full) / len(cand_head) if cand_head else 0.0
    return max(forward, backward)


def same_name(reference: str, candidate: str) -> bool:
    return concept_key(concept_name(reference)) == concept_key(concept_name(candidate))


def name_matches(reference: str, candidate: str) -> bool:
    return name_score(reference, candidate) >= MIN_NAME_COVERAGE


def reference_depth(raw: str, parsed: Depth | None) -> Depth | None:
    if parsed is not None:
        return parsed
    if re.search(r"MISSING|NOT TAUGHT|NONE|^\W*$", raw.upper()):
        return Depth.NOT_TAUGHT
    return None


def pair(
    reference: str,
    scope: tuple[set[str], set[str]] | None,
    rows: list[ComputedPrerequisite],
    in_scope: Callable[[str | None, str, tuple[set[str], set[str]] | None], bool],
) -> ComputedPrerequisite | None:
    """The row that names a document's prerequisite best: by name, then the document's source
    lesson; a row from a lesson the Source cell does not cite is not it."""
    pool = [
        p
        for p in rows
        if name_matches(reference, p.concept)
        and (p.lesson is None or in_scope(p.lesson, p.module, scope))
    ]
    return max(
        pool,
        key=lambda p: (name_score(reference, p.concept), bool(scope and p.lesson in scope[0])),
        default=None,
    )


def measure(
    tree: CourseTree,
    slug: str,
    plan: LessonPlan,
    slugs: set[str],
    token_budget: int = CANDIDATE_TOKEN_BUDGET,
) -> Figures:
    started, cpu = time.perf_counter(), time.process_time()
    state = lesson_state(tree, slug, token_budget=token_budget)
    figures = Figures(
        slug=slug,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
    )
    figures.prompt_tokens = state.prompt_tokens
    figures.computed = len(state.prerequisites)
    figures.known = len(state.student.concepts)
    lesson_module = {loc.slug: loc.module for loc in tree.lessons_in_order()}

    def in_scope(lesson: str | None, module: str, scope: tuple[set[str], set[str]] | None) -> bool:
        if scope is None:
            return True
        lessons, modules = scope
        return lesson in lessons or module in modules or lesson_module.get(lesson or "") in modules

    referenced = [r.concept for r in plan.relevant_concepts] + [
        r.concept for r in plan.prerequisites
    ]
    for p in state.prerequisites:
        if p.lesson:
            figures.computed_taught += 1
            figures.computed_used += any(name_matches(ref, p.concept) for ref in referenced)

    rows = state.candidate_rows()  # the record rows offered (the prompt shortens their text)
    for row in plan.relevant_concepts:
        if row.depth is Depth.NOT_TAUGHT:
            continue
        scope = source_scope(row.source, slugs)
        if scope is None:  # "Prior programming experience": nothing in the records to find
            figures.external += 1
            continue
        figures.relevant += 1
        if any(
            in_scope(c.lesson, c.module, scope) and name_matches(row.concept, c.concept)
            for c in rows
        ):
            figures.recalled += 1
        else:
            reachable = any(
                in_scope(c.lesson, c.module, scope) and name_matches(row.concept, c.concept)
                for c in state.student.concepts
            )
            figures.unreachable += 0 if reachable else 1
            mark = "" if reachable else " (no record row of that name)"
            figures.missed.append(f"{concept_name(row.concept)[:60]} [{row.source[:30]}]{mark}")

    # every record row the student has, offered as if computed: what no selection from the
    # records can beat under the same pairing
    every_row = [
        ComputedPrerequisite(c.concept, c.depth, c.lesson, c.module) for c in state.student.concepts
    ] + [p for p in state.prerequisites if p.lesson is None]
    for ref in plan.prerequisites:
        figures.prerequisites += 1
        actual = reference_depth(ref.actual_raw, ref.actual)
        scope = source_scope(ref.source, slugs) if actual is not Depth.NOT_TAUGHT else None
        bound = pair(ref.concept, scope, every_row, in_scope)
        same = [
            p
            for p in every_row
            if p.lesson
            and in_scope(p.lesson, p.module, scope)
            and same_name(ref.concept, p.concept)
        ]
        if same and actual is not None:
            figures.exact += 1
            figures.exact_agrees += any(p.actual == actual for p in same)
        if bound is not None:
            figures.bound_found += 1
            figures.bound_agrees += actual is None or bound.actual == actual
        match = pair(ref.concept, scope, state.prerequisites, in_scope)
        if match is None:
            figures.missed_prereqs.append(f"{concept_name(ref.concept)[:60]} [{actual}]")
            continue
        figures.found += 1
        if actual is None or match.actual == actual:
            figures.depth_agrees += 1
        else:
            figures.missed_prereqs.append(
                f"{concept_name(ref.concept)[:50]}: {actual} vs {match.actual} ({match.concept[:40]})"
            )
    return figures


def documents(tree: CourseTree) -> list[tuple[str, LessonPlan]]:
    """Every lesson document in the course order that has either table."""
    found = []
    for loc in tree.lessons_in_order():
        path = tree.lesson_plan_path(loc.slug)
        if path is None or not path.is_file():
            continue
        plan = tree.lesson_plan_at(path)
        if plan.relevant_concepts or plan.prerequisites:
            found.append((loc.slug, plan))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", default="", help="comma-separated slugs (default: all)")
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    parser.add_argument(
        "--budget",
        type=int,
        default=CANDIDATE_TOKEN_BUDGET,
        help="candidate-row token budget (the embedded model's window gives 2000)",
    )
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is not there (the corpus lives in ../shared)")
        return 0
    tree = CourseTree.open(CORPUS)
    slugs = {loc.slug for loc in tree.lessons_in_order()}
    chosen = set(filter(None, args.lessons.split(",")))
    rows = [
        measure(tree, slug, plan, slugs, token_budget=args.budget)
        for slug, plan in documents(tree)
        if not chosen or slug in chosen
    ]
    with_relevant = [r for r in rows if r.relevant]
    with_prereqs = [r for r in rows if r.prerequisites]
    recalls = [r.recall for r in with_relevant]
    prompts = [r.prompt_tokens for r in with_relevant]
    found_total = sum(r.found for r in with_prereqs)
    found_share = found_total / max(1, sum(r.prerequisites for r in with_prereqs))
    depth_share = sum(r.depth_agrees for r in with_prereqs) / max(1, found_total)
    seconds = [r.seconds for r in rows]
    print(
        f"{len(rows)} lesson documents with the tables ({len(with_relevant)} with Relevant "
        f"Concepts, {len(with_prereqs)} with Prerequisites)"
    )
    print(
        f"(a) candidate recall: mean {statistics.mean(recalls):.1%}, min {min(recalls):.1%}; "
        f"prompt tokens mean {statistics.mean(prompts):.0f}, max {max(prompts)} "
        f"({sum(r.relevant for r in rows)} rows; {sum(r.external for r in rows)} rows whose "
        "source names no lesson or module of the course left out)"
    )
    reachable = [
        (r.recalled / (r.relevant - r.unreachable), r.slug)
        for r in with_relevant
        if r.relevant > r.unreachable
    ]
    print(
        f"    of which {sum(r.unreachable for r in rows)} rows name a concept no record row "
        "before the lesson has (no candidate set can hold them); over the other rows recall "
        f"is mean {statistics.mean(v for v, _ in reachable):.1%}, min "
        f"{min(reachable)[0]:.1%} ({min(reachable)[1]}), "
        f"{sum(1 for v, _ in reachable if v < RECALL_MIN)} lesson(s) below {RECALL_MIN:.0%}"
    )
    print(
        f"(b) prerequisites found {found_share:.1%} "
        f"({found_total}/{sum(r.prerequisites for r in with_prereqs)}), depth agrees on "
        f"{depth_share:.1%} of those found; per-lesson found min "
        f"{min(r.found_share for r in with_prereqs):.0%}; computed rows per lesson: mean "
        f"{statistics.mean(r.computed for r in rows):.1f} (the documents' tables: "
        f"{statistics.mean(r.prerequisites for r in with_prereqs):.1f}); "
        f"{sum(r.computed_used for r in rows) / max(1, sum(r.computed_taught for r in rows)):.1%}"
        " of the computed rows with a record row are named in the document's tables"
    )
    bound_found = sum(r.bound_found for r in with_prereqs)
    exact = sum(r.exact for r in with_prereqs)
    print(
        "    bound: with every record row the student has offered as computed (mean "
        f"{statistics.mean(r.known for r in rows):.0f} rows per lesson), found "
        f"{bound_found / max(1, sum(r.prerequisites for r in with_prereqs)):.1%} and depth "
        f"agrees on {sum(r.bound_agrees for r in with_prereqs) / max(1, bound_found):.1%}; "
        f"where a document names a record row exactly ({exact} rows), the depths agree on "
        f"{sum(r.exact_agrees for r in with_prereqs) / max(1, exact):.1%}"
    )
    slowest = max(rows, key=lambda r: r.seconds)
    print(
        f"time per lesson: mean {statistics.mean(seconds):.3f} s, max {max(seconds):.3f} s "
        f"({slowest.slug}; the first lesson also loads the templates); CPU time mean "
        f"{statistics.mean(r.cpu_seconds for r in rows):.3f} s, max "
        f"{max(r.cpu_seconds for r in rows):.3f} s (wall time rises with the machine's load)"
    )
    # each series is a course of its own inside the course: the figures should hold on each
    print("\nby series (the state should hold on every part of the course, not only on average):")
    print(
        f"  {'series':<7} {'lessons':>7} {'recall mean':>12} {'min':>5} {'found':>7} {'depth':>7}"
    )
    series_of = {loc.slug: loc.series for loc in tree.lessons_in_order()}
    for series in sorted({series_of[r.slug] for r in rows}, key=lambda s: (len(s), s)):
        part = [r for r in rows if series_of[r.slug] == series]
        part_recall = [r.recall for r in part if r.relevant]
        part_found = sum(r.found for r in part)
        print(
            f"  {series:<7} {len(part):>7} {statistics.mean(part_recall or [1.0]):>12.1%} "
            f"{min(part_recall or [1.0]):>5.0%} "
            f"{part_found / max(1, sum(r.prerequisites for r in part)):>7.1%} "
            f"{sum(r.depth_agrees for r in part) / max(1, part_found):>7.1%}"
        )
    print("\nten worst by candidate recall:")
    for r in sorted(with_relevant, key=lambda r: r.recall)[:10]:
        print(
            f"  {r.slug:<36} {r.recall:6.0%} {r.recalled:>3}/{r.relevant:<3} "
            f"{r.prompt_tokens:>6} tokens"
        )
        for miss in r.missed if args.verbose else r.missed[:3]:
            print(f"      missed: {miss}")
    print("\nten worst by prerequisites found:")
    for r in sorted(with_prereqs, key=lambda r: r.found_share)[:10]:
        print(
            f"  {r.slug:<36} {r.found_share:6.0%} {r.found:>3}/{r.prerequisites:<3} "
            f"depth agrees {r.depth_agrees}/{r.found}"
        )
        for miss in r.missed_prereqs if args.verbose else r.missed_prereqs[:3]:
            print(f"      {miss}")
    met = (
        statistics.mean(recalls) >= RECALL_MEAN
        and min(recalls) >= RECALL_MIN
        and max(prompts) < PROMPT_LIMIT
        and found_share >= FOUND_TARGET
        and depth_share >= DEPTH_TARGET
        and max(r.cpu_seconds for r in rows) < SECONDS_LIMIT
    )
    print(
        "\ntargets " + ("met" if met else "NOT met") + f": recall mean >= {RECALL_MEAN:.0%}, "
        f"min >= {RECALL_MIN:.0%}, prompt < {PROMPT_LIMIT}; found >= {FOUND_TARGET:.0%}, "
        f"depth >= {DEPTH_TARGET:.0%}; < {SECONDS_LIMIT} s per lesson"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
