"""``author report SLUG``: one self-contained HTML page about a lesson.

The page shows the plan at a glance (prerequisite audit with GAPs highlighted,
gap resolutions, checklists), the built lesson rendered readably, every review
iteration's findings in one table coloured by severity with a fixed/open
status across iterations, and tokens/time per phase when the pipeline left a
run summary.  Nothing on the page is fetched from the network: styles and the
small filter script are inline, images in the lesson become placeholders.

Pure parts (:func:`finding_rows`, :func:`run_view`, :func:`render_report`) take
models and dicts and return data or text; :func:`write_report` is the I/O edge
that finds the files through :class:`~lesson_author.course.tree.CourseTree`.

Finding statuses (fixed, carried, open, accepted) follow :mod:`lesson_author.review.status`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from pydantic import ValidationError

from lesson_author.course.models import (
    Depth,
    LessonPlan,
    Review,
    Severity,
)
from lesson_author.errors import UserError
from lesson_author.report.mdx_view import inline_to_html, mdx_to_html
from lesson_author.review.documents import ReviewFile
from lesson_author.review.status import (
    STATUS_RULE,
    FindingRow,
    Verification,
    finding_rows,
    iteration_numbers,
    status_counts,
)
from lesson_author.workspace import reviews_dir, run_summary_path

__all__ = [
    "STATUS_RULE",
    "FindingRow",
    "ReportInput",
    "Verification",
    "finding_rows",
    "render_report",
    "report_path",
    "review_from_json",
    "run_view",
    "write_report",
]

SEVERITY_ORDER = [Severity.CRITICAL, Severity.IMPROVEMENT, Severity.POLISH]


# ---------------------------------------------------------------- review JSON (reviews/<slug>/iteration-N.json)


def review_from_json(data: Any) -> tuple[Review | None, list[Verification]]:
    """The review and its verification of earlier findings from an ``iteration-N.json``.

    The file's contract is :class:`~lesson_author.review.documents.ReviewFile`;
    anything else gives ``(None, [])`` and the planning document's review is used.
    """
    try:
        file = ReviewFile.model_validate(data)
    except ValidationError:
        return None, []
    checks = [v.verification() for v in file.verification]
    return file.review(), checks


def merge_reviews(plan_reviews: list[Review], json_reviews: dict[int, Review]) -> list[Review]:
    """The planning document's reviews (the record), plus iterations only the JSON has."""
    merged = {n: r for n, r in zip(iteration_numbers(plan_reviews), plan_reviews)}
    for n, review in json_reviews.items():
        merged.setdefault(n, review)
    return [merged[n] for n in sorted(merged)]


# ---------------------------------------------------------------- run summary (.author/runs/<slug>.json)


@dataclass
class PhaseRow:
    phase: str
    calls: int | None = None
    cache_hits: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    seconds: float | None = None
    cost: float | None = None

    @property
    def tokens(self) -> int | None:
        if self.tokens_in is None and self.tokens_out is None:
            return None
        return (self.tokens_in or 0) + (self.tokens_out or 0)


@dataclass
class RunView:
    phases: list[PhaseRow]
    total: PhaseRow
    facts: list[tuple[str, str]] = field(default_factory=list)


_PHASE_ALIASES = {
    "calls": ("calls", "requests", "llm_calls"),
    "cache_hits": ("cache_hits", "cached"),
    "tokens_in": ("prompt_tokens", "tokens_in", "input_tokens"),
    "tokens_out": ("completion_tokens", "tokens_out", "output_tokens"),
    "seconds": (
        "seconds",
        "elapsed_s",
        "duration_s",
        "wall_s",
        "time_s",
        "elapsed",
        "duration",
        "latency_s",
    ),
    "cost": ("cost", "cost_usd"),
}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _phase_row(name: str, data: dict[str, Any]) -> PhaseRow:
    row = PhaseRow(phase=name)
    for attr, keys in _PHASE_ALIASES.items():
        for key in keys:
            value = _num(data.get(key))
            if value is not None:
                setattr(row, attr, value if attr in ("seconds", "cost") else int(value))
                break
    if row.tokens_in is None and row.tokens_out is None:
        tokens = _num(data.get("tokens"))
        if tokens is not None:
            row.tokens_in = int(tokens)
    return row


