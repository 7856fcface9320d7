"""Course progress for ``author status``: the facts (pure) and their rich tables.

Built vs planned lessons per series and module (the same counts ``author
records`` writes), and per lesson whether it is recorded, whether its planning
document exists, and the verdict of its last review (computed from the findings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from lesson_author.course.models import Verdict
from lesson_author.course.records import (
    ModuleProgress,
    module_progress,
    recorded_lessons,
    review_facts,
    table_status_word,
)
from lesson_author.course.tree import CourseTree, module_id_key


@dataclass
class LessonStatus:
    number: int
    slug: str
    title: str
    recorded: bool
    planned_doc: bool
    verdict: Verdict | None = None
    iteration: str = ""


@dataclass
class ModuleStatus:
    module: str
    title: str
    progress: ModuleProgress
    lessons: list[LessonStatus] = field(default_factory=list)


@dataclass
class SeriesStatus:
    series: str
    title: str
    modules: list[ModuleStatus] = field(default_factory=list)

    @property
    def built(self) -> int:
        return sum(len(m.progress.built) for m in self.modules)

    @property
    def total(self) -> int:
        return sum(m.progress.total for m in self.modules)


@dataclass
class CourseStatus:
    title: str
    series: list[SeriesStatus] = field(default_factory=list)


def course_status(tree: CourseTree) -> CourseStatus:
    course = tree.course()
    series_titles = {row.number.strip(): row.title for row in course.series} if course else {}
    module_titles = {row.module.strip(): row.title for row in course.modules} if course else {}
    for _, plan in tree.series_plans():
        series_titles.setdefault(plan.number, plan.title)
        for row in plan.modules:
            module_titles[row.module.strip()] = row.title
    progress = module_progress(tree)

    status = CourseStatus(title=course.title if course else tree.root.name)
    by_series: dict[str, SeriesStatus] = {}
    for loc in tree.lessons_in_order():
        series = by_series.get(loc.series)
        if series is None:
            series = SeriesStatus(loc.series, series_titles.get(loc.series, ""))
            by_series[loc.series] = series
            status.series.append(series)
        if not series.modules or series.modules[-1].module != loc.module:
            title = module_titles.get(loc.module, "")
            if not title:
                record = tree.module_record(loc.module)
                title = record.title if record else ""
            series.modules.append(ModuleStatus(loc.module, title, progress[loc.module]))
        module = series.modules[-1]
        recorded = loc.slug in recorded_lessons(tree.module_record(loc.module))
        lesson = LessonStatus(
            number=loc.position_in_series,
            slug=loc.slug,
            title=loc.ref.title,
            recorded=recorded,
            planned_doc=loc.plan_path.is_file(),
        )
        if lesson.planned_doc:
            facts = review_facts(tree.lesson_plan_at(loc.plan_path))
            if facts:
                lesson.verdict = facts[-1].verdict
                lesson.iteration = f"{facts[-1].number}/{facts[-1].of}"
        module.lessons.append(lesson)
    for series in status.series:
        series.modules.sort(key=lambda m: module_id_key(m.module))
    return status


VERDICT_STYLE = {
    Verdict.PASS: "green",
    Verdict.NEEDS_REVISION: "yellow",
    Verdict.MAJOR_REVISION: "red",
}
STATUS_STYLE = {"complete": "green", "in progress": "yellow", "planned": "dim"}


def _status_text(built: int, total: int) -> Text:
    word = table_status_word(built, total)
    return Text(word, style=STATUS_STYLE[word])


def status_tables(status: CourseStatus) -> Group:
    """The course table, then one table per module with its lessons."""
    overview = Table(title=status.title, title_justify="left")
    overview.add_column("Series", justify="right")
    overview.add_column("Title")
    overview.add_column("Modules complete", justify="right")
    overview.add_column("Lessons built", justify="right")
    overview.add_column("Status")
    for s in status.series:
        done = sum(1 for m in s.modules if m.progress.complete)
        known = all(m.progress.known for m in s.modules)
        overview.add_row(
            s.series,
            s.title,
            f"{done} of {len(s.modules)}" + ("" if known else " (?)"),
            f"{s.built} of {s.total}" + ("" if known else " (?)"),
            _status_text(s.built, s.total) if known else Text("unknown", style="dim"),
        )
    parts: list[Table] = [overview]
    for s in status.series:
        for m in s.modules:
            built = (
                f"{m.progress.lessons_text} lessons built"
                if m.progress.known
                else "no record in the tree: progress unknown"
            )
            table = Table(title=f"Module {m.module}: {m.title}  ({built})", title_justify="left")
            table.add_column("#", justify="right")
            table.add_column("Lesson", no_wrap=True, min_width=max(len(x.slug) for x in m.lessons))
            table.add_column("Title")
            table.add_column("Recorded")
            table.add_column("Planning doc")
            table.add_column("Last review")
            for lesson in m.lessons:
                review = (
                    Text(
                        f"{lesson.verdict.value} ({lesson.iteration})",
                        style=VERDICT_STYLE[lesson.verdict],
                    )
                    if lesson.verdict is not None
                    else Text("-", style="dim")
                )
                table.add_row(
                    str(lesson.number),
                    lesson.slug,
                    lesson.title,
                    Text("built", style="green")
                    if lesson.recorded
                    else Text("not yet" if m.progress.known else "unknown", style="dim"),
                    "yes" if lesson.planned_doc else Text("no", style="dim"),
                    review,
                )
            parts.append(table)
    return Group(*parts)


def print_status(tree: CourseTree, console: Console) -> CourseStatus:
    status = course_status(tree)
    if not status.series:
        console.print(f"No lessons planned under {tree.root} (no series plan lists any).")
        return status
    console.print(status_tables(status))
    return status
