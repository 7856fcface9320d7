"""The report page: finding status across iterations, run data, escaping, self-containment, files."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_helpers import make_project, write_json

from lesson_author.course.models import Finding, LessonPlan, Review, Severity, Verdict
from lesson_author.errors import UserError
from lesson_author.report.html import (
    STATUS_RULE,
    ReportInput,
    Verification,
    finding_rows,
    header_facts,
    render_report,
    review_from_json,
    run_view,
    write_report,
)
from lesson_author.review.documents import review_file


def finding(sev: str, title: str) -> Finding:
    return Finding(severity=Severity(sev), title=title, location="Section 2", issue="i")


def review(n: int, *findings: Finding, verdict: Verdict | None = None) -> Review:
    r = Review(date="2026-02-20", iteration=n, of=3, findings=list(findings))
    r.verdict = verdict or r.computed_verdict()
    return r


class Rows(HTMLParser):
    """The findings table's rows: (severity, status, iteration, title text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._title: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "finding" in (a.get("class") or "").split():
            self.rows.append(
                {
                    "severity": a["data-severity"],
                    "status": a["data-status"],
                    "iteration": a["data-iteration"],
                    "title": "",
                }
            )
        if tag == "div" and a.get("class") == "finding-title":
            self._title = []

    def handle_endtag(self, tag):
        if tag == "div" and self._title is not None:
            self.rows[-1]["title"] = "".join(self._title).strip()
            self._title = None

    def handle_data(self, data):
        if self._title is not None:
            self._title.append(data)


def table_rows(html: str) -> list[dict[str, str]]:
    parser = Rows()
    parser.feed(html)
    return parser.rows


# ---------------------------------------------------------------- the status rule


def test_seed_findings_fixed_then_accepted(seed_plan: LessonPlan):
    rows = finding_rows(seed_plan.reviews)
    assert [(r.iteration, r.severity.value, r.status) for r in rows] == [
        (1, "CRITICAL", "fixed"),
        (1, "IMPROVEMENT", "fixed"),
        (1, "IMPROVEMENT", "fixed"),
        (1, "IMPROVEMENT", "fixed"),
        (1, "POLISH", "fixed"),
        (1, "POLISH", "fixed"),
        (2, "POLISH", "accepted"),
        (2, "POLISH", "accepted"),
    ]
    assert rows[0].title == "Notebook missing"


def test_a_finding_raised_again_is_carried_and_the_last_one_open():
    reviews = [
        review(1, finding("CRITICAL", "Notebook missing"), finding("IMPROVEMENT", "Vague aside")),
        review(2, finding("CRITICAL", "Notebook  missing!")),
    ]
    rows = finding_rows(reviews)
    assert [(r.title, r.status) for r in rows] == [
        ("Notebook missing", "carried"),
        ("Vague aside", "fixed"),
        ("Notebook  missing!", "open"),
    ]
    assert rows[0].status_note == "raised again in iteration 2"


def test_verification_wins_over_the_title_rule():
    reviews = [
        review(
            1,
            finding("IMPROVEMENT", "Weak hook"),
            finding("IMPROVEMENT", "No example"),
            finding("POLISH", "Dash style"),
        ),
        review(2, finding("POLISH", "Other")),
    ]
    checks = {
        2: [
            Verification(reviews[0].findings[0], fixed=False, note="still generic"),
            Verification(reviews[0].findings[1], fixed=True),
            Verification(reviews[0].findings[2], fixed=None, note="deferred by author"),
        ]
    }
    rows = finding_rows(reviews, checks)
    assert [r.status for r in rows] == ["open", "fixed", "accepted", "accepted"]
    assert rows[0].status_note == "iteration 2 says not fixed: still generic"
    assert rows[1].status_note == "verified fixed in iteration 2"


def test_last_iteration_needing_revision_leaves_everything_open():
    rows = finding_rows([review(1, finding("IMPROVEMENT", "A"), finding("POLISH", "B"))])
    assert [r.status for r in rows] == ["open", "open"]


def test_the_rule_is_stated_on_the_page(seed_plan: LessonPlan):
    html = render_report(ReportInput(plan=seed_plan, slug="z-image"))
    assert 'id="status-rule"' in html
    assert STATUS_RULE in unescape(html)


# ---------------------------------------------------------------- the page


def test_page_shows_the_seed_at_a_glance(seed_plan: LessonPlan, lesson_mdx: str):
    html = render_report(ReportInput(plan=seed_plan, slug="z-image", lesson_mdx=lesson_mdx))
    rows = table_rows(html)
    assert len(rows) == 8
    assert [r["severity"] for r in rows].count("CRITICAL") == 1
    assert [r["severity"] for r in rows].count("IMPROVEMENT") == 3
    assert [r["severity"] for r in rows].count("POLISH") == 4
    assert rows[-1]["title"] == "Notebook Exercise 3 TODO markers use raise NotImplementedError"
    # header
    assert '<h1 id="lesson-title">Z-Image &amp; Z-Image Turbo</h1>' in html
    assert re.search(r'id="last-verdict" class="verdict verdict-pass">PASS<', html)
    assert "Lesson 12 of 12 in series, Lesson 4 of 4 in module" in html
    # prerequisite audit: the one GAP row highlighted
    gap_rows = re.findall(r'<tr class="prereq gap" data-status="GAP">', html)
    assert len(gap_rows) == 1
    assert html.count('<tr class="prereq ok"') == 13
    # checklists with their checked state
    assert "13 of 13 checked" in html
    assert html.count('<li class="checked">') == 13
    # the lesson as cards
    assert "callout-warning" in html and 'class="compare"' in html
    assert 'id="no-run">no run data' in html