def _merge_rows(rows: Iterable[PhaseRow]) -> list[PhaseRow]:
    """One row per phase name (a node that ran twice, e.g. review per iteration, is summed)."""
    merged: dict[str, PhaseRow] = {}
    for row in rows:
        into = merged.setdefault(row.phase, PhaseRow(phase=row.phase))
        for attr in ("calls", "cache_hits", "tokens_in", "tokens_out", "seconds", "cost"):
            value = getattr(row, attr)
            if value is not None:
                setattr(into, attr, (getattr(into, attr) or 0) + value)
    return list(merged.values())


def run_view(data: Any) -> RunView | None:
    """Tokens and time per phase from whatever run summary the pipeline wrote; None if unusable."""
    if not isinstance(data, dict):
        return None
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else data
    if isinstance(data.get("nodes"), list):  # `author lesson`'s summary: time per graph node
        usage = {"nodes": data["nodes"]}
    rows: list[PhaseRow] = []
    for key in ("phases", "summary", "per_phase", "nodes", "events"):
        value = usage.get(key, data.get(key))
        if isinstance(value, list):
            rows = _merge_rows(
                _phase_row(
                    str(item.get("phase") or item.get("node") or item.get("name") or "?"), item
                )
                for item in value
                if isinstance(item, dict) and item.get("kind", "end") == "end"
            )
        elif isinstance(value, dict):
            rows = [
                _phase_row(str(k), v if isinstance(v, dict) else {"seconds": v})
                for k, v in value.items()
            ]
        if rows:
            break
    timings = next(
        (
            data[k]
            for k in ("timings", "phase_seconds", "durations", "seconds_per_phase")
            if isinstance(data.get(k), dict)
        ),
        None,
    )
    if timings:
        by_name = {r.phase: r for r in rows}
        for name, seconds in timings.items():
            value = _num(seconds if not isinstance(seconds, dict) else seconds.get("seconds"))
            row = by_name.get(name)
            if row is None:
                row = PhaseRow(phase=str(name))
                rows.append(row)
                by_name[name] = row
            if value is not None:
                row.seconds = value
    if not rows:
        return None
    total = PhaseRow(phase="total")
    given = usage.get("total") if isinstance(usage.get("total"), dict) else None
    if given:
        total = _phase_row("total", given)
    for attr in ("calls", "cache_hits", "tokens_in", "tokens_out", "seconds", "cost"):
        if getattr(total, attr) is None:
            values = [getattr(r, attr) for r in rows if getattr(r, attr) is not None]
            if values:
                setattr(total, attr, sum(values))
    facts = []
    for key in (
        "model",
        "provider",
        "started",
        "started_at",
        "finished",
        "finished_at",
        "status",
        "iterations",
    ):
        value = data.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            facts.append((key.replace("_", " "), str(value)))
    return RunView(phases=rows, total=total, facts=facts)


# ---------------------------------------------------------------- the page


@dataclass
class ReportInput:
    """Everything the page shows, already read from disk."""

    plan: LessonPlan
    slug: str
    position: str = ""
    lesson_mdx: str | None = None
    lesson_source: str = ""  # where the built lesson is (or would be), for the page
    json_reviews: dict[int, Review] = field(default_factory=dict)
    verifications: dict[int, list[Verification]] = field(default_factory=dict)
    run: dict[str, Any] | None = None
    run_source: str = ""
    plan_source: str = ""
    warnings: list[str] = field(default_factory=list)  # side files that could not be used


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lesson_author.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = lambda text: Markup(inline_to_html(text or ""))
    env.filters["plain_code"] = _plain_with_code
    env.filters["num"] = _format_int
    env.filters["secs"] = _format_seconds
    return env


