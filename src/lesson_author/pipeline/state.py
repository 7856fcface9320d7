"""The state that flows through the lesson graph.

One pydantic model, checkpointed after every node (see graph.py). Each node
reads what it needs and returns a partial dict of the fields it adds; fields
annotated with a reducer (``usage``, ``notes``) are appended to, every other
field is replaced.

The plan half (load -> orient -> analyze -> design -> plan_checks -> write_plan)
fills everything down to ``plan_path``; the build/review half owns ``build``,
``reviews`` and ``iteration``.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from pydantic import BaseModel, Field

from lesson_author.course.models import (
    Connection,
    Depth,
    ExamplePlanned,
    GapResolution,
    LessonPlan,
    Misconception,
    Modality,
    OutlineSection,
    Prerequisite,
    RelevantConcept,
    Review,
)

PLAN_NODES = ("load", "orient", "analyze", "design", "plan_checks", "write_plan")
LLM_NODES = ("orient", "analyze", "design")


class LessonInfo(BaseModel):
    """Where the lesson sits in the course, as the series and module plans say."""

    slug: str
    title: str
    description: str = ""
    number: int | None = None
    series: str = Field(description="series number, e.g. '7'")
    series_title: str = ""
    module: str = Field(description="module id, e.g. '7.4'")
    module_title: str = ""
    position_in_module: int = 0
    module_size: int = 0
    position_in_series: int = 0
    series_size: int = 0
    position_text: str = Field(default="", description="'Lesson 12 of 12 in series, ...'")
    plan_path: str = Field(description="the planning document, relative to the project root")
    record_path: str = ""
    module_plan_path: str = ""
    series_plan_path: str = ""


class ModuleContext(BaseModel):
    """The parts of the module and series plans this lesson's prompts may use."""

    module_goal: str = ""
    narrative_arc: str = ""
    topic_allocation: str = Field(default="", description="this lesson's allocation text")
    planned_load: str = Field(default="", description="BUILD / STRETCH / CONSOLIDATE or ''")
    sequence_rationale: str = ""
    misconceptions: list[str] = Field(default_factory=list)
    previous_lessons: list[str] = Field(default_factory=list, description="slugs, module order")
    previous_load: str = Field(default="", description="the previous lesson's load, from records")
    previous_lesson: str = ""
    series_connections: list[str] = Field(
        default_factory=list,
        description="'concept <- earlier (source)' rows naming this lesson's topics",
    )
    series_notes: str = ""


class ConceptFact(BaseModel):
    """One student-state row offered to the orient model, with why it was offered."""

    id: int = Field(description="1-based id the model refers to")
    concept: str
    depth: Depth
    lesson: str
    module: str = ""
    source: str = Field(description="as the document writes it: 'sd3-and-flux (7.4.3)'")
    notes: str = ""
    reasons: list[str] = Field(default_factory=list)


# how a computed row lent by an earlier lesson's planning document says so ("a prerequisite of
# sdxl"): lesson_author.state writes it, the analyze prompt and the planning document show it
LISTED_BY = "a prerequisite of "


class PrerequisiteFact(BaseModel):
    """A prerequisite computed from the plans (lesson_author.state): a record row the plans
    name for this lesson, a row an earlier lesson's planning document lists, or a topic no
    record teaches (depth NOT TAUGHT, no lesson)."""

    concept: str
    actual: Depth
    lesson: str | None = None
    source: str = Field(default="--", description="'sd3-and-flux (7.4.3)' or '--'")
    named_by: str = Field(default="", description="the plan words that named it")

    @property
    def depth(self) -> Depth:
        return self.actual

    @property
    def listed_earlier(self) -> bool:
        """Lent by an earlier lesson's planning document, not named by this lesson's plans."""
        return self.named_by.startswith(LISTED_BY)

    @property
    def why(self) -> str:
        """Why the row is computed: "named by the plans" or "a prerequisite of sdxl"."""
        return self.named_by if self.listed_earlier else "named by the plans"


class OrientOutcome(BaseModel):
    """Phase 1 of the planning document."""

    relevant_concepts: list[RelevantConcept] = Field(default_factory=list)
    mental_models: str = ""
    not_covered: str = ""
    readiness: str = ""


class AnalysisOutcome(BaseModel):
    """Phase 2 of the planning document; prerequisite depths and statuses are computed."""

    target_concept: str = ""
    prerequisites: list[Prerequisite] = Field(default_factory=list)
    dropped: list[str] = Field(
        default_factory=list, description="computed prerequisites the model left out"
    )
    gaps: list[GapResolution] = Field(default_factory=list)
    misconceptions: list[Misconception] = Field(default_factory=list)
    examples: list[ExamplePlanned] = Field(default_factory=list)


class DesignOutcome(BaseModel):
    """Phase 3 of the planning document."""

    cognitive_load: str = Field(default="", description="header line: 'BUILD (...)'")
    narrative_arc: str = ""
    modalities: list[Modality] = Field(default_factory=list)
    new_concepts: list[str] = Field(default_factory=list)
    cognitive_load_assessment: str = ""
    connections: list[Connection] = Field(default_factory=list)
    analogies_to_extend: str = ""
    misleading_analogies: str = ""
    scope: str = ""
    outline: list[OutlineSection] = Field(default_factory=list)
    replies: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="the model's replies by task, reused when only some are redone",
    )


class PlanCheck(BaseModel):
    """One checklist item, computed."""

    checklist: str = Field(description="'Prerequisite Audit' or 'Pedagogical Design'")
    text: str
    passed: bool
    detail: str = ""
    owner: str = Field(description="the node whose output this item judges")
    task: str = Field(default="", description="the part of the owner's work it judges")


class NodeUsage(BaseModel):
    """What one node run cost; appended by the graph's node wrapper."""

    node: str
    elapsed_s: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempt: int = Field(default=1, description="2 when plan_checks sent the plan back")


class LessonState(BaseModel):
    """Everything a lesson run knows; checkpointed after every node."""

    slug: str
    kind: str = Field(default="plan", description="'plan' (ends after write_plan) or 'lesson'")
    from_plan: bool = Field(
        default=False,
        description="a lesson run from the planning document on disk: starts at build",
    )
    status: str = "started"
    # load
    lesson: LessonInfo | None = None
    module: ModuleContext | None = None
    candidates: list[ConceptFact] = Field(
        default_factory=list, description="the student-state rows relevant to this run"
    )
    computed_prerequisites: list[PrerequisiteFact] = Field(
        default_factory=list, description="prerequisites the plans name, matched to the records"
    )
    # orient / analyze / design
    orient: OrientOutcome | None = None
    analysis: AnalysisOutcome | None = None
    design: DesignOutcome | None = None
    # plan_checks
    plan: LessonPlan | None = None
    plan_checks: list[PlanCheck] = Field(default_factory=list)
    reroutes: dict[str, int] = Field(default_factory=dict, description="node -> times sent back")
    reroute_to: str | None = None
    feedback: dict[str, list[str]] = Field(
        default_factory=dict, description="node -> failed checks it must fix on its second run"
    )
    # write_plan
    plan_path: str | None = None
    plan_hash: str | None = None
    # build / review / record (the lesson half)
    build: Any = None
    reviews: list[Review] = Field(default_factory=list)
    iteration: int = 0
    written: Annotated[list[str], operator.add] = Field(
        default_factory=list, description="files the lesson half wrote, project-relative"
    )
    # bookkeeping
    usage: Annotated[list[NodeUsage], operator.add] = Field(default_factory=list)
    notes: Annotated[list[str], operator.add] = Field(
        default_factory=list, description="things the run wants the user to know"
    )
