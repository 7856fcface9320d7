"""What the model must return at each step of planning: small, strict pydantic schemas.

Every string has a max_length and every list a max_length, so the longest
possible reply is bounded (`llm.schema_budget.unbounded_fields(schema) == []`)
and a small local model under constrained decoding cannot ramble past it.
Counts the plan checks need are part of the structure (>= 3 misconceptions,
>= 2 positive + >= 1 negative examples, >= 3 modalities, <= 3 new concepts,
Guided -> Supported -> Independent exercises), and depths, load types and
example types are enums, so a reply that validates has the plan's shape; the
plan checks then judge its content.

Depths, sources and OK/GAP statuses are never asked for: they come from the records.
"""

from __future__ import annotations

import enum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

# phases (the `phase` of each model call; scripted providers are keyed by these)
ORIENT = "orient"
ANALYZE = "analyze"
ANALYZE_GAPS = "analyze_gaps"
ANALYZE_MISCONCEPTIONS = "analyze_misconceptions"
ANALYZE_EXAMPLES = "analyze_examples"
DESIGN = "design"
DESIGN_SCOPE = "design_scope"
DESIGN_OUTLINE = "design_outline"
DESIGN_SECTION = "design_section"
DESIGN_PRACTICE = "design_practice"

MAX_CANDIDATE_ID = 999


def Text(max_length: int, min_length: int = 1) -> type[str]:
    """A stripped string between min_length and max_length characters."""
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    ]


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequiredDepth(str, enum.Enum):
    """Depths a prerequisite may require (NOT TAUGHT is never a requirement)."""

    MENTIONED = "MENTIONED"
    INTRODUCED = "INTRODUCED"
    DEVELOPED = "DEVELOPED"
    APPLIED = "APPLIED"


class LoadType(str, enum.Enum):
    BUILD = "BUILD"
    STRETCH = "STRETCH"
    CONSOLIDATE = "CONSOLIDATE"


class GapSize(str, enum.Enum):
    SMALL = "Small"
    MEDIUM = "Medium"
    LARGE = "Large"


class ModalityKind(str, enum.Enum):
    CONCRETE = "Concrete example"
    VISUAL = "Visual"
    VERBAL = "Verbal/Analogy"
    SYMBOLIC = "Symbolic"
    INTUITIVE = "Intuitive"
    GEOMETRIC = "Geometric/Spatial"
    INTERACTIVE = "Interactive"


# ---------------------------------------------------------------- orient


class ConceptPick(Reply):
    id: int = Field(ge=1, le=MAX_CANDIDATE_ID, description="the candidate row's [id]")
    note: Text(200) = Field(description="why this concept matters for this lesson")  # type: ignore[valid-type]


class MentalModelNote(Reply):
    name: Text(80) = Field(description="the mental model or analogy, as the records name it")  # type: ignore[valid-type]
    use: Text(240) = Field(description="how this lesson can use or extend it")  # type: ignore[valid-type]


class NotCoveredNote(Reply):
    topic: Text(90)  # type: ignore[valid-type]
    detail: Text(240) = Field(description="what the records show, and what this lesson must add")  # type: ignore[valid-type]


RELEVANT_MAX = 10


class OrientReply(Reply):
    relevant: list[ConceptPick] = Field(min_length=3, max_length=RELEVANT_MAX)
    missing: list[Text(100)] = Field(  # type: ignore[valid-type]
        default_factory=list,
        max_length=3,
        description="concepts the lesson needs that no candidate row covers",
    )
    mental_models: list[MentalModelNote] = Field(min_length=1, max_length=4)
    not_covered: list[NotCoveredNote] = Field(min_length=1, max_length=4)
    readiness: Text(700, 40)  # type: ignore[valid-type]


# ---------------------------------------------------------------- analyze


class AssumedConcept(Reply):
    id: int = Field(ge=1, le=MAX_CANDIDATE_ID, description="the concept's [id] in the list")
    required: RequiredDepth
    reasoning: Text(220) = Field(description="why this lesson needs it at that depth")  # type: ignore[valid-type]


class PrerequisiteClaim(Reply):
    concept: Text(120) = Field(description="a prerequisite the list lacks, named briefly")  # type: ignore[valid-type]
    required: RequiredDepth
    reasoning: Text(220) = Field(description="why this lesson needs it at that depth")  # type: ignore[valid-type]


PREREQUISITES_MIN = 3
ASSUMED_MAX = 6
MISSING_MAX = 4


