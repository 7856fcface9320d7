"""Models -> record files, through the jinja2 templates in ``templates/``.

A parsed model is written back in its own layout: verbatim parts as read,
typed fields from their current values with the formatting they were read
with.  Rendering a seed document the parser read gives back the same bytes.
A model built from scratch (empty ``layout``) takes the layout of its
skeleton in ``templates/skeletons/``: the seed format.  Fields and list
items a layout has no place for (a review appended by the pipeline, a
``**Review:**`` line the records command adds) are placed where the
skeleton puts them.

``verbatim_rows`` (default on) writes a table row exactly as it was read
while it still reads as the row's current content, so odd spacing in hand
written tables survives; turn it off to see the templates alone at work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from lesson_author.course import parse as P
from lesson_author.course.markdown import escape_cell, split_lines, split_row
from lesson_author.course.models import (
    Course,
    Finding,
    LessonPlan,
    LessonSummary,
    ModulePlan,
    ModuleRecord,
    Review,
    Row,
    SeriesPlan,
    Severity,
    Slot,
    Verdict,
)

Part = Any  # Slot | RawSection
Placed = tuple[Part, bool]  # a part and whether it comes from a skeleton ("fresh")


# ---------------------------------------------------------------- templates


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("lesson_author.course", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )


@cache
def document_template() -> Template:
    return environment().get_template("document.md.j2")


@cache
def blocks() -> Any:
    """The line-format macros of ``blocks.md.j2``."""
    return environment().get_template("blocks.md.j2").module


def skeleton_text(name: str) -> str:
    return environment().get_template(f"skeletons/{name}.md.j2").render()


@cache
def skeletons() -> dict[str, Any]:
    """Parsed skeletons: their layouts are the defaults for models built from scratch."""
    lesson = P.parse_lesson_plan(skeleton_text("lesson_plan"))
    review = P.parse_lesson_plan(skeleton_text("review")).reviews[0]
    record = P.parse_module_record(skeleton_text("module_record"))
    return {
        "lesson_plan": lesson,
        "review": review,
        "finding": review.findings[0],
        "module_record": record,
        "summary": record.summaries[0],
        "module_plan": P.parse_module_plan(skeleton_text("module_plan")),
        "series_plan": P.parse_series_plan(skeleton_text("series_plan")),
        "course": P.parse_course(skeleton_text("course")),
    }


# ---------------------------------------------------------------- arranging a layout


def is_slot(part: Part, key: str | None = None) -> bool:
    return isinstance(part, Slot) and (key is None or part.key == key)


def first_line_end(tail: str) -> str:
    lines = split_lines(tail)
    return lines[0] if lines and not lines[0].strip() else "\n"


@dataclass(frozen=True)
class Group:
    """A list-like field whose items each have a slot, identified by ``ident``."""

    key: str
    wanted: Callable[[Any], list[Hashable]]
    ident: Callable[[Slot], Hashable]
    make: Callable[[Any, Slot, Hashable], Slot]


def indexed(key: str) -> Group:
    return Group(
        key,
        lambda model: list(range(len(getattr(model, key)))),
        lambda slot: slot.index,
        lambda model, template, i: template.model_copy(update={"index": i}),
    )


def grouped_positions(parts: list[Placed], group: Group) -> list[int]:
    return [
        n for n, (p, _) in enumerate(parts) if is_slot(p, group.key) and group.ident(p) is not None
    ]


def skeleton_order(skeleton: list[Part]) -> list[str]:
    order: list[str] = []
    for p in skeleton:
        if is_slot(p) and p.key not in order:
            order.append(p.key)
    return order


def insertion_point(parts: list[Placed], order: list[str], key: str) -> int:
    """Where a field missing from a layout goes: after the last field the skeleton puts before it."""
    before = set(order[: order.index(key)]) if key in order else set(order)
    found = [n for n, (p, _) in enumerate(parts) if is_slot(p) and p.key in before]
    return found[-1] + 1 if found else 0


def expand_fresh(parts: list[Placed], model: Any, group: Group) -> list[Placed]:
    """A skeleton's item slots (first and last) replaced by one slot per wanted item."""
    positions = grouped_positions(parts, group)
    if not positions:
        return parts
    first, last = parts[positions[0]][0], parts[positions[-1]][0]
    wanted = group.wanted(model)
    made = [
        (group.make(model, last if i == len(wanted) - 1 else first, ident), True)
        for i, ident in enumerate(wanted)
    ]
    rest = [pl for n, pl in enumerate(parts) if n not in set(positions)]
    at = positions[0] - sum(1 for n in positions if n < positions[0])
    return rest[:at] + made + rest[at:]


