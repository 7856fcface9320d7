"""Merging findings, the verdict, and the verification of the previous iteration."""

from __future__ import annotations

from lesson_author.checks.review_checks import NOTEBOOK_MISSING
from lesson_author.course.models import Finding, Review, Severity, Verdict
from lesson_author.lesson.schemas import FixJudgment, ReviewerFinding
from lesson_author.review.findings import (
    from_reviewer,
    make_review,
    merge_findings,
    same_issue,
    verify_previous,
)

NOTEBOOK = Finding(
    severity=Severity.CRITICAL, rule="notebook-missing", title=NOTEBOOK_MISSING, location="Notebook"
)


def finding(severity: str, title: str, location: str = "Whole lesson") -> Finding:
    return Finding(severity=Severity(severity), title=title, location=location, issue=f"{title}.")


def test_a_deterministic_critical_cannot_be_outvoted() -> None:
    merged = merge_findings([NOTEBOOK], [])  # the reviewer found nothing: "PASS"
    review = make_review("2026-02-20", 1, 3, merged, "Looks great.")
    assert review.verdict is Verdict.MAJOR_REVISION
    assert review.counts == {Severity.CRITICAL: 1, Severity.IMPROVEMENT: 0, Severity.POLISH: 0}
    # a reviewer repeating it as POLISH neither duplicates nor downgrades it
    merged = merge_findings([NOTEBOOK], [finding("POLISH", "Notebook missing", "Notebook")])
    assert [(f.severity, f.title) for f in merged] == [(Severity.CRITICAL, NOTEBOOK_MISSING)]


def test_reviewer_duplicates_are_dropped_and_the_higher_severity_kept() -> None:
    # one identity: a reviewer finding is its section and its title (case, punctuation and
    # spacing ignored); a deterministic finding is its rule at its place
    a = finding("POLISH", "Em dashes with spaces in visible text", "Section 4 (Explain)")
    b = finding("IMPROVEMENT", "Em dashes, with spaces in visible text!", "Section 4 (Explain: X)")
    c = finding("IMPROVEMENT", "Prompt Enhancer explanation is shallow", "Section 6 (Text)")
    merged = merge_findings([a], [b, c])
    assert [(f.severity, f.title) for f in merged] == [
        (Severity.IMPROVEMENT, "Em dashes with spaces in visible text"),
        (Severity.IMPROVEMENT, "Prompt Enhancer explanation is shallow"),
    ]
    assert not same_issue(
        finding("IMPROVEMENT", "Check answers too short", "Section 5 (Check #1)"),
        finding("IMPROVEMENT", "Check answers too short", "Section 8 (Check #2)"),
    )
    # two findings of one rule at two places are two findings; at one place, one
    runs = Finding(
        severity=Severity.CRITICAL,
        rule="notebook-runs",
        title="Cell fails",
        location="Notebook cell 3",
    )
    assert not same_issue(runs, runs.model_copy(update={"location": "Notebook cell 5"}))
    assert same_issue(runs, runs.model_copy(update={"issue": "another error text"}))
    # a reviewer's finding never matches a rule's by wording alone at another place
    assert not same_issue(runs, finding("CRITICAL", "Cell fails", "Notebook cell 4"))


def test_reviewer_section_becomes_the_canonical_location() -> None:
    draft = ReviewerFinding(
        severity="IMPROVEMENT", title="Shallow \u2014 explanation", section="9", issue="x"
    )
    assert from_reviewer(draft, None).location == "9"
    assert from_reviewer(draft, None).title == "Shallow\u2014explanation"


def seed_iteration_1() -> Review:
    findings = [
        NOTEBOOK,
        finding(
            "IMPROVEMENT",
            "Visual semantic tokens introduced without adequate explanation",
            "Section 4",
        ),
        finding("IMPROVEMENT", "Decoupled-DMD loss decomposition modality missing", "Section 9"),
        finding(
            "IMPROVEMENT", "Prompt Enhancer explanation is shallow and disconnected", "Section 6"
        ),
        finding("POLISH", "Em dashes with spaces in visible text", "Section 4"),
        finding("POLISH", "Flux.2 Dev reference may be incorrect", "Section 13"),
    ]
    return make_review("2026-02-20", 1, 3, findings, "")


def test_iteration_two_verifies_every_earlier_finding() -> None:
    previous = seed_iteration_1()
    assert previous.verdict is Verdict.MAJOR_REVISION
    current = [
        finding("POLISH", "Aside repeats body text", "Section 4"),
        finding("POLISH", "Notebook TODO markers could be more helpful", "Notebook"),
    ]
    judgments = [FixJudgment(finding=n, fixed=True, note="Done.") for n in range(2, 7)]
    review = make_review(
        "2026-02-20", 2, 3, current, "**What works well:**\n- Arc.", previous, judgments
    )
    assert review.verdict is Verdict.PASS
    assert review.counts[Severity.POLISH] == 2
    assert review.notes.startswith(
        "**Verification of iteration 1 fixes:**\nAll six findings from iteration 1"
    )
    assert "1. **CRITICAL (Notebook missing):** Fixed. Re-checked deterministically" in review.notes
    assert "6. **POLISH (Flux.2 Dev reference may be incorrect):** Fixed. Done." in review.notes
    assert review.notes.endswith("**What works well:**\n- Arc.")


def test_deterministic_findings_are_rechecked_not_judged() -> None:
    previous = seed_iteration_1()
    # the reviewer claims everything is fixed, but the notebook is still missing
    judgments = [FixJudgment(finding=n, fixed=True) for n in range(1, 7)]
    statuses = verify_previous(previous, [NOTEBOOK], judgments)
    assert [s.fixed for s in statuses] == [False, True, True, True, True, True]
    assert statuses[0].how == "re-checked"
    review = make_review("2026-02-20", 2, 3, [NOTEBOOK], "", previous, judgments)
    assert "1 of 6 findings from iteration 1 is still open:" in review.notes
    assert review.verdict is Verdict.MAJOR_REVISION


def test_a_finding_reported_again_is_open_whatever_the_reviewer_says() -> None:
    previous = seed_iteration_1()
    again = finding(
        "IMPROVEMENT", "Prompt Enhancer explanation is shallow and disconnected", "Section 6"
    )
    judgments = [FixJudgment(finding=4, fixed=True)]
    statuses = verify_previous(previous, [again], judgments)
    assert statuses[3].fixed is False and statuses[3].how == "still reported"
    # the reviewer says one LLM finding is not fixed, and nothing reports it: it stays open
    statuses = verify_previous(
        previous, [], [FixJudgment(finding=3, fixed=False, note="Still no pseudocode.")]
    )
    assert statuses[2].fixed is False and statuses[2].note == "Still no pseudocode."
