"""The plan graph's control flow, with a scripted provider: order, resume, reroute, output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from example_course import copy_example_course

from lesson_author.course.check import check_tree
from lesson_author.course.knowledge import student_state
from lesson_author.course.models import Depth
from lesson_author.course.parse import parse_lesson_plan
from lesson_author.course.tree import CourseTree
from lesson_author.errors import UserError
from lesson_author.llm.schema_budget import unbounded_fields
from lesson_author.llm.scripted import ScriptedProvider
from lesson_author.pipeline import schemas
from lesson_author.pipeline.runner import RunStopped, run_plan
from lesson_author.state import match_known

SLUG = "z-image"
TODAY = "2026-03-01"


def orient_reply() -> dict[str, Any]:
    return {
        "relevant": [
            {
                "id": 1,
                "note": "The single-stream design removes the dual-stream split this row describes.",
            },
            {"id": 2, "note": "The per-modality projections are what single-stream shares."},
            {"id": 3, "note": "Same block structure; the lesson changes only what is shared."},
            {"id": 2, "note": "A repeat of a row already picked: dropped."},
        ],
        "missing": ["Distribution Matching Distillation (DMD)"],
        "mental_models": [
            {
                "name": "One room, one conversation",
                "use": "Single-stream is the extreme version: one set of weights for every token.",
            },
        ],
        "not_covered": [
            {
                "topic": "Single-stream transformers",
                "detail": "Only mentioned for Flux; this lesson develops the design choice.",
            },
        ],
        "readiness": "The student has every building block at DEVELOPED depth except distribution matching distillation, a small gap closed by one subsection.",
    }


def analyze_reply() -> dict[str, Any]:
    return {
        "target_concept": "This lesson teaches the student to explain how a single-stream transformer shares projections across modalities and how distribution matching distillation plus RL post-training exceed the teacher.",
        "assumed": [
            {
                "id": 1,
                "required": "INTRODUCED",
                "reasoning": "Single-stream shares these projections.",
            },
            {
                "id": 2,
                "required": "MENTIONED",
                "reasoning": "Z-Image is positioned against these models.",
            },
            {
                "id": 3,
                "required": "INTRODUCED",
                "reasoning": "A language model replaces it as text encoder.",
            },
        ],
        "missing": [
            {
                "concept": "MMDiT joint attention",
                "required": "DEVELOPED",
                "reasoning": "Single-stream is defined against it.",
            },
            {
                "concept": "adaLN-Zero conditioning",
                "required": "DEVELOPED",
                "reasoning": "The block keeps adaptive norm conditioning.",
            },
            {
                "concept": "Flow matching",
                "required": "DEVELOPED",
                "reasoning": "The model trains with flow matching.",
            },
            {
                "concept": "DMD (Distribution Matching Distillation)",
                "required": "INTRODUCED",
                "reasoning": "Decoupled-DMD refines it.",
            },
        ],
    }


def gap_reply() -> dict[str, Any]:
    return {
        "gaps": [
            {
                "gap": 1,
                "size": "Small",
                "size_reason": "The student knows two other distillation methods.",
                "resolution": "A short dedicated subsection before Decoupled-DMD: the problem first, then the two losses, compared with consistency distillation.",
            }
        ]
    }


def misconception_reply(repeat: bool = False) -> dict[str, Any]:
    items = [
        {
            "misconception": "Single-stream means no modality awareness",
            "why": "The previous lesson said text and image need separate projections.",
            "negative_example": "Refiner layers process each modality before the shared blocks, so awareness moves upfront.",
            "where": "When the single-stream block is introduced.",
        },
        {
            "misconception": "A distilled student can never beat its teacher",
            "why": "Distillation was taught as copying the teacher in fewer steps.",
            "negative_example": "With a reward signal the student is pushed past the teacher while distillation keeps it realistic.",
            "where": "When RL post-training is introduced.",
        },
        {
            "misconception": "An LLM text encoder chats with the image model",
            "why": "The student knows LLMs as chat models.",
            "negative_example": "The encoder runs once and returns embeddings; no text is generated during sampling.",
            "where": "When the text encoder is introduced.",
        },
    ]
    if repeat:  # the same misconception reworded a little (word for word, the LLM layer refuses it)
        items = [items[0]] + [
            {key: f"{value.rstrip('.')} {extra}." for key, value in items[0].items()}
            for extra in ("again", "too")
        ]
    return {"misconceptions": items}


def example_reply() -> dict[str, Any]:
    return {
        "positive": [
            {
                "title": "Parameter count",
                "description": "Count projection and FFN weights for a dual-stream and a single-stream block at d_model 3840.",
                "purpose": "Makes the efficiency claim concrete with numbers.",
                "why": "The student is used to tracing shapes and counts.",
            },
            {
                "title": "3D RoPE trace",
                "description": "Assign temporal and spatial rotary indices to one text token and one image patch.",
                "purpose": "Shows how one position scheme serves two modalities.",
                "why": "Extends the rotary embedding the student knows.",
            },
        ],
        "negative": [
            {
                "title": "No refiner layers",
                "description": "Push raw text and image embeddings through one shared projection and watch the mismatch.",
                "purpose": "Shows why the refiner layers are needed.",
                "why": "Connects to the naive concatenation failure from the previous lesson.",
            },
        ],
    }


def design_reply() -> dict[str, Any]:
    return {
        "narrative_arc": "The previous lesson ended with a converged architecture: a transformer backbone, flow matching and joint attention. This lesson asks what comes after convergence. Z-Image keeps the same building blocks but shares one stream of weights across modalities, replaces three text encoders with one LLM, and uses distillation with reinforcement learning to pass its teacher. The student reads the design the way a researcher reads a paper, naming each building block.",
        "load": "BUILD",
        "load_reason": "Each new idea extends a concept the student has at DEVELOPED depth.",
        "new_concepts": [
            {
                "name": "Single-stream transformer block",
                "delta": "One set of projections and one FFN for all tokens, after refiner layers.",
                "connects_to": "MMDiT joint attention",
                "how": "Contrast per-modality weights at every layer with shared weights after a short refiner.",
            },
            {
                "name": "Decoupled-DMD",
                "delta": "Distillation split into a quality push and a stability regularizer with separate noise levels.",
                "connects_to": "Consistency distillation",
                "how": "A third distillation approach next to consistency and adversarial distillation.",
            },
            {
                "name": "DMDR",
                "delta": "Distillation as a regularizer for RL post-training.",
                "connects_to": "DPO as preference optimization without a separate reward model",
                "how": "The same preference training, now on images.",
            },
        ],
        "modalities": [
            {
                "kind": "Concrete example",
                "what": "Parameter counts for both block types at the real width.",
                "why": "Numbers make the efficiency argument checkable.",
            },
            {
                "kind": "Visual",
                "what": "Side by side diagram of a dual-stream and a single-stream block.",
                "why": "Shows the simplification at a glance.",
            },
            {
                "kind": "Verbal/Analogy",
                "what": "Translate once, then speak together.",
                "why": "Names where modality processing moved.",
            },
        ],
        "load_appropriate": "BUILD after BUILD suits the last lesson of the module: integration, not new mechanisms.",
    }


def scope_reply() -> dict[str, Any]:
    return {
        "extend": [
            {
                "analogy": "Shared listening, separate thinking",
                "note": "Becomes shared listening and shared thinking after the refiner layers.",
            }
        ],
        "misleading": [
            {
                "analogy": "The teacher is the ceiling",
                "note": "With RL the teacher becomes a guardrail; say so explicitly.",
            }
        ],
        "in_scope": ["Single-stream block design", "Decoupled-DMD and DMDR"],
        "out_of_scope": ["Implementing the model from scratch", "Training data curation"],
        "depth_targets": [
            {
                "concept": "Single-stream transformer block",
                "depth": "INTRODUCED",
                "reason": "Explain the design choice, no implementation.",
            }
        ],
    }


def outline_reply() -> dict[str, Any]:
    return {
        "context": ["The previous lesson ended with SD3 and Flux as the converged frontier."],
        "constraints": "Covers the single-stream design, the LLM text encoder and post-training; not implementation or data curation.",
        "recap": ["MMDiT keeps separate projections and FFNs per modality at every layer."],
        "hook": "How many parameters would you need to match a 32B model? Estimate before reading on.",
        "summary": [
            "Translate once, then share everything.",
            "The teacher becomes a guardrail, not a ceiling.",
        ],
        "next_step": "Read the next frontier paper and name each building block.",
    }


def section_reply(n: int) -> dict[str, Any]:
    return {
        "title": f"Explain: new idea {n}",
        "points": [
            "Start from the problem the previous design leaves open.",
            "Work through a concrete case with real numbers.",
        ],
        "checks": [
            {
                "question": f"What would break in idea {n} without its key component?",
                "answer": "The shared weights would have to map two unlike spaces at once.",
            }
        ],
    }


def practice_reply() -> dict[str, Any]:
    return {
        "guided": [
            {
                "title": "Count the parameters",
                "task": "Fill in the table of projection and FFN sizes for both block types.",
            }
        ],
        "supported": {
            "title": "Trace 3D RoPE",
            "task": "Assign rotary indices to a short mixed sequence with hints.",
        },
        "independent": {
            "title": "Read the source",
            "task": "Find the shared projections in the model's transformer file and explain them.",
        },
    }


def full_script(**overrides: list[Any]) -> dict[str, list[Any]]:
    script: dict[str, list[Any]] = {
        schemas.ORIENT: [orient_reply()],
        schemas.ANALYZE: [analyze_reply()],
        schemas.ANALYZE_GAPS: [gap_reply()],
        schemas.ANALYZE_MISCONCEPTIONS: [misconception_reply()],
        schemas.ANALYZE_EXAMPLES: [example_reply()],
        schemas.DESIGN: [design_reply()],
        schemas.DESIGN_SCOPE: [scope_reply()],
        schemas.DESIGN_OUTLINE: [outline_reply()],
        schemas.DESIGN_SECTION: [section_reply(n) for n in range(1, 4)],
        schemas.DESIGN_PRACTICE: [practice_reply()],
    }
    script.update(overrides)
    return script


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A writable copy of the example course; returns its records dir."""
    records = tmp_path / "course" / "lessons"
    copy_example_course(records)
    plan = records / "series-7" / "module-7-4" / "lessons" / f"{SLUG}.md"
    plan.unlink(missing_ok=True)
    return records