def test_header_splits_the_seed_series_line(seed_plan: LessonPlan):
    facts = dict(header_facts(seed_plan))
    assert facts["Series"] == "7 (Post-SD Advances)"
    assert facts["Module"] == "7.4 (Next-Generation Architectures)"
    assert facts["Position"] == "Lesson 12 of 12 in series, Lesson 4 of 4 in module"


def test_everything_is_escaped():
    plan = LessonPlan(title="A <script>alert(1)</script> & B", slug="x")
    plan.reviews = [
        review(
            1,
            Finding(
                severity=Severity.CRITICAL,
                title="Use <details> not <Row>",
                location="<img src=x onerror=alert(1)>",
                issue="<script>bad()</script>",
                suggested_fix="`<b>` tags",
            ),
        )
    ]
    plan.checklists = []
    html = render_report(ReportInput(plan=plan, slug="x", run={"phases": {"<b>": {"seconds": 1}}}))
    assert "<script>alert(1)" not in html and "<script>bad()" not in html
    assert "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; B" in html
    assert "Use &lt;details&gt; not &lt;Row&gt;" in html
    assert "<img" not in html
    assert "<code>&lt;b&gt;</code>" in html
    assert table_rows(html)[0]["title"] == "Use <details> not <Row>"


def test_page_is_self_contained(seed_plan: LessonPlan, lesson_mdx: str):
    html = render_report(ReportInput(plan=seed_plan, slug="z-image", lesson_mdx=lesson_mdx))
    lowered = html.lower()
    assert "<link" not in lowered
    assert " src=" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered
    assert "@font-face" not in lowered
    # the only absolute URLs are plain links the reader may follow
    for url in re.findall(r"https?://[^\s\"'<>]+", html):
        assert f'href="{url}"' in html


def test_no_review_and_no_lesson_yet():
    html = render_report(
        ReportInput(
            plan=LessonPlan(title="T", slug="t"), slug="t", lesson_source="lessons/build/t.mdx"
        )
    )
    assert 'id="no-reviews"' in html
    assert 'id="no-lesson">Not built yet: <code>lessons/build/t.mdx</code>' in html
    assert 'id="last-verdict" class="verdict verdict-none">not reviewed' in html


# ---------------------------------------------------------------- run data


def test_run_view_reads_a_usage_log():
    usage = pytest.importorskip("lesson_author.llm.usage")
    Usage, UsageLog = usage.Usage, usage.UsageLog
    log = UsageLog()
    log.record(
        Usage(phase="orient", model="m", prompt_tokens=100, completion_tokens=20, latency_s=2.0)
    )
    log.record(
        Usage(phase="review", model="m", prompt_tokens=900, completion_tokens=80, latency_s=65.0)
    )
    log.record(
        Usage(phase="review", model="m", prompt_tokens=900, completion_tokens=80, cached=True)
    )
    view = run_view(log.to_dict())
    assert view is not None
    assert [(p.phase, p.tokens_in, p.tokens_out, p.calls) for p in view.phases] == [
        ("orient", 100, 20, 1),
        ("review", 900, 80, 2),
    ]
    assert view.total.tokens_in == 1000
    assert view.total.seconds == pytest.approx(67.0)


def test_run_view_tolerates_other_shapes():
    view = run_view(
        {
            "usage": {"summary": [{"phase": "build", "prompt_tokens": 5}]},
            "timings": {"build": 12.5, "load": 0.2},
            "model": "smollm2",
        }
    )
    assert view is not None
    assert [(p.phase, p.seconds) for p in view.phases] == [("build", 12.5), ("load", 0.2)]
    assert ("model", "smollm2") in view.facts
    assert run_view({"nothing": 1}) is None
    assert run_view([1, 2]) is None


def test_run_view_sums_node_events():
    events = [
        {"kind": "start", "node": "review"},
        {"kind": "end", "node": "review", "elapsed_s": 10.0, "calls": 1, "prompt_tokens": 50},
        {"kind": "end", "node": "review", "elapsed_s": 5.0, "calls": 1, "prompt_tokens": 25},
        {"kind": "end", "node": "record", "elapsed_s": 0.5},
    ]
    view = run_view({"nodes": events})
    assert view is not None
    assert [(p.phase, p.seconds, p.calls, p.tokens_in) for p in view.phases] == [
        ("review", 15.0, 2, 75),
        ("record", 0.5, None, None),
    ]


