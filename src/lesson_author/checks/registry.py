"""The deterministic review rules, by id.

Every rule has a stable kebab-case id (written on its findings as ``Finding.rule``, in the
planning document as ``(rule: ID)`` after the Location, and in ``reviews/<slug>/iteration-N.json``),
a default severity and a one-line summary. A *check* is a function of the :class:`Review input
<lesson_author.checks.review_checks.ReviewInput>` that may raise findings of the rules it declares;
:func:`lesson_author.checks.review_checks.review_checks` runs every registered check in order.

Revise, ``author findings`` and the report key on the rule id (see
:func:`lesson_author.review.findings.finding_key`), never on a finding's title text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lesson_author.course.models import Finding, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str

    def finding(
        self,
        *,
        title: str,
        location: str,
        issue: str,
        student_impact: str,
        suggested_fix: str,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            severity=severity or self.severity,
            rule=self.id,
            title=title,
            location=location,
            issue=issue,
            student_impact=student_impact,
            suggested_fix=suggested_fix,
        )


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, summary: str) -> Rule:
    """Register a rule (ids are unique)."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id!r} registered twice")
    RULES[rule_id] = Rule(rule_id, severity, summary)
    return RULES[rule_id]


C, I, P = Severity.CRITICAL, Severity.IMPROVEMENT, Severity.POLISH

# ---- files
LESSON_MISSING = rule("lesson-missing", C, "the built lesson file does not exist")
NOTEBOOK_MISSING = rule("notebook-missing", C, "the practice notebook does not exist")
NOTEBOOK_INVALID = rule("notebook-invalid", C, "the notebook is not a valid nbformat v4 notebook")
# ---- plan vs build (structure)
SECTION_MISSING = rule("section-missing", I, "a planned outline section is not in the build")
CHECK_MISSING = rule("check-missing", I, "a planned check section has fewer questions than planned")
MODALITY_MISSING = rule("modality-missing", I, "no block carries a planned modality")
EXERCISE_COUNT = rule("exercise-count", I, "the notebook's exercise count differs from the plan")
EXERCISE_SCAFFOLDING = rule(
    "exercise-scaffolding", I, "the exercises' scaffolding levels differ from the plan"
)
EM_DASHES = rule("em-dashes", P, "visible text uses em dashes with spaces around them")
UNTAUGHT_CONCEPT = rule(
    "untaught-concept", I, "a concept the records mark NOT TAUGHT is used with no gap resolution"
)
# ---- notebook content
NOTEBOOK_SYNTAX = rule("notebook-syntax", C, "a notebook code cell does not parse")
NOTEBOOK_RUNS = rule("notebook-runs", C, "a notebook cell fails when run top to bottom")
NOTEBOOK_EXERCISE = rule(
    "notebook-exercise", C, "an exercise's asserts fail against its own solution"
)
NOTEBOOK_NOT_RUN = rule(
    "notebook-not-run", P, "the notebook was parsed but not executed (execution off or impossible)"
)
# ---- lesson content
MDX_COMPILE = rule(
    "mdx-compile", C, "the lesson does not compile with @mdx-js/mdx 3 (or was not compiled)"
)
MDX_COMPONENT = rule(
    "mdx-component", C, "the lesson uses a component the lesson format does not know"
)
CODE_SYNTAX = rule("code-syntax", I, "a code block of the lesson does not parse in its language")
DEGENERATE_TEXT = rule("degenerate-text", C, "degenerate text (loops, repeats, placeholders)")
EMPTY_SECTION = rule("empty-section", C, "a section has a heading and nothing under it")
NO_ANSWER = rule(
    "no-answer", C, "the lesson or notebook shows '(no usable answer)' where the model wrote none"
)
# ---- coverage against the plan
CONCEPT_NOT_TAUGHT = rule("concept-not-taught", C, "a planned new concept appears nowhere")
MISCONCEPTION_UNADDRESSED = rule(
    "misconception-unaddressed", I, "a planned misconception is not addressed where planned"
)
CHECK_UNANSWERED = rule("check-unanswered", I, "a check question has no answer to reveal")
# POLISH: a word match cannot tell a forward mention ("this enables X, next section") from a
# use that needs the concept; it is reported, and does not block a PASS on its own
CONCEPT_BEFORE_TAUGHT = rule(
    "concept-before-taught", P, "a new concept is used in a section before the one that teaches it"
)
# ---- raised by the LLM reviewer's content pass, listed so the id is one everywhere
PLAN_CONTRADICTION = rule(
    "plan-contradiction", C, "the lesson states something the plan says is false"
)


Check = Callable[[Any], list[Finding]]


@dataclass(frozen=True)
class RegisteredCheck:
    name: str
    rules: tuple[Rule, ...]
    run: Check


CHECKS: list[RegisteredCheck] = []


def check(*rules: Rule) -> Callable[[Check], Check]:
    """Register ``fn`` as the check that raises ``rules`` (run in registration order)."""

    def register(fn: Check) -> Check:
        CHECKS.append(RegisteredCheck(fn.__name__, rules, fn))
        return fn

    return register


def rule_of(finding: Finding) -> Rule | None:
    """The deterministic rule that raised ``finding`` (None: the LLM reviewer's)."""
    return RULES.get(finding.rule) if finding.rule else None


def is_deterministic(finding: Finding) -> bool:
    """Whether a deterministic rule raised ``finding`` (it carries a known rule id)."""
    return (
        finding.rule is not None and finding.rule in RULES and finding.rule != "plan-contradiction"
    )