def test_plan_runs_nodes_in_order_and_writes_a_parseable_document(course: Path) -> None:
    provider = ScriptedProvider(full_script())
    events: list[Any] = []
    result = run_plan(
        SLUG, records_dir=course, config=provider, progress=events.append, today=TODAY
    )
    order = [e.node for e in events if e.kind == "end"]
    assert order == ["load", "orient", "analyze", "design", "plan_checks", "write_plan"]
    path = course.parent / result.plan_path
    text = path.read_text(encoding="utf-8")
    plan = parse_lesson_plan(text, path)
    assert plan.slug == SLUG
    assert plan.title == "Z-Image & Z-Image Turbo"
    assert [c.title for c in plan.checklists] == ["Prerequisite Audit", "Pedagogical Design"]
    assert all(item.checked for c in plan.checklists for item in c.items)
    assert result.written == [result.plan_path]
    # rows computed from the plans that the scripted model did not pick are said, by name
    left_out = [n for n in result.notes if n.startswith("analyze: the model left out")]
    assert len(left_out) == 1 and f"author state {SLUG}" in left_out[0]


def _ends(events: list[Any]) -> list[str]:
    return [e.node for e in events if e.kind == "end"]


def test_a_run_that_dies_resumes_without_repeating_finished_model_calls(course: Path) -> None:
    # the first provider has no reply for analyze: the run stops there
    dying = ScriptedProvider({schemas.ORIENT: [orient_reply()]})
    with pytest.raises(RunStopped) as stopped:
        run_plan(SLUG, records_dir=course, config=dying, today=TODAY)
    assert "stopped at analyze" in str(stopped.value)
    assert "again to resume" in str(stopped.value)
    assert dying.calls[schemas.ORIENT] == 1

    healthy = ScriptedProvider(full_script())
    events: list[Any] = []
    result = run_plan(SLUG, records_dir=course, config=healthy, progress=events.append, today=TODAY)
    assert result.resumed_at == "analyze"
    assert healthy.calls[schemas.ORIENT] == 0  # orient's model call is not repeated
    assert healthy.calls[schemas.ANALYZE] == 1
    assert _ends(events) == ["analyze", "design", "plan_checks", "write_plan"]
    # the summary still covers the nodes of the first run
    assert [n.node for n in result.nodes][:2] == ["load", "orient"]
    assert (course.parent / result.plan_path).is_file()