def add_missing_items(
    parts: list[Placed], model: Any, group: Group, skeleton: list[Part], order: list[str]
) -> list[Placed]:
    """Slots for wanted items the layout lacks, after its last item (which hands over its tail)."""
    positions = grouped_positions(parts, group)
    have = {group.ident(parts[n][0]) for n in positions}
    missing = [ident for ident in group.wanted(model) if ident not in have]
    if not missing:
        return parts
    parts = list(parts)
    skel = [p for p in skeleton if is_slot(p, group.key) and group.ident(p) is not None]
    if positions:
        at = positions[-1]
        last = parts[at][0]
        inter = (
            parts[positions[-2]][0].tail
            if len(positions) > 1
            else (skel[0].tail if len(skel) > 1 else last.tail)
        )
        parts[at] = (last.model_copy(update={"tail": inter}), parts[at][1])
        made = [group.make(model, last, ident) for ident in missing]
        made = [m.model_copy(update={"tail": inter}) for m in made[:-1]] + made[-1:]
        return parts[: at + 1] + [(m, True) for m in made] + parts[at + 1 :]
    markers = [n for n, (p, _) in enumerate(parts) if is_slot(p, group.key)]
    if markers:
        at = markers[-1] + 1
        new: list[Placed] = []
    else:
        at = insertion_point(parts, order, group.key)
        new = [(p, True) for p in skeleton if is_slot(p, group.key) and group.ident(p) is None]
    if not skel:
        skel = [Slot(key=group.key)]
    first, last = skel[0], skel[-1]
    for i, ident in enumerate(missing):
        new.append((group.make(model, last if i == len(missing) - 1 else first, ident), True))
    return parts[:at] + new + parts[at:]


def add_missing_fields(
    parts: list[Placed],
    model: Any,
    skeleton: list[Part],
    order: list[str],
    skip: set[str],
    labels: frozenset[str],
) -> list[Placed]:
    """Skeleton slots for fields that have a value but no place in the layout."""
    present = {p.key for p, _ in parts if is_slot(p)}
    for key in order:
        if key in present or key in skip or not getattr(model, key, None):
            continue
        template = next(p for p in skeleton if is_slot(p, key))
        at = insertion_point(parts, order, key)
        before = parts[at - 1][0] if at else None
        if key in labels and before is not None and is_slot(before) and before.key in labels:
            # a label line joins a run of label lines: it takes over the run's closing tail
            template = template.model_copy(update={"tail": before.tail})
            parts[at - 1] = (
                before.model_copy(update={"tail": first_line_end(before.tail)}),
                parts[at - 1][1],
            )
        parts = parts[:at] + [(template, True)] + parts[at:]
        present.add(key)
    return parts


def arrange(
    model: Any,
    skeleton: Any,
    groups: tuple[Group, ...],
    labels: frozenset[str],
    derived: frozenset[str] = frozenset(),
) -> list[Placed]:
    """The parts to render: the model's layout, completed from its skeleton.

    ``derived`` fields always have a value (the parser derives one when the
    file has none, e.g. a lesson's slug from its file name), so a parsed
    layout without them gets no new line for them.
    """
    skel_layout = skeleton.layout
    order = skeleton_order(skel_layout)
    if model.layout:
        parts: list[Placed] = [(p, False) for p in model.layout]
        for group in groups:
            parts = add_missing_items(parts, model, group, skel_layout, order)
    else:
        parts = [(p, True) for p in skel_layout]
        for group in groups:
            parts = expand_fresh(parts, model, group)
    skip = {g.key for g in groups} | (set(derived) if model.layout else set())
    return add_missing_fields(parts, model, skel_layout, order, skip, labels)


# ---------------------------------------------------------------- writing values


@dataclass(frozen=True)
class Options:
    verbatim_rows: bool = True


def render_parts(parts: list[Placed], value: Callable[[Slot, bool], str | None]) -> str:
    return document_template().render(parts=parts, value=value)


def title_text(slot: Slot, values: dict[str, Any]) -> str:
    template = slot.style.get("template", "{title}")
    shown = {k: ("" if v is None else v) for k, v in values.items()}
    try:
        text = template.format(**shown)
    except (KeyError, IndexError, ValueError):
        text = str(values.get("title", ""))
    return blocks().heading(int(slot.style.get("level", "1")), text)