class AnalyzeReply(Reply):
    """Prerequisites are picked from the student's concepts by id (`assumed`) or, where the
    list lacks one, named (`missing`, which the audit usually finds NOT TAUGHT: a gap)."""

    target_concept: Text(400, 30) = Field(  # type: ignore[valid-type]
        description="one or two sentences naming the new ideas the lesson teaches"
    )
    assumed: list[AssumedConcept] = Field(default_factory=list, max_length=ASSUMED_MAX)
    missing: list[PrerequisiteClaim] = Field(default_factory=list, max_length=MISSING_MAX)


class GapPlan(Reply):
    gap: int = Field(ge=1, le=8, description="the gap's number in the list")
    size: GapSize
    size_reason: Text(200)  # type: ignore[valid-type]
    resolution: Text(400, 20)  # type: ignore[valid-type]


class GapReply(Reply):
    gaps: list[GapPlan] = Field(min_length=1, max_length=3)


# ---------------------------------------------------------------- numbered choices
#
# A constrained decoder enforces enums but not integer bounds, so where the model
# picks a numbered row the number is an enum of the rows that exist: a small
# model cannot answer "id 1111111".


def _numbers(count: int) -> type:
    return Literal[tuple(range(1, max(1, count) + 1))]  # type: ignore[return-value]


@lru_cache(maxsize=64)
def orient_schema(candidates: int) -> type[OrientReply]:
    """OrientReply whose ids can only be the ids 1..`candidates` of the candidate list."""
    pick = create_model(
        "ConceptPick",
        __base__=ConceptPick,
        id=(_numbers(candidates), Field(description="the candidate row's [id]")),
    )
    return create_model(  # type: ignore[call-overload, no-any-return]
        "OrientReply",
        __base__=OrientReply,
        relevant=(list[pick], Field(min_length=min(3, candidates), max_length=RELEVANT_MAX)),  # type: ignore[valid-type]
    )


@lru_cache(maxsize=64)
def analyze_schema(concepts: int) -> type[AnalyzeReply]:
    """AnalyzeReply whose `assumed` ids can only be 1..`concepts` (the student's listed rows).

    At least PREREQUISITES_MIN prerequisites in all: picked from the list as far as it goes,
    named for the rest (a lesson with no prior concepts names what it assumes).
    """
    picks = min(PREREQUISITES_MIN, concepts)
    missing = (
        list[PrerequisiteClaim],
        Field(min_length=PREREQUISITES_MIN - picks, max_length=MISSING_MAX),
    )
    if concepts == 0:
        return create_model(  # type: ignore[call-overload, no-any-return]
            "AnalyzeReply",
            __base__=AnalyzeReply,
            assumed=(list[AssumedConcept], Field(default_factory=list, max_length=0)),
            missing=missing,
        )
    pick = create_model(
        "AssumedConcept",
        __base__=AssumedConcept,
        id=(_numbers(concepts), Field(description="the concept's [id] in the list")),
    )
    return create_model(  # type: ignore[call-overload, no-any-return]
        "AnalyzeReply",
        __base__=AnalyzeReply,
        assumed=(list[pick], Field(min_length=picks, max_length=min(ASSUMED_MAX, concepts))),  # type: ignore[valid-type]
        missing=missing,
    )


@lru_cache(maxsize=8)
def gap_schema(gaps: int) -> type[GapReply]:
    """GapReply whose gap numbers can only be 1..`gaps`, one plan per gap."""
    plan = create_model(
        "GapPlan",
        __base__=GapPlan,
        gap=(_numbers(gaps), Field(description="the gap's number in the list")),
    )
    return create_model(  # type: ignore[call-overload, no-any-return]
        "GapReply",
        __base__=GapReply,
        gaps=(list[plan], Field(min_length=gaps, max_length=gaps)),  # type: ignore[valid-type]
    )


class MisconceptionDraft(Reply):
    misconception: Text(160, 10)  # type: ignore[valid-type]
    why: Text(240, 10) = Field(description="why a student would believe it")  # type: ignore[valid-type]
    negative_example: Text(300, 10) = Field(description="a concrete case that disproves it")  # type: ignore[valid-type]
    where: Text(160, 5) = Field(description="where in the lesson it is addressed")  # type: ignore[valid-type]


class MisconceptionReply(Reply):
    misconceptions: list[MisconceptionDraft] = Field(min_length=3, max_length=4)