def test_restart_forgets_the_unfinished_run(course: Path) -> None:
    dying = ScriptedProvider({schemas.ORIENT: [orient_reply()]})
    with pytest.raises(RunStopped):
        run_plan(SLUG, records_dir=course, config=dying, today=TODAY)
    fresh = ScriptedProvider(full_script())
    result = run_plan(SLUG, records_dir=course, config=fresh, restart=True, today=TODAY)
    assert result.resumed_at is None
    assert fresh.calls[schemas.ORIENT] == 1


def test_a_finished_run_is_not_resumed_but_planned_again(course: Path) -> None:
    run_plan(SLUG, records_dir=course, config=ScriptedProvider(full_script()), today=TODAY)
    again = ScriptedProvider(full_script())
    result = run_plan(SLUG, records_dir=course, config=again, today=TODAY)
    assert result.resumed_at is None
    assert again.calls[schemas.ORIENT] == 1  # author's own unedited document is replaced


def test_a_failed_check_goes_back_to_its_owner_once_and_is_then_fixed(course: Path) -> None:
    provider = ScriptedProvider(
        full_script(
            **{
                schemas.ANALYZE_MISCONCEPTIONS: [
                    misconception_reply(repeat=True),
                    misconception_reply(),
                ]
            }
        )
    )
    events: list[Any] = []
    result = run_plan(
        SLUG, records_dir=course, config=provider, progress=events.append, today=TODAY
    )
    assert _ends(events) == [
        "load",
        "orient",
        "analyze",
        "design",
        "plan_checks",
        "analyze",
        "plan_checks",
        "write_plan",
    ]
    # only the failed part is asked again; the feedback names the failure
    assert provider.calls[schemas.ANALYZE_MISCONCEPTIONS] == 2
    assert provider.calls[schemas.ANALYZE] == 1
    retry_prompt = [m for phase, m in provider.requests if phase == schemas.ANALYZE_MISCONCEPTIONS][
        1
    ]
    assert "At least 3 misconceptions" in retry_prompt[-1]["content"]
    assert not result.unchecked
    text = (course.parent / result.plan_path).read_text(encoding="utf-8")
    assert "- [x] At least 3 misconceptions identified with negative examples" in text


