"""The planning checklists are computed from the plan, not asked of a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from lesson_author.course.models import (
    Depth,
    ExamplePlanned,
    LessonPlan,
    Misconception,
    Prerequisite,
)
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.pipeline.plan_checks import checklists, compute_checks, next_owner

SEED_PLAN = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "004_f37c31f4a5f7254a.txt"
NEW_CONCEPTS = ["S3-DiT single-stream", "Decoupled-DMD", "DMDR"]


@pytest.fixture
def seed_plan() -> LessonPlan:
    if not SEED_PLAN.is_file():
        pytest.skip("needs ../shared/seeds (the shared seeds are not beside this checkout)")
    return parse_lesson_plan(SEED_PLAN.read_text(encoding="utf-8"), SEED_PLAN)


def failed(plan: LessonPlan, **kwargs: object) -> dict[str, str]:
    return {c.text: c.detail for c in compute_checks(plan, None, **kwargs) if not c.passed}  # type: ignore[arg-type]


def test_the_seed_plan_passes_every_item_but_the_exercises_it_does_not_list(
    seed_plan: LessonPlan,
) -> None:
    # the seed's outline has no Practice section: the notebook's exercises were planned elsewhere
    assert failed(seed_plan, new_concepts=NEW_CONCEPTS) == {
        "No multi-concept jumps in widgets/exercises": "no exercises in the outline's Practice section"
    }


def test_a_gap_without_a_resolution_is_unchecked(seed_plan: LessonPlan) -> None:
    plan = seed_plan.model_copy(update={"gaps": []})
    problems = failed(plan, new_concepts=NEW_CONCEPTS)
    assert "No untaught concepts remain" in problems
    assert "DMD" in problems["All gaps have explicit resolution plans"]


def test_repeated_misconceptions_and_missing_negative_examples_are_caught() -> None:
    same = Misconception(
        misconception='"Single-stream means no modality awareness"',
        why="separate projections were needed",
        negative_example="refiner layers process each modality first",
        where="S3-DiT section",
    )
    plan = LessonPlan(
        title="t",
        slug="t",
        misconceptions=[same, same.model_copy(), same.model_copy()],
        examples=[
            ExamplePlanned(example="**A**: one", type="Positive", purpose="shows the idea working"),
            ExamplePlanned(example="**B**: two", type="Positive", purpose="shows it at scale"),
        ],
    )
    problems = failed(plan, new_concepts=["x"])
    assert "repeat" in problems["At least 3 misconceptions identified with negative examples"]
    assert problems[
        "At least 2 positive examples + 1 negative example, each with stated purpose"
    ].startswith("2 positive + 0 negative")


def test_a_status_that_contradicts_its_depths_is_caught() -> None:
    plan = LessonPlan(
        title="t",
        slug="t",
        prerequisites=[
            Prerequisite(
                concept="Flow matching",
                required=Depth.DEVELOPED,
                actual=Depth.INTRODUCED,
                source="flow-matching (7.2.2)",
                status="OK",
            )
        ],
    )
    assert "Flow matching" in failed(plan)["Depth match verified for each"]


def test_failed_items_route_to_the_earliest_owner_once() -> None:
    checks = compute_checks(LessonPlan(title="t", slug="t"), None)
    assert next_owner(checks, {}) == "orient"
    assert next_owner(checks, {"orient": 1}) == "analyze"
    assert next_owner(checks, {"orient": 1, "analyze": 1, "design": 1}) is None


def test_checklists_render_each_item_with_its_reason(seed_plan: LessonPlan) -> None:
    lists = checklists(compute_checks(seed_plan, None, new_concepts=NEW_CONCEPTS))
    assert [c.title for c in lists] == ["Prerequisite Audit", "Pedagogical Design"]
    assert [len(c.items) for c in lists] == [6, 7]
    assert lists[1].items[3].text == (
        "At least 3 misconceptions identified with negative examples (5 misconceptions)"
    )