def table_text(slot: Slot, spec: P.TableSpec, rows: list[Row], options: Options) -> str:
    header = slot.style.get("header", "")
    separator = slot.style.get("separator", "")
    mapping = spec.mapping(split_row(header))
    out = [header + "\n"]
    if separator:
        out.append(separator + "\n")
    for row in rows:
        if row.line is not None:
            out.append(slot.style.get(f"gap@{row.line}", ""))  # blank lines between row groups
        if options.verbatim_rows and spec.still_reads(mapping, row):
            out.append(row.src + "\n")
        else:
            cells = [" ".join(cell.splitlines()) for cell in spec.cells(mapping, row)]
            out.append(blocks().table_row(cells) + "\n")  # a line break would end the row
    text = "".join(out)
    return text[:-1] if slot.style.get("open_end") else text


def scalar(value: Any, fresh: bool) -> str | None:
    if fresh and not value:
        return None
    return "" if value is None else str(value)


def item_of(model: Any, key: str, slot: Slot, fresh: bool) -> Any:
    """The list item a slot stands for; ``""`` for a marker, ``None`` to leave the slot out."""
    items = getattr(model, key)
    if slot.index is None:
        return None if fresh and not items and key != "findings" else ""
    if slot.index >= len(items):
        return None
    return items[slot.index]


# ---------------------------------------------------------------- reviews, findings, summaries


def counts_text(slot: Slot, review: Review) -> str:
    counts = review.counts or {
        sev: sum(1 for f in review.findings if f.severity is sev)
        for sev in (Severity.CRITICAL, Severity.IMPROVEMENT, Severity.POLISH)
    }
    order = [Severity(v) for v in slot.style.get("order", "").split(",") if v]
    order += [s for s in sorted(counts, reverse=True) if s not in order]
    lines = []
    for sev in order:
        if sev not in counts:
            continue
        label = slot.style.get(f"label.{sev.value}", sev.value.capitalize())
        note = slot.style.get(f"note.{sev.value}", "")
        lines.append(blocks().count_line(slot.style.get("bullet", "-"), label, counts[sev], note))
    return "\n".join(lines)


def verdict_text(slot: Slot, review: Review) -> str:
    raw = review.verdict_raw
    verdict = review.verdict
    if verdict is None and raw:
        shown = raw
    else:
        verdict = verdict or review.computed_verdict()
        shown = raw if raw and Verdict.parse(raw) == verdict else verdict.value
    level = int(slot.style.get("level", "3"))
    return blocks().verdict_heading(level, slot.style.get("prefix", "Verdict: "), shown)


def review_heading_text(slot: Slot, review: Review) -> str:
    style = slot.style
    level = int(style.get("level", "2"))
    sep = style.get("sep", " -- ")
    if "rest" in style:
        rest = style["rest"]
        loose = P.ITERATION_LOOSE.search(rest)
        written = (int(loose["i"]), int(loose["of"])) if loose else (None, None)
        if written == (review.iteration, review.of):
            return blocks().review_heading(level, sep, review.date, None, None, rest)
    return blocks().review_heading(
        level, sep, review.date, review.iteration, review.of, style.get("suffix", "")
    )


def finding_value(finding: Finding, slot: Slot, fresh: bool) -> str | None:
    if slot.key == "heading":
        s = slot.style
        lb, rb = s.get("lb", "["), s.get("rb", "]")
        return blocks().finding_heading(
            int(s.get("level", "4")),
            s.get("prefix", ""),
            lb,
            finding.severity.value,
            rb,
            s.get("sep", " -- "),
            finding.title,
        )
    if slot.key == "location" and finding.rule:
        return P.with_rule(finding.location, finding.rule)
    return scalar(getattr(finding, slot.key), fresh)


def render_finding(finding: Finding, options: Options) -> str:
    parts = arrange(finding, skeletons()["finding"], (), frozenset(P.FINDING_LABELS.values()))
    return render_parts(parts, lambda slot, fresh: finding_value(finding, slot, fresh))


def review_value(review: Review, slot: Slot, fresh: bool, options: Options) -> str | None:
    key = slot.key
    if key == "heading":
        return review_heading_text(slot, review)
    if key == "counts":
        return counts_text(slot, review)
    if key == "verdict":
        return verdict_text(slot, review)
    if key == "findings":
        item = item_of(review, key, slot, fresh)
        return item if not isinstance(item, Finding) else render_finding(item, options)
    if key == "notes":
        return scalar(review.notes, fresh)
    return None


