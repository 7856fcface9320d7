"""What the student knows before a lesson, read from the module records.

The student state is built from **records, not plans**: a concept counts only
when a module record's concept index says a lesson taught it.  Course order
(which lessons come before) comes from the series plans (see
:mod:`lesson_author.course.tree`):

* every module before the lesson's module (module number order) contributes all
  of its record rows;
* the lesson's own module contributes the rows of the lessons its plan puts
  before this one.  Rows of that module naming a lesson the plan does not list
  are left out (``author check`` reports them).

A row whose Lesson cell names several lessons (``a, b`` or ``a -> b``) counts
once all of them come before the lesson, and is credited to the last of them;
this errs towards a recap rather than towards assuming knowledge.  Rows whose
depth cell names no depth word are skipped (``author check`` reports them).

One concept taught several times keeps its highest depth and the first lesson
that reached it.  Concepts are matched by their name up to the first
parenthesis, normalised (``"MMDiT joint attention (concatenate ...)"`` ->
``"mmdit joint attention"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lesson_author.course.models import Depth
from lesson_author.course.tree import CourseTree, lesson_slugs, module_id_key
from lesson_author.text.words import concept_key


@dataclass
class KnownConcept:
    """A concept the student has: its highest depth so far and the lesson that reached it."""

    concept: str
    depth: Depth
    lesson: str
    module: str
    notes: str
    path: Path
    line: int | None

    @property
    def key(self) -> str:
        return concept_key(self.concept)


@dataclass
class StudentState:
    """Every concept taught before ``before``, in the order the course taught them.

    Which row a concept name is (or that none is) is :func:`lesson_author.state.match_known`,
    the one matcher orient, the prerequisite audit and the review share."""

    before: str
    concepts: list[KnownConcept] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)

    def by_lesson(self, slug: str) -> list[KnownConcept]:
        return [c for c in self.concepts if c.lesson == slug]


def student_state(tree: CourseTree, slug: str) -> StudentState:
    """Every concept taught before ``slug`` in course order, from the module records."""
    target = tree.locate(slug)
    order = tree.lessons_in_order()
    index = next(i for i, loc in enumerate(order) if loc.slug == slug)
    earlier_same_module = {loc.slug for loc in order[:index] if loc.module == target.module}
    lesson_rank = {loc.slug: i for i, loc in enumerate(order)}

    modules = [m for m in tree.planned_modules() if module_id_key(m) < module_id_key(target.module)]
    modules.append(target.module)

    best: dict[str, KnownConcept] = {}
    first_seen: dict[str, int] = {}
    for module in modules:
        record = tree.module_record(module)
        if record is None:
            continue
        path = tree.record_path(module)
        for row in record.concepts:
            slugs = lesson_slugs(row.lesson)
            if row.depth is None or not slugs:
                continue
            if module == target.module and not all(s in earlier_same_module for s in slugs):
                continue
            # a row naming several lessons was reached by the last of them in course order
            lesson = max(slugs, key=lambda s: lesson_rank.get(s, -1))
            known = KnownConcept(
                concept=row.concept,
                depth=row.depth,
                lesson=lesson,
                module=module,
                notes=row.notes,
                path=path,
                line=row.line,
            )
            key = known.key
            first_seen.setdefault(key, len(first_seen))
            current = best.get(key)
            if current is None or known.depth > current.depth:
                best[key] = known

    concepts = sorted(best.values(), key=lambda c: first_seen[c.key])
    lessons = [loc.slug for loc in order[:index]]
    return StudentState(before=slug, concepts=concepts, lessons=lessons)