def _plain_with_code(text: str) -> Markup:
    """Text shown as written, except that `code spans` render as code (for finding titles)."""
    parts = re.split(r"(`+)(.+?)\1", text or "")
    out: list[str] = []
    for i in range(0, len(parts), 3):
        out.append(str(escape(parts[i])))
        if i + 2 < len(parts):
            out.append(f"<code>{escape(parts[i + 2])}</code>")
    return Markup("".join(out))


def _format_int(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _format_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 60:
        return f"{int(value // 60)}m {value % 60:04.1f}s"
    return f"{value:.1f}s"


def _prerequisite_view(plan: LessonPlan) -> list[dict[str, Any]]:
    rows = []
    for p in plan.prerequisites:
        written = p.status.strip().upper()
        computed = None
        if p.required is not None:
            actual = p.actual if p.actual is not None else Depth.NOT_TAUGHT
            computed = "OK" if actual >= p.required else "GAP"
        gap = "GAP" in written or computed == "GAP"
        rows.append(
            {
                "p": p,
                "status": p.status or (computed or ""),
                "gap": gap,
                "mismatch": computed is not None
                and written in ("OK", "GAP")
                and written != computed,
                "computed": computed,
            }
        )
    return rows


def header_facts(plan: LessonPlan, fallback_position: str = "") -> list[tuple[str, str]]:
    """(label, markdown text) pairs for the page header from the document's header lines.

    The seed writes ``**Series:** 7 (...), **Module:** 7.4 (...), **Position:** ...`` on
    one line, which the parser keeps whole in ``plan.series``; it is split at its labels here.
    """
    facts: list[tuple[str, str]] = []
    parts = re.split(r",?\s*\*\*([A-Za-z][A-Za-z ]*?):\*\*\s*", plan.series or "")
    if parts and parts[0].strip():
        facts.append(("Series", parts[0].strip().rstrip(",")))
    for label, value in zip(parts[1::2], parts[2::2]):
        if value.strip():
            facts.append((label.strip().capitalize(), value.strip().rstrip(",")))
    for label, value in (("Module", plan.module), ("Position", plan.position)):
        if value.strip() and not any(k == label for k, _ in facts):
            facts.append((label, value.strip()))
    if not any(k == "Position" for k, _ in facts):
        facts.append(("Position", fallback_position or "–"))
    order = {"Series": 0, "Module": 1, "Position": 2}
    return sorted(facts, key=lambda kv: order.get(kv[0], 3))


def render_report(data: ReportInput) -> str:
    """The report page as one HTML string."""
    plan = data.plan
    reviews = merge_reviews(plan.reviews, data.json_reviews)
    rows = finding_rows(reviews, data.verifications)
    last = reviews[-1] if reviews else None
    last_verdict = None
    if last is not None:
        last_verdict = last.verdict or last.computed_verdict()
    iterations = []
    for number, review in zip(iteration_numbers(reviews), reviews):
        counts = Counter(f.severity for f in review.findings)
        verdict = review.verdict or review.computed_verdict()
        iterations.append(
            {
                "number": number,
                "of": review.of,
                "date": review.date,
                "verdict": verdict,
                "verdict_class": verdict.value.lower().replace(" ", "-"),
                "computed": review.computed_verdict(),
                "counts": [(s, counts.get(s, 0)) for s in SEVERITY_ORDER],
                "written_counts": review.counts,
                "notes": review.notes,
            }
        )
    sev_counts = Counter(r.severity for r in rows)
    checklists = [
        {"c": c, "checked": sum(1 for i in c.items if i.checked), "total": len(c.items)}
        for c in plan.checklists
    ]
    run = run_view(data.run) if data.run is not None else None
    template = _environment().get_template("report.html.j2")
    return template.render(
        plan=plan,
        slug=data.slug,
        facts=header_facts(plan, data.position),
        last_verdict=last_verdict,
        last_verdict_class=last_verdict.value.lower().replace(" ", "-") if last_verdict else "none",
        prerequisites=_prerequisite_view(plan),
        gap_count=sum(1 for r in _prerequisite_view(plan) if r["gap"]),
        checklists=checklists,
        lesson_html=Markup(mdx_to_html(data.lesson_mdx)) if data.lesson_mdx is not None else None,
        lesson_source=data.lesson_source,
        plan_source=data.plan_source,
        iterations=iterations,
        rows=rows,
        severity_counts=[(s, sev_counts.get(s, 0)) for s in SEVERITY_ORDER],
        status_counts=status_counts(rows),
        status_rule=STATUS_RULE,
        run=run,
        run_present=data.run is not None,
        run_source=data.run_source,
        warnings=data.warnings,
    )


# ---------------------------------------------------------------- the I/O edge


def report_path(project_root: Path, slug: str) -> Path:
    """The default output: ``<project_root>/reviews/<slug>/report.html``."""
    return reviews_dir(project_root, slug) / "report.html"


def _read_side_file(path: Path, root: Path, warnings: list[str]) -> str | None:
    """A file the page shows but does not depend on: its text, or None with a warning."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{_relative(path, root)}: cannot be read ({exc}); not shown")
        return None


def _read_json(path: Path, root: Path, warnings: list[str]) -> Any:
    text = _read_side_file(path, root, warnings)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        warnings.append(f"{_relative(path, root)}: not valid JSON ({exc}); not used")
        return None


def _review_files(
    folder: Path, root: Path, warnings: list[str]
) -> tuple[dict[int, Review], dict[int, list[Verification]]]:
    """The ``iteration-N.json`` reviews and verifications the pipeline wrote for the lesson."""
    reviews: dict[int, Review] = {}
    checks: dict[int, list[Verification]] = {}
    paths = sorted(folder.glob("iteration-*.json")) if folder.is_dir() else []
    for path in paths:
        m = re.fullmatch(r"iteration-(\d+)\.json", path.name)
        if not m:
            continue
        data = _read_json(path, root, warnings)
        if data is None:
            continue
        review, verification = review_from_json(data)
        if review is None:
            warnings.append(f"{_relative(path, root)}: not a review file; not used")
            continue
        reviews[int(m.group(1))] = review
        if verification:
            checks[int(m.group(1))] = verification
    return reviews, checks


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def write_report(slug: str, records_dir: Path, out: Path | None = None) -> Path:
    """Read the lesson's files, write its report page, return where it went."""
    from lesson_author.course.tree import CourseTree, project_root, write_atomic

    tree = CourseTree.open(records_dir)
    location = tree.locate(slug)
    if not location.plan_path.is_file():
        raise UserError(
            f"lesson '{slug}' has no planning document yet (run `author plan {slug}`)",
            path=location.plan_path,
        )
    plan = tree.lesson_plan_at(location.plan_path)
    root = project_root(records_dir)
    warnings: list[str] = []
    mdx_path = location.build_dir / f"{slug}.mdx"
    lesson_mdx = _read_side_file(mdx_path, root, warnings)
    json_reviews, verifications = _review_files(reviews_dir(root, slug), root, warnings)
    run_path = run_summary_path(root, slug)
    run = _read_json(run_path, root, warnings) if run_path.is_file() else None
    html = render_report(
        ReportInput(
            plan=plan,
            slug=slug,
            position=location.position_text,
            lesson_mdx=lesson_mdx,
            lesson_source=_relative(mdx_path, root),
            json_reviews=json_reviews,
            verifications=verifications,
            run=run,
            run_source=_relative(run_path, root),
            plan_source=_relative(location.plan_path, root),
            warnings=warnings,
        )
    )
    target = Path(out) if out is not None else report_path(root, slug)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, html)
    return target
