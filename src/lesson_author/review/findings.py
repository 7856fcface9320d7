"""Findings from two sources made into one review.

* :func:`merge_findings` joins the deterministic findings and the LLM reviewer's,
  dropping the reviewer's duplicates.  A deterministic finding is never dropped
  or downgraded, so the verdict (:func:`verdict_for` over *all* findings) can
  never be out-voted by a reviewer that says PASS.
* :func:`finding_key` is the one identity of a finding (rule id and place for a
  deterministic finding, section and normalized title for the reviewer's), used
  here, by ``author findings`` and by the report.
* :func:`verify_previous` says, for each finding of the previous iteration,
  whether it is fixed: deterministic findings are re-checked (fixed when the
  rule no longer raises them at that place), the reviewer's are judged by the reviewer
  (``ReviewerOutput.verification``), and a finding the current review still
  reports is open whatever the reviewer says.
* :func:`make_review` builds the :class:`Review` (counts and verdict computed)
  with the seed's "Verification of iteration N fixes" in its notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lesson_author.checks.registry import is_deterministic
from lesson_author.course.models import Finding, Review, Severity, verdict_for
from lesson_author.lesson.lesson_doc import BuiltLesson
from lesson_author.lesson.schemas import FixJudgment, ReviewerFinding, tidy
from lesson_author.text.words import words_overlap

SEVERITIES = (Severity.CRITICAL, Severity.IMPROVEMENT, Severity.POLISH)
_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
]


# ---------------------------------------------------------------- one identity for a finding


def title_key(title: str) -> str:
    """A finding title for comparison: lowercase words only."""
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


def place_key(location: str) -> str:
    """Where a finding is, for comparison: ``notebook cell N``, ``section N[,M]`` when the
    location names outline sections, else its lowercase words."""
    text = location.lower()
    cell = re.search(r"notebook cell\s+(\d+)", text)
    if cell:
        return f"notebook cell {cell.group(1)}"
    numbers = sorted(set(re.findall(r"\bsections?\s+(\d+)", text)), key=int)
    if numbers:
        return "section " + ",".join(numbers)
    return title_key(location) or "whole lesson"


def finding_key(finding: Finding) -> tuple[str, ...]:
    """The one identity of a finding, used by the run (merge, verification), ``author findings``
    and the report: a deterministic finding is its rule id at its place (a rule raises one finding
    per place and subject, so its title is added as written by the rule); a reviewer finding is
    its section and its normalized title."""
    if finding.rule:
        return ("rule", finding.rule, place_key(finding.location), title_key(finding.title))
    return ("reviewer", place_key(finding.location), title_key(finding.title))


def same_issue(a: Finding, b: Finding) -> bool:
    """Whether two findings report the same problem (see :func:`finding_key`). A reviewer
    finding is compared with a check's by the reviewer's identity (section and title), so a
    reviewer repeating a check's finding is recognised as a duplicate."""
    if bool(a.rule) != bool(b.rule):
        return finding_key(a)[-2:] == finding_key(b)[-2:]
    return finding_key(a) == finding_key(b)


def locate_section(text: str, lesson: BuiltLesson | None) -> str:
    """A reviewer's free-text section reference as the canonical location label."""
    text = " ".join(text.split())
    if not text:
        return "Whole lesson"
    if re.search(r"notebook|exercise", text, re.IGNORECASE):
        return f"Notebook ({text})" if not text.lower().startswith("notebook") else text
    if lesson is None:
        return text
    m = re.search(r"(?:section\s*)?#?(\d+)\b", text, re.IGNORECASE)
    if m:
        found = lesson.section(int(m.group(1)))
        if found is not None:
            return found.label
        if re.fullmatch(r"(?:section\s*)?#?\d+", text, re.IGNORECASE):
            return f"Section {m.group(1)}"  # an outline number the built sections do not carry
    best, score = None, 0.0
    for section in lesson.sections:
        s = max(words_overlap(text, section.heading), words_overlap(text, section.outline_title))
        if s > score:
            best, score = section, s
    if best is not None and score >= 0.5:
        return best.label
    return text


