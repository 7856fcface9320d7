"""Which fields extract empty while the document has a heading or label for them.

    python benchmarks/parse_variants.py [RECORDS_DIR] [-v]

Scans EVERY lesson document, module plan and series plan of a records tree
(default ../shared/corpus/courseai-records).  For each field below, a
document counts as a miss when it has a heading (any level) or a bold label
(``**Target concept:**``) naming that field, yet the parser's typed field is
empty.  Prints one count per field and the total; ``-v`` lists file:line of
every miss.  A miss means build, review or orient would start from nothing
for that field, silently.

On the corpus: 192 misses with the parser before the variants were read
(a04a7ce: outline 62, connections 28, not covered 26, readiness 26, target concept 22,
mental models 22, topic allocation 6), 0 after.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from lesson_author.course.check import markers
from lesson_author.course.models import LessonPlan, ModulePlan, SeriesPlan
from lesson_author.course.parse import kind_of, parse_file

REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO.parent / "shared" / "corpus" / "courseai-records"

# field -> (document type, pattern on a heading title or bold label, lower-cased, no emphasis)
FIELDS: dict[str, tuple[type, re.Pattern[str]]] = {
    "topic_allocation": (ModulePlan, re.compile(r"topic allocation")),
    "outline": (LessonPlan, re.compile(r"^lesson outline")),
    "connections": (LessonPlan, re.compile(r"^connections to prior concepts")),
    "series connections": (SeriesPlan, re.compile(r"^connections to")),
    "target_concept": (LessonPlan, re.compile(r"^target concept")),
    "relevant_concepts": (LessonPlan, re.compile(r"^relevant concepts")),
    "prerequisites": (LessonPlan, re.compile(r"^prerequisites?( table)?$")),
    "mental_models": (LessonPlan, re.compile(r"mental models.*already|established mental models")),
    "not_covered": (LessonPlan, re.compile(r"not covered")),
    "readiness": (LessonPlan, re.compile(r"^readiness")),
}


def value_of(model: object, name: str) -> object:
    return getattr(model, "connections" if name == "series connections" else name)


def scan(root: Path) -> tuple[Counter[str], Counter[str], list[str], int]:
    """(misses per field, documents naming each field, miss locations, documents scanned)."""
    misses: Counter[str] = Counter()
    present: Counter[str] = Counter()
    where: list[str] = []
    scanned = 0
    for path in sorted(root.rglob("*.md")):
        if kind_of(path) not in ("lesson_plan", "module_plan", "series_plan"):
            continue
        model = parse_file(path)
        scanned += 1
        marks = markers(path.read_text(encoding="utf-8"))
        for name, (kind, pattern) in FIELDS.items():
            if not isinstance(model, kind):
                continue
            hit = next((line for line, title in marks if pattern.search(title)), None)
            if hit is None:
                continue
            present[name] += 1
            if not value_of(model, name):
                misses[name] += 1
                where.append(f"{path.relative_to(root)}:{hit}: {name}")
    return misses, present, where, scanned


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.records.is_dir():
        print(f"no records tree at {args.records}", file=sys.stderr)
        return 2
    misses, present, where, scanned = scan(args.records)
    print(f"{scanned} documents scanned (lesson documents, module and series plans)")
    for name in FIELDS:
        print(f"  {name:20} {misses[name]:3} empty of {present[name]:3} that name it")
    print(f"  {'total':20} {sum(misses.values()):3}")
    if args.verbose:
        print("\n".join(where))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