class ExampleDraft(Reply):
    title: Text(80, 3)  # type: ignore[valid-type]
    description: Text(260, 10)  # type: ignore[valid-type]
    purpose: Text(200, 10)  # type: ignore[valid-type]
    why: Text(200, 10) = Field(description="why this example rather than another")  # type: ignore[valid-type]


class ExampleReply(Reply):
    positive: list[ExampleDraft] = Field(min_length=2, max_length=3)
    negative: list[ExampleDraft] = Field(min_length=1, max_length=2)


# ---------------------------------------------------------------- design


class NewConcept(Reply):
    name: Text(90, 3)  # type: ignore[valid-type]
    delta: Text(200, 10) = Field(
        description="what is new about it, relative to what the student has"
    )  # type: ignore[valid-type]
    connects_to: Text(120, 3) = Field(description="an existing concept from the student state")  # type: ignore[valid-type]
    how: Text(220, 10) = Field(description="how the lesson makes the connection")  # type: ignore[valid-type]


class ModalityPlan(Reply):
    kind: ModalityKind
    what: Text(220, 10)  # type: ignore[valid-type]
    why: Text(160, 10)  # type: ignore[valid-type]


class DesignReply(Reply):
    narrative_arc: Text(700, 60)  # type: ignore[valid-type]
    load: LoadType
    load_reason: Text(180, 10)  # type: ignore[valid-type]
    new_concepts: list[NewConcept] = Field(min_length=1, max_length=3)
    modalities: list[ModalityPlan] = Field(min_length=3, max_length=4)
    load_appropriate: Text(240, 10) = Field(
        description="is this load right after the previous lesson?"
    )  # type: ignore[valid-type]


class AnalogyNote(Reply):
    analogy: Text(80, 3)  # type: ignore[valid-type]
    note: Text(200, 10)  # type: ignore[valid-type]


class DepthTarget(Reply):
    concept: Text(90, 3)  # type: ignore[valid-type]
    depth: RequiredDepth
    reason: Text(140, 5)  # type: ignore[valid-type]


class ScopeReply(Reply):
    extend: list[AnalogyNote] = Field(min_length=1, max_length=3)
    misleading: list[AnalogyNote] = Field(min_length=1, max_length=2)
    in_scope: list[Text(120, 3)] = Field(min_length=2, max_length=5)  # type: ignore[valid-type]
    out_of_scope: list[Text(120, 3)] = Field(min_length=2, max_length=5)  # type: ignore[valid-type]
    depth_targets: list[DepthTarget] = Field(min_length=1, max_length=3)


class OutlineFrame(Reply):
    """The sections around the explanations: what opens and closes the lesson."""

    context: list[Text(200, 10)] = Field(min_length=1, max_length=2)  # type: ignore[valid-type]
    constraints: Text(260, 10) = Field(description="what the lesson covers and does not")  # type: ignore[valid-type]
    recap: list[Text(200, 10)] = Field(min_length=1, max_length=2)  # type: ignore[valid-type]
    hook: Text(300, 10)  # type: ignore[valid-type]
    summary: list[Text(180, 10)] = Field(min_length=2, max_length=4)  # type: ignore[valid-type]
    next_step: Text(240, 10)  # type: ignore[valid-type]


class CheckQuestion(Reply):
    question: Text(240, 10) = Field(description="a predict-and-verify question")  # type: ignore[valid-type]
    answer: Text(300, 10)  # type: ignore[valid-type]


class SectionReply(Reply):
    """One explanation section of the outline and the check that follows it."""

    title: Text(70, 3)  # type: ignore[valid-type]
    points: list[Text(220, 10)] = Field(min_length=2, max_length=4)  # type: ignore[valid-type]
    checks: list[CheckQuestion] = Field(min_length=1, max_length=2)


class ExerciseDraft(Reply):
    title: Text(70, 3)  # type: ignore[valid-type]
    task: Text(260, 10)  # type: ignore[valid-type]


class PracticeReply(Reply):
    guided: list[ExerciseDraft] = Field(min_length=1, max_length=2)
    supported: ExerciseDraft
    independent: ExerciseDraft


ALL_SCHEMAS: tuple[type[BaseModel], ...] = (
    OrientReply,
    AnalyzeReply,
    GapReply,
    MisconceptionReply,
    ExampleReply,
    DesignReply,
    ScopeReply,
    OutlineFrame,
    SectionReply,
    PracticeReply,
)