def from_reviewer(draft: ReviewerFinding, lesson: BuiltLesson | None) -> Finding:
    return Finding(
        severity=Severity(draft.severity),
        title=" ".join(tidy(draft.title).split()) or "Reviewer finding",
        location=locate_section(draft.section, lesson),
        issue=tidy(draft.issue),
        student_impact=tidy(draft.student_impact),
        suggested_fix=tidy(draft.suggested_fix),
    )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; the order within a severity is kept."""
    return sorted(findings, key=lambda f: -f.severity.rank)


def merge_findings(deterministic: Sequence[Finding], reviewer: Sequence[Finding]) -> list[Finding]:
    """All findings, de-duplicated: a reviewer finding that repeats a kept one is dropped
    (the kept one takes the higher severity of the two); deterministic findings always stay,
    once each."""
    kept: list[Finding] = []
    for finding in deterministic:
        if all(not same_issue(k, finding) for k in kept):
            kept.append(finding.model_copy())
    for finding in reviewer:
        duplicate = next((k for k in kept if same_issue(k, finding)), None)
        if duplicate is None:
            kept.append(finding.model_copy())
        elif finding.severity > duplicate.severity:
            duplicate.severity = finding.severity
    return sort_findings(kept)


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    """What a later review says about one finding of the review before it: fixed (True), not
    fixed (False) or accepted/deferred (None), how that was judged ("re-checked" for a
    deterministic finding, "reviewer", "still reported", "not reported") and why.

    One class for the run (``verify_previous``), the review files and ``author findings``/the
    report (``review.status``)."""

    finding: Finding
    fixed: bool | None
    how: str = ""
    note: str = ""

    @property
    def title(self) -> str:
        return self.finding.title


def verify_previous(
    previous: Review,
    current: Sequence[Finding],
    judgments: Sequence[FixJudgment] = (),
) -> list[Verification]:
    by_number = {j.finding: j for j in judgments}
    statuses = []
    for number, earlier in enumerate(previous.findings, start=1):
        still = any(same_issue(earlier, f) for f in current)
        if is_deterministic(earlier):
            statuses.append(
                Verification(
                    earlier,
                    fixed=not still,
                    how="re-checked",
                    note="The check no longer raises it."
                    if not still
                    else "The check still raises it.",
                )
            )
            continue
        judged = by_number.get(number)
        if still:
            note = judged.note if judged is not None and not judged.fixed else ""
            statuses.append(
                Verification(earlier, fixed=False, how="still reported", note=tidy(note))
            )
        elif judged is not None:
            statuses.append(
                Verification(earlier, fixed=judged.fixed, how="reviewer", note=tidy(judged.note))
            )
        else:
            statuses.append(Verification(earlier, fixed=True, how="not reported"))
    return statuses


def _count_word(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def verification_text(previous_iteration: int, statuses: Sequence[Verification]) -> str:
    """The seed's ``**Verification of iteration N fixes:**`` paragraph and numbered list."""
    head = f"**Verification of iteration {previous_iteration} fixes:**"
    if not statuses:
        return f"{head}\nIteration {previous_iteration} had no findings."
    open_ = [s for s in statuses if not s.fixed]
    total = len(statuses)
    if not open_:
        lead = (
            f"All {_count_word(total)} findings from iteration {previous_iteration} have been addressed:"
            if total > 1
            else f"The finding from iteration {previous_iteration} has been addressed:"
        )
    else:
        lead = (
            f"{len(open_)} of {total} findings from iteration {previous_iteration} "
            f"{'is' if len(open_) == 1 else 'are'} still open:"
        )
    lines = [head, lead, ""]
    for i, s in enumerate(statuses, start=1):
        state = "Fixed." if s.fixed else "Open."
        detail = {
            "re-checked": "Re-checked deterministically: " + s.note[0].lower() + s.note[1:]
            if s.note
            else "",
            "reviewer": s.note,
            "still reported": "This review reports it again." + (f" {s.note}" if s.note else ""),
            "not reported": "No longer reported by the reviewer.",
        }[s.how]
        text = f"{i}. **{s.finding.severity.value} ({s.finding.title}):** {state}"
        if detail:
            text += f" {detail}"
        lines.append(text)
    return "\n".join(lines)


def counts_of(findings: Iterable[Finding]) -> dict[Severity, int]:
    found = list(findings)
    return {s: sum(1 for f in found if f.severity is s) for s in SEVERITIES}


def reviewer_notes(strengths: Sequence[str], assessment: str) -> str:
    """The "What works well" list and the overall assessment, as the seed writes them."""
    parts = []
    items = [tidy(s) for s in strengths if s.strip()]
    if items:
        parts.append("**What works well:**\n" + "\n".join(f"- {s}" for s in items))
    if assessment.strip():
        parts.append("**Overall assessment:**\n" + tidy(assessment))
    return "\n\n".join(parts)


def make_review(
    date: str,
    iteration: int,
    of: int,
    findings: Sequence[Finding],
    notes: str = "",
    previous: Review | None = None,
    judgments: Sequence[FixJudgment] = (),
) -> Review:
    """The review of one iteration: findings most severe first, counts and verdict computed,
    and (iteration 2+) the verification of the previous iteration's findings in the notes."""
    ordered = sort_findings(findings)
    parts = []
    if previous is not None and iteration >= 2:
        statuses = verify_previous(previous, ordered, judgments)
        parts.append(verification_text(previous.iteration or iteration - 1, statuses))
    if notes.strip():
        parts.append(notes.strip())
    if not parts:
        parts.append("No notes.")
    return Review(
        date=date,
        iteration=iteration,
        of=of,
        counts=counts_of(ordered),
        verdict=verdict_for(f.severity for f in ordered),
        findings=ordered,
        notes="\n\n".join(parts),
    )


def open_findings(reviews: Sequence[Review]) -> list[Finding]:
    """What the latest review still reports."""
    return list(reviews[-1].findings) if reviews else []