def test_a_check_that_still_fails_is_shown_unchecked_after_one_retry(course: Path) -> None:
    provider = ScriptedProvider(
        full_script(
            **{
                schemas.ANALYZE_MISCONCEPTIONS: [
                    misconception_reply(repeat=True),
                    misconception_reply(repeat=True),
                    misconception_reply(),  # never asked: one retry only
                ]
            }
        )
    )
    events: list[Any] = []
    result = run_plan(
        SLUG, records_dir=course, config=provider, progress=events.append, today=TODAY
    )
    assert _ends(events).count("analyze") == 2
    assert provider.calls[schemas.ANALYZE_MISCONCEPTIONS] == 2
    assert [c.text for c in result.unchecked] == [
        "At least 3 misconceptions identified with negative examples"
    ]
    text = (course.parent / result.plan_path).read_text(encoding="utf-8")
    assert (
        "- [ ] At least 3 misconceptions identified with negative examples (1 misconception; 2 more only repeat one of these)"
        in text
    )


def test_a_hand_edited_plan_is_not_overwritten_without_force(course: Path) -> None:
    first = run_plan(SLUG, records_dir=course, config=ScriptedProvider(full_script()), today=TODAY)
    path = course.parent / first.plan_path
    path.write_text(path.read_text(encoding="utf-8") + "\nMy own note.\n", encoding="utf-8")

    untouched = ScriptedProvider(full_script())
    with pytest.raises(UserError, match="edited since author wrote it.*--force"):
        run_plan(SLUG, records_dir=course, config=untouched, today=TODAY)
    assert sum(untouched.calls.values()) == 0  # refused before any model call
    assert path.read_text(encoding="utf-8").endswith("My own note.\n")

    run_plan(
        SLUG, records_dir=course, config=ScriptedProvider(full_script()), force=True, today=TODAY
    )
    assert "My own note." not in path.read_text(encoding="utf-8")