def test_run_table_on_the_page(seed_plan: LessonPlan):
    run = {
        "summary": [
            {
                "phase": "design",
                "calls": 2,
                "prompt_tokens": 1200,
                "completion_tokens": 340,
                "latency_s": 75.25,
            }
        ]
    }
    html = render_report(
        ReportInput(plan=seed_plan, slug="z-image", run=run, run_source=".author/runs/z-image.json")
    )
    assert '<table id="phases"' in html
    assert "<td>design</td><td>2</td><td>–</td><td>1,200</td><td>340</td><td>1m 15.2s</td>" in html
    html = render_report(ReportInput(plan=seed_plan, slug="z-image", run={"x": 1}))
    assert "no run data" in html


# ---------------------------------------------------------------- review JSON


def review_json(iteration: int, findings: list[Finding], fixes: list[Verification]) -> dict:
    """What the review step writes to reviews/<slug>/iteration-N.json (its own serializer)."""
    return review_file("z-image", review(iteration, *findings), fixes).model_dump(mode="json")


def test_review_from_json_reads_findings_and_verification():
    earlier = finding("CRITICAL", "Notebook missing")
    data = review_json(
        2,
        [finding("POLISH", "Dash style")],
        [
            Verification(
                earlier, fixed=True, how="re-checked", note="The check no longer raises it."
            )
        ],
    )
    got, checks = review_from_json(data)
    assert got is not None and got.iteration == 2 and got.findings[0].title == "Dash style"
    assert [(c.title, c.fixed, c.how, c.note) for c in checks] == [
        ("Notebook missing", True, "re-checked", "The check no longer raises it.")
    ]
    assert review_from_json("nonsense") == (None, [])
    assert review_from_json({"iteration": 2}) == (None, [])


# ---------------------------------------------------------------- files


def test_write_report_default_path(project: Path):
    out = write_report("z-image", project)
    assert out == project.parent / "reviews" / "z-image" / "report.html"
    html = out.read_text(encoding="utf-8")
    assert len(table_rows(html)) == 8
    assert "lessons/series-7/module-7-4/build/z-image.mdx" in html
    assert "callout-insight" in html
    assert "no run data" in html
    assert 'id="warnings"' not in html


def test_write_report_uses_review_json_and_run_data(project: Path, seed_plan: LessonPlan):
    root = project.parent
    # a third iteration only the pipeline's JSON knows about, verifying iteration 2
    last = seed_plan.reviews[-1].findings[-1]
    write_json(
        root / "reviews" / "z-image" / "iteration-3.json",
        review_json(
            3, [], [Verification(last, fixed=False, how="reviewer", note="message unchanged")]
        ),
    )
    run = {  # the shape of UsageLog.to_dict(), trimmed
        "summary": [
            {
                "phase": "review",
                "requests": 1,
                "calls": 1,
                "cache_hits": 0,
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "latency_s": 1.5,
                "cost": None,
            }
        ],
        "total": {
            "phase": "total",
            "calls": 1,
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "latency_s": 1.5,
        },
    }
    write_json(root / ".author" / "runs" / "z-image.json", run)
    out = write_report("z-image", project, root / "elsewhere" / "r.html")
    html = out.read_text(encoding="utf-8")
    statuses = [r["status"] for r in table_rows(html)]
    assert statuses == ["fixed"] * 6 + ["fixed", "open"]
    assert "iteration 3 says not fixed (reviewer): message unchanged" in html
    assert "<td>review</td><td>1</td><td>0</td><td>10</td><td>5</td><td>1.5s</td>" in html


def test_write_report_without_a_build(tmp_path: Path, seed_text: str):
    records = make_project(tmp_path, seed_text, built=False)
    html = write_report("z-image", records).read_text(encoding="utf-8")
    assert 'id="no-lesson"' in html


def test_write_report_errors_are_user_errors(project: Path):
    with pytest.raises(UserError, match="unknown lesson slug 'nope'"):
        write_report("nope", project)
    with pytest.raises(UserError, match="no planning document yet"):
        write_report("sdxl", project)


def test_unusable_side_files_are_reported_not_fatal(project: Path):
    root = project.parent
    folder = root / "reviews" / "z-image"
    folder.mkdir(parents=True)
    (folder / "iteration-1.json").write_text("{not json", encoding="utf-8")
    (folder / "iteration-2.json").write_text('{"unrelated": true}', encoding="utf-8")
    (root / ".author" / "runs").mkdir(parents=True)
    (root / ".author" / "runs" / "z-image.json").write_bytes(b"\xff\xfe")
    html = write_report("z-image", project).read_text(encoding="utf-8")
    warnings = re.search(r'<div class="warnings" id="warnings">(.*?)</div>', html, re.DOTALL).group(
        1
    )
    assert "reviews/z-image/iteration-1.json: not valid JSON" in warnings
    assert "reviews/z-image/iteration-2.json: not a review file; not used" in warnings
    assert ".author/runs/z-image.json: cannot be read" in warnings
    assert len(table_rows(html)) == 8  # the planning document's reviews still show


def test_report_is_deterministic(project: Path):
    first = write_report("z-image", project).read_text(encoding="utf-8")
    second = write_report("z-image", project).read_text(encoding="utf-8")
    assert first == second
    assert json.dumps(first)  # plain text, no binary