REVIEW_GROUPS = (indexed("findings"),)


def review_text(review: Review, options: Options) -> str:
    parts = arrange(review, skeletons()["review"], REVIEW_GROUPS, frozenset())
    return render_parts(parts, lambda slot, fresh: review_value(review, slot, fresh, options))


def summary_heading_text(slot: Slot, summary: LessonSummary) -> str:
    template = slot.style.get("template", "{slug} (Lesson {number})")
    if summary.number is None:
        template = template.replace(" (Lesson {number})", "").replace("{number}", "")
    try:
        text = template.format(slug=summary.slug, number=summary.number)
    except (KeyError, IndexError, ValueError):
        text = summary.slug
    return blocks().heading(int(slot.style.get("level", "3")), text)


def part_sep(slot: Slot, text: str, fresh: bool) -> str:
    """What follows ``**Label:**``: as written, or a line break before a list."""
    if "sep" in slot.style and not fresh:
        return slot.style["sep"]
    return "\n" if re.match(r"(?:[-*]|\d+\.) ", text) else " "


def summary_value(summary: LessonSummary, slot: Slot, fresh: bool) -> str | None:
    key = slot.key
    if key == "heading":
        return summary_heading_text(slot, summary)
    if key == "parts":
        item = item_of(summary, key, slot, fresh)
        if item is None or item == "":
            return item
        return blocks().label(item.label, part_sep(slot, item.text, fresh), item.text)
    return scalar(getattr(summary, key), fresh)


SUMMARY_LABELS = frozenset({"status", "cognitive_load", "notebook", "review"})


def summary_text(summary: LessonSummary) -> str:
    groups = (indexed("parts"),)
    parts = arrange(summary, skeletons()["summary"], groups, SUMMARY_LABELS)
    return render_parts(parts, lambda slot, fresh: summary_value(summary, slot, fresh))


# ---------------------------------------------------------------- lesson plans

LESSON_LABELS = frozenset({"slug", "series", "module", "status", "position", "cognitive_load"})
LESSON_TEXT = frozenset(
    {
        "mental_models",
        "not_covered",
        "readiness",
        "target_concept",
        "narrative_arc",
        "cognitive_load_assessment",
        "analogies_to_extend",
        "misleading_analogies",
        "scope",
    }
)
LESSON_TABLES: dict[str, P.TableSpec] = {
    "relevant_concepts": P.RELEVANT_ROWS,
    "prerequisites": P.PREREQUISITE_ROWS,
    "gaps": P.GAP_ROWS,
    "misconceptions": P.MISCONCEPTION_ROWS,
    "examples": P.EXAMPLE_ROWS,
    "modalities": P.MODALITY_ROWS,
    "connections": P.CONNECTION_PLAN_ROWS,
}
LESSON_GROUPS = (indexed("outline"), indexed("reviews"), indexed("checklists"))


def outline_text(slot: Slot, section: Any) -> str:
    s = slot.style
    if s.get("form") == "list":
        number = "" if section.number is None else str(section.number)
        first = f"{s.get('lead', '')}{number}{s.get('dot', '.')}{s.get('mid', ' ')}"
        first += f"{section.title}{s.get('close', '')}{s.get('sep', '')}"
        if s.get("inline"):
            return first + section.body
        return first + ("\n" + s.get("gap", "") + section.body if section.body else "")
    heading = blocks().outline_heading(
        int(s.get("level", "4")), section.number, s.get("dot", "."), section.title
    )
    gap = s.get("gap", "\n")
    if not section.body:
        return heading
    return heading + "\n" + gap + section.body


def checklist_text(slot: Slot, checklist: Any) -> str:
    s = slot.style
    lines = [blocks().heading(int(s.get("level", "3")), checklist.title) + "\n", s.get("gap", "")]
    for item in checklist.items:
        lines.append(blocks().checklist_item(s.get("bullet", "-"), item.checked, item.text) + "\n")
    return "".join(lines)


