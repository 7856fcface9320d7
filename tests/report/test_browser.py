"""The report in a real headless Chromium: the DOM after scripts ran, and a screenshot artifact.

Needs Debian's ``chromium`` at /usr/bin/chromium (``.ci/run`` installs it with apt-get);
skips with that reason when it is absent.  Each browser run is bounded by a timeout and
killed with its whole process group if it ever hangs.  The screenshot is kept under
``test-artifacts/report/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_helpers import REPO

from lesson_author.report.html import write_report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "report"
TIMEOUT_S = 90

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs headless Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does)",
)


def run_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run on ``page``; always stops by itself or is killed."""
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *extra,
        page.resolve().as_uri(),
    ]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a hang can be killed whole
        env={**os.environ, "HOME": str(profile)},
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish within {TIMEOUT_S}s on {page}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


class FindingsTable(HTMLParser):
    """Rows of ``table#findings`` as the browser left them, plus a few page facts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, object]] = []
        self.body_attrs: dict[str, str | None] = {}
        self.filter_count = ""
        self._in_table = False
        self._capture: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body_attrs = a
        if tag == "table" and a.get("id") == "findings":
            self._in_table = True
        if self._in_table and tag == "tr" and "finding" in (a.get("class") or "").split():
            self.rows.append(
                {
                    "severity": a.get("data-severity"),
                    "status": a.get("data-status"),
                    "iteration": a.get("data-iteration"),
                    "hidden": "hidden" in a,
                    "title": "",
                }
            )
        if self._in_table and tag == "div" and a.get("class") == "finding-title":
            self._capture, self._buf = "title", []
        if tag == "span" and a.get("id") == "filter-count":
            self._capture, self._buf = "count", []

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        if self._capture == "title" and tag == "div":
            self.rows[-1]["title"] = " ".join("".join(self._buf).split())
            self._capture = None
        if self._capture == "count" and tag == "span":
            self.filter_count = "".join(self._buf).strip()
            self._capture = None

    def handle_data(self, data):
        if self._capture:
            self._buf.append(data)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture
def report_page(project: Path) -> Path:
    return write_report("z-image", project)


def test_findings_table_in_chromium(report_page: Path, tmp_path: Path):
    result = run_chromium(report_page, tmp_path / "profile-dom", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = FindingsTable()
    dom.feed(result.stdout)
    # the inline script ran: filters ready, all rows visible, the count filled in
    assert dom.body_attrs.get("data-filters") == "ready"
    assert dom.filter_count == "8 of 8 findings shown"
    rows = dom.rows
    assert len(rows) == 8
    assert not any(r["hidden"] for r in rows)
    by_severity = {
        s: [r for r in rows if r["severity"] == s] for s in ("CRITICAL", "IMPROVEMENT", "POLISH")
    }
    assert {s: len(v) for s, v in by_severity.items()} == {
        "CRITICAL": 1,
        "IMPROVEMENT": 3,
        "POLISH": 4,
    }
    assert [r["title"] for r in by_severity["CRITICAL"]] == ["Notebook missing"]
    assert [r["title"] for r in by_severity["IMPROVEMENT"]] == [
        "Visual semantic tokens introduced without adequate explanation",
        "Decoupled-DMD loss decomposition modality missing",
        "Prompt Enhancer explanation is shallow and disconnected",
    ]
    assert [r["title"] for r in by_severity["POLISH"]] == [
        "Em dashes with spaces in CodeBlock content and comments",
        '"Flux.2 Dev" reference may be incorrect',
        'Aside repeats body text in "Simplicity, Not Novelty" InsightBlock',
        "Notebook Exercise 3 TODO markers use raise NotImplementedError",
    ]
    assert [(r["iteration"], r["status"]) for r in rows] == [("1", "fixed")] * 6 + [
        ("2", "accepted")
    ] * 2
    # escaped content stays text in the live DOM: the lesson's "<Not>" title is no element
    assert "Simplicity, &lt;Not&gt; Novelty" in result.stdout
    assert "<not>" not in result.stdout.lower()


def test_screenshot_artifact(report_page: Path, tmp_path: Path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "z-image.png"
    shot.unlink(missing_ok=True)
    result = run_chromium(
        report_page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2000"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file(), result.stderr[-2000:]
    assert png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    shutil.copy(report_page, ARTIFACTS / "z-image.html")
