"""Finding status across review iterations: fixed, carried, open or accepted.

One rule for every reader of the reviews: ``author findings`` and ``author report``.

The rule (also printed on the report page, see :data:`STATUS_RULE`):

- a finding of iteration N that is not the last iteration is **fixed** when
  iteration N+1's verification says it was fixed, or -- when N+1 says nothing
  about it -- when no finding of N+1 is the same finding (one identity, see
  :func:`lesson_author.review.findings.finding_key`: the rule id and place of a
  deterministic finding, the section and normalized title of a reviewer's);
  it is **carried** when it appears again in
  N+1 (the later row carries its status), and **open** when N+1's
  verification says it was not fixed yet it was not raised again;
- a finding of the last iteration is **open**, unless that iteration found
  POLISH only (its verdict is PASS): then it is **accepted** -- the lesson
  passed with it, and fixing it is optional.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lesson_author.course.models import Finding, Review, Severity, Verdict, verdict_for
from lesson_author.review.findings import Verification, same_issue, title_key  # noqa: F401

FIXED, CARRIED, OPEN, ACCEPTED = "fixed", "carried", "open", "accepted"

STATUS_RULE = (
    "A finding of iteration N (not the last) is fixed when iteration N+1's verification says so, "
    "or, when N+1 says nothing about it, when no finding of N+1 is the same finding (a check's "
    "finding: the same rule at the same place; a reviewer's: the same section and title, ignoring "
    "case, punctuation and spacing). It is carried when it appears again in N+1 (the later row has its "
    "status), and open when N+1 says it was not fixed. Findings of the last iteration are open, "
    "unless that iteration found POLISH only (verdict PASS): then they are accepted, because the "
    "lesson passed with them and fixing them is optional."
)


@dataclass
class FindingRow:
    iteration: int
    severity: Severity
    title: str
    location: str
    issue: str
    student_impact: str
    suggested_fix: str
    status: str
    status_note: str

    @property
    def severity_class(self) -> str:
        return self.severity.value.lower()


def iteration_numbers(reviews: list[Review]) -> list[int]:
    numbers: list[int] = []
    for n, review in enumerate(reviews, start=1):
        it = review.iteration if review.iteration is not None else n
        numbers.append(it)
    return numbers


def finding_rows(
    reviews: list[Review], verifications: dict[int, list[Verification]] | None = None
) -> list[FindingRow]:
    """Every finding of every review, in iteration order, with its status (see the module doc).

    ``verifications[n]`` lists what iteration ``n`` says about iteration ``n-1``'s findings.
    """
    verifications = verifications or {}
    numbers = iteration_numbers(reviews)
    rows: list[FindingRow] = []
    for k, review in enumerate(reviews):
        number = numbers[k]
        last = k == len(reviews) - 1
        later = reviews[k + 1] if not last else None
        later_number = numbers[k + 1] if not last else None
        checks = verifications.get(later_number, []) if later_number is not None else []
        polish_only = verdict_for(f.severity for f in review.findings) is Verdict.PASS
        for finding in review.findings:
            status, note = _status(finding, last, polish_only, later, later_number, checks)
            rows.append(
                FindingRow(
                    iteration=number,
                    severity=finding.severity,
                    title=finding.title,
                    location=finding.location,
                    issue=finding.issue,
                    student_impact=finding.student_impact,
                    suggested_fix=finding.suggested_fix,
                    status=status,
                    status_note=note,
                )
            )
    return rows


def _status(
    finding: Finding,
    last: bool,
    polish_only: bool,
    later: Review | None,
    later_number: int | None,
    checks: list[Verification],
) -> tuple[str, str]:
    if last or later is None:
        if polish_only:
            return ACCEPTED, "passed with this polish; fixing it is optional"
        return OPEN, "raised by the last review"
    again = any(same_issue(finding, f) for f in later.findings)
    check = next((c for c in checks if same_issue(finding, c.finding)), None)
    where = f"iteration {later_number}"
    if check is not None:
        detail = (f" ({check.how})" if check.how else "") + (
            f": {check.note}" if check.note else ""
        )
        if check.fixed is True:
            return FIXED, f"verified fixed in {where}{detail}"
        if check.fixed is None:
            return ACCEPTED, f"deferred in {where}{detail}"
        if again:
            return CARRIED, f"not fixed; raised again in {where}"
        return OPEN, f"{where} says not fixed{detail}"
    if again:
        return CARRIED, f"raised again in {where}"
    return FIXED, f"not raised again in {where}"


def status_counts(rows: list[FindingRow]) -> dict[str, int]:
    counts = Counter(r.status for r in rows)
    return {s: counts.get(s, 0) for s in (FIXED, CARRIED, OPEN, ACCEPTED)}