def lesson_value(plan: LessonPlan, slot: Slot, fresh: bool, options: Options) -> str | None:
    key = slot.key
    if key == "title":
        return title_text(slot, {"title": plan.title})
    if key == "slug":
        quote = slot.style.get("quote", "`" if fresh else "")
        return None if fresh and not plan.slug else f"{quote}{plan.slug}{quote}"
    if key in LESSON_LABELS or key in LESSON_TEXT:
        return scalar(getattr(plan, key), fresh)
    if key == "connections" and slot.style.get("form") == "bullets":
        return P.CONNECTION_BULLETS.write(plan.connections)
    if key in LESSON_TABLES:
        rows = getattr(plan, key)
        return None if fresh and not rows else table_text(slot, LESSON_TABLES[key], rows, options)
    item = item_of(plan, key, slot, fresh) if key in ("outline", "reviews", "checklists") else None
    if item is None or item == "":
        return item
    if key == "outline":
        return outline_text(slot, item)
    if key == "reviews":
        return review_text(item, options)
    return checklist_text(slot, item)


# ---------------------------------------------------------------- module records and plans


def record_value(record: ModuleRecord, slot: Slot, fresh: bool, options: Options) -> str | None:
    key = slot.key
    if key == "title":
        return title_text(slot, {"module": record.module, "title": record.title})
    if key in ("goal", "status"):
        return scalar(getattr(record, key), fresh)
    if key == "concepts":
        rows = record.concepts
        return None if fresh and not rows else table_text(slot, P.CONCEPT_ROWS, rows, options)
    if key == "summaries":
        item = item_of(record, key, slot, fresh)
        return item if not isinstance(item, LessonSummary) else summary_text(item)
    return None


def topic_slot(model: ModulePlan, template: Slot, slug: Hashable) -> Slot:
    head = template.head
    bullet = "- " if head.startswith(("- ", "* ")) else ""
    sep = "\n" if head.rstrip(" \t").endswith("\n") else " "
    return template.model_copy(
        update={"head": f"{bullet}**{slug}:**{sep}", "style": {**template.style, "slug": str(slug)}}
    )


TOPIC_GROUP = Group(
    "topic_allocation",
    lambda model: list(model.topic_allocation),
    lambda slot: slot.style.get("slug"),
    topic_slot,
)
MODULE_PLAN_GROUPS = (TOPIC_GROUP, indexed("misconceptions"))
MODULE_PLAN_TABLES: dict[str, P.TableSpec] = {
    "sequence": P.SEQUENCE_ROWS,
    "load_trajectory": P.TRAJECTORY_ROWS,
}


def module_plan_value(plan: ModulePlan, slot: Slot, fresh: bool, options: Options) -> str | None:
    key = slot.key
    if key == "title":
        return title_text(slot, {"module": plan.module, "title": plan.title})
    if key in ("status", "prerequisites", "goal", "narrative_arc"):
        return scalar(getattr(plan, key), fresh)
    if key in MODULE_PLAN_TABLES:
        rows = getattr(plan, key)
        return (
            None if fresh and not rows else table_text(slot, MODULE_PLAN_TABLES[key], rows, options)
        )
    if key == "topic_allocation":
        slug = slot.style.get("slug")
        if slug is None:
            return None if fresh and not plan.topic_allocation else ""
        value = plan.topic_allocation.get(slug)
        in_table = slot.head.lstrip(" \t").startswith("|")
        return value if value is None or not in_table else " ".join(escape_cell(value).splitlines())
    if key == "misconceptions":
        item = item_of(plan, key, slot, fresh)
        return item
    return None


# ---------------------------------------------------------------- series plans and the course


def lessons_slot(plan: SeriesPlan, template: Slot, module: Hashable) -> Slot:
    title = next((m.title for m in plan.modules if m.module == module), "")
    head = f"### Module {module}: {title}\n\n" if title else f"### Module {module}\n\n"
    return template.model_copy(
        update={"head": head, "style": {**template.style, "module": str(module)}}
    )


def plan_modules(plan: SeriesPlan) -> list[Hashable]:
    seen: list[Hashable] = []
    for lesson in plan.lessons:
        if lesson.module not in seen:
            seen.append(lesson.module)
    return seen


LESSONS_GROUP = Group("lessons", plan_modules, lambda slot: slot.style.get("module"), lessons_slot)
SERIES_TABLES: dict[str, P.TableSpec] = {
    "modules": P.MODULE_ROWS,
    "connections": P.CONNECTION_ROWS,
}