def test_a_plan_author_did_not_write_is_not_overwritten(course: Path) -> None:
    path = course / "series-7" / "module-7-4" / "lessons" / f"{SLUG}.md"
    path.write_text("# Lesson: written by hand\n", encoding="utf-8")
    with pytest.raises(UserError, match="author did not write it"):
        run_plan(SLUG, records_dir=course, config=ScriptedProvider(full_script()), today=TODAY)


def test_the_written_plan_passes_author_check(course: Path) -> None:
    result = run_plan(SLUG, records_dir=course, config=ScriptedProvider(full_script()), today=TODAY)
    path = (course.parent / result.plan_path).resolve()
    problems = [p for p in check_tree(CourseTree.open(course)) if Path(p.path).resolve() == path]
    assert problems == []


def test_depth_and_source_come_from_the_records_not_the_model(course: Path) -> None:
    result = run_plan(SLUG, records_dir=course, config=ScriptedProvider(full_script()), today=TODAY)
    path = course.parent / result.plan_path
    plan = parse_lesson_plan(path.read_text(encoding="utf-8"), path)
    student = student_state(CourseTree.open(course), SLUG)
    # a repeated pick is dropped; every row is a record row, as recorded
    rows = [r for r in plan.relevant_concepts if r.depth is not Depth.NOT_TAUGHT]
    assert len(rows) == 3
    for row in rows:
        match = match_known(row.concept, student)
        assert match is not None
        known = match.concept
        assert known.depth == row.depth
        assert row.source.startswith(known.lesson)
    dmd = next(p for p in plan.prerequisites if p.concept.startswith("DMD"))
    assert (dmd.actual, dmd.status, dmd.source) == (Depth.NOT_TAUGHT, "GAP", "--")
    assert all(p.status == ("OK" if p.actual >= p.required else "GAP") for p in plan.prerequisites)
    assert len(plan.exercises()) == 3
    assert [e.level for e in plan.exercises()] == ["Guided", "Supported", "Independent"]


def test_every_planning_schema_is_bounded() -> None:
    sent = [*schemas.ALL_SCHEMAS, schemas.orient_schema(80), schemas.gap_schema(3)]
    assert [(s.__name__, unbounded_fields(s)) for s in sent] == [(s.__name__, []) for s in sent]


def test_checkpoints_give_back_the_package_types_not_dicts() -> None:
    from lesson_author.course.models import LessonPlan, Review
    from lesson_author.pipeline.runner import checkpoint_serializer
    from lesson_author.pipeline.state import LessonState, NodeUsage

    serde = checkpoint_serializer()
    state = {
        "plan": LessonPlan(title="t", slug="s"),
        "reviews": [Review(date=TODAY)],
        "usage": [NodeUsage(node="load")],
    }
    back = serde.loads_typed(serde.dumps_typed(state))
    assert isinstance(back["plan"], LessonPlan)
    assert isinstance(back["reviews"][0], Review)
    assert isinstance(back["usage"][0], NodeUsage)
    assert LessonState.model_validate({"slug": "s", **back}).plan == state["plan"]