def series_value(plan: SeriesPlan, slot: Slot, fresh: bool, options: Options) -> str | None:
    key = slot.key
    if key == "title":
        return title_text(slot, {"number": plan.number, "title": plan.title})
    if key in ("status", "prerequisites", "goal"):
        return scalar(getattr(plan, key), fresh)
    if key == "connections" and slot.style.get("form") == "bullets":
        return P.SERIES_CONNECTION_BULLETS.write(plan.connections)
    if key in SERIES_TABLES:
        rows = getattr(plan, key)
        if fresh and not rows:
            return None
        if fresh and key == "connections" and plan.number:
            header = slot.style["header"].replace("Series Concept", f"Series {plan.number} Concept")
            separator = slot.style["separator"].replace(
                "|-", "|-" + "-" * (len(plan.number) + 1), 1
            )
            slot = slot.model_copy(update={"style": {"header": header, "separator": separator}})
        return table_text(slot, SERIES_TABLES[key], rows, options)
    if key == "lessons":
        module = slot.style.get("module")
        rows = [lesson for lesson in plan.lessons if lesson.module == module]
        if not rows and (fresh or module not in plan_modules(plan)):
            return None if fresh else table_text(slot, P.LESSON_REFS, rows, options)
        return table_text(slot, P.LESSON_REFS, rows, options)
    return None


COURSE_TABLES: dict[str, P.TableSpec] = {
    "series": P.SERIES_ROWS,
    "modules": P.MODULE_STATUS_ROWS,
}


def course_value(course: Course, slot: Slot, fresh: bool, options: Options) -> str | None:
    key = slot.key
    if key == "title":
        return title_text(slot, {"title": course.title})
    if key == "goal":
        return scalar(course.goal, fresh)
    if key in COURSE_TABLES:
        rows = getattr(course, key)
        return None if fresh and not rows else table_text(slot, COURSE_TABLES[key], rows, options)
    return None


# ---------------------------------------------------------------- public API


def render_course(m: Course, *, verbatim_rows: bool = True) -> str:
    options = Options(verbatim_rows)
    parts = arrange(m, skeletons()["course"], (), frozenset())
    return render_parts(parts, lambda slot, fresh: course_value(m, slot, fresh, options))


def render_series_plan(m: SeriesPlan, *, verbatim_rows: bool = True) -> str:
    options = Options(verbatim_rows)
    labels = frozenset({"status", "prerequisites"})
    parts = arrange(m, skeletons()["series_plan"], (LESSONS_GROUP,), labels)
    return render_parts(parts, lambda slot, fresh: series_value(m, slot, fresh, options))


def render_module_plan(m: ModulePlan, *, verbatim_rows: bool = True) -> str:
    options = Options(verbatim_rows)
    labels = frozenset({"status", "prerequisites"})
    parts = arrange(m, skeletons()["module_plan"], MODULE_PLAN_GROUPS, labels)
    return render_parts(parts, lambda slot, fresh: module_plan_value(m, slot, fresh, options))


def render_module_record(m: ModuleRecord, *, verbatim_rows: bool = True) -> str:
    options = Options(verbatim_rows)
    labels = frozenset({"goal", "status"})
    parts = arrange(m, skeletons()["module_record"], (indexed("summaries"),), labels)
    return render_parts(parts, lambda slot, fresh: record_value(m, slot, fresh, options))


def render_lesson_plan(m: LessonPlan, *, verbatim_rows: bool = True) -> str:
    options = Options(verbatim_rows)
    parts = arrange(
        m, skeletons()["lesson_plan"], LESSON_GROUPS, LESSON_LABELS, frozenset({"slug"})
    )
    return render_parts(parts, lambda slot, fresh: lesson_value(m, slot, fresh, options))


def render_review(review: Review) -> str:
    """One ``## Review -- DATE (Iteration N/M)`` section alone, ending with a newline.

    Used to append a review to a lesson document (through
    :func:`render_lesson_plan`, which places it) and for
    ``reviews/<slug>/iteration-N.md``.
    """
    text = review_text(review, Options())
    return text if text.endswith("\n") else text + "\n"


def render_summary(summary: LessonSummary) -> str:
    """One per-lesson summary section of a module record alone."""
    return summary_text(summary)


RENDERERS: dict[type, Callable[..., str]] = {
    Course: render_course,
    SeriesPlan: render_series_plan,
    ModulePlan: render_module_plan,
    ModuleRecord: render_module_record,
    LessonPlan: render_lesson_plan,
}


def render_document(m: Course | SeriesPlan | ModulePlan | ModuleRecord | LessonPlan) -> str:
    """Render any record document model with its own renderer."""
    return RENDERERS[type(m)](m)


__all__ = [
    "render_course",
    "render_document",
    "render_lesson_plan",
    "render_module_plan",
    "render_module_record",
    "render_review",
    "render_series_plan",
    "render_summary",
]
