"""The prerequisite audit: actual depth, source and OK/GAP come from the records."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lesson_author.course.knowledge import KnownConcept, StudentState
from lesson_author.course.models import Depth
from lesson_author.llm.schema_budget import unbounded_fields
from lesson_author.pipeline import schemas
from lesson_author.pipeline.analyze import claims
from lesson_author.state import audit, match_known

ROW_PATH = Path("series-x/module-x-1/record.md")


def known(concept: str, depth: Depth, lesson: str, notes: str = "") -> KnownConcept:
    return KnownConcept(
        concept=concept,
        depth=depth,
        lesson=lesson,
        module="1.1",
        notes=notes,
        path=ROW_PATH,
        line=1,
    )


@pytest.fixture
def student() -> StudentState:
    return StudentState(
        before="next",
        concepts=[
            known(
                "Consistency distillation (teacher-student pattern, fewer steps)",
                Depth.DEVELOPED,
                "consistency-models",
            ),
            known(
                "Adversarial diffusion distillation / ADD (hybrid loss with a discriminator)",
                Depth.DEVELOPED,
                "turbo",
            ),
            known("Rotary Position Embeddings (RoPE)", Depth.MENTIONED, "embeddings"),
            known(
                "RoPE mechanism (rotation in 2D subspaces, relative position in Q/K dot product)",
                Depth.DEVELOPED,
                "long-context",
            ),
            known(
                "DiT block as standard transformer block (MHA + FFN, no encoder-decoder hierarchy)",
                Depth.DEVELOPED,
                "dit",
            ),
            known(
                "Encoder-decoder vs decoder-only distinction (original transformer, BERT, T5)",
                Depth.INTRODUCED,
                "decoders",
            ),
            known(
                "Flow matching (straight-line interpolation, velocity prediction)",
                Depth.DEVELOPED,
                "flow-matching",
            ),
            known("Distribution of activations across layers", Depth.INTRODUCED, "debugging"),
        ],
        lessons=[
            "consistency-models",
            "turbo",
            "embeddings",
            "long-context",
            "dit",
            "decoders",
            "flow-matching",
            "debugging",
        ],
    )


def test_an_acronym_the_records_never_use_is_not_taught(student: StudentState) -> None:
    # its expansion shares common words (distribution, distillation) with real rows
    assert match_known("DMD (Distribution Matching Distillation)", student) is None
    [row] = audit([("DMD (Distribution Matching Distillation)", Depth.INTRODUCED, "")], student, {})
    assert (row.actual, row.status, row.source) == (Depth.NOT_TAUGHT, "GAP", "--")


def test_the_deepest_row_naming_the_concept_wins(student: StudentState) -> None:
    match = match_known("RoPE (Rotary Position Embedding)", student)
    assert match is not None and match.concept.lesson == "long-context"
    [row] = audit([("RoPE", Depth.INTRODUCED, "")], student, {"long-context": "5.3.1"})
    assert (row.actual, row.status, row.source) == (Depth.DEVELOPED, "OK", "long-context (5.3.1)")


def test_the_rarest_word_anchors_the_match(student: StudentState) -> None:
    # "DiT block" shares encoder-decoder and transformer, but says nothing about T5
    match = match_known("T5 as encoder-decoder transformer", student)
    assert match is not None and match.concept.lesson == "decoders"


def test_status_is_computed_from_the_depths(student: StudentState) -> None:
    rows = audit(
        [
            ("Consistency distillation", Depth.DEVELOPED, "compare with"),
            ("Flow matching", Depth.APPLIED, "trains with it"),
            ("consistency distillation", Depth.MENTIONED, "a repeat is dropped"),
        ],
        student,
        {},
    )
    assert [(r.concept, r.actual, r.status) for r in rows] == [
        ("Consistency distillation", Depth.DEVELOPED, "OK"),
        ("Flow matching", Depth.DEVELOPED, "GAP"),
    ]


def test_prerequisites_are_picked_by_id_from_the_listed_rows_or_named(
    student: StudentState,
) -> None:
    listed = student.concepts[:2]
    schema = schemas.analyze_schema(len(listed))
    assert unbounded_fields(schema) == []
    reply = schema.model_validate(
        {
            "target_concept": "The student learns to distil a sampler into a few steps.",
            "assumed": [
                {"id": 2, "required": "DEVELOPED", "reasoning": "compared with it"},
                {"id": 1, "required": "INTRODUCED", "reasoning": "the pattern it refines"},
            ],
            "missing": [{"concept": "Reward models", "required": "INTRODUCED", "reasoning": "RL"}],
        }
    )
    rows = audit(claims(reply, listed), student, {})
    # a picked row is named as the records name it, so its depth is the records'
    assert [(r.concept, r.status) for r in rows] == [
        (listed[1].concept, "OK"),
        (listed[0].concept, "OK"),
        ("Reward models", "GAP"),
    ]
    # ids are an enum of the listed rows (a constrained decoder enforces enums, not bounds)
    with pytest.raises(ValidationError):
        schema.model_validate(
            {
                **reply.model_dump(),
                "assumed": [{"id": 3, "required": "MENTIONED", "reasoning": "x"}] * 2,
            }
        )
    # short of three prerequisites in the list, the reply must name the rest
    with pytest.raises(ValidationError):
        schema.model_validate({**reply.model_dump(), "missing": []})


def test_with_no_concepts_listed_every_prerequisite_is_named() -> None:
    schema = schemas.analyze_schema(0)
    assert unbounded_fields(schema) == []
    named = [{"concept": f"Idea {i}", "required": "MENTIONED", "reasoning": "r"} for i in range(3)]
    reply = schema.model_validate({"target_concept": "x" * 40, "missing": named})
    assert [c[0] for c in claims(reply, [])] == ["Idea 0", "Idea 1", "Idea 2"]
    with pytest.raises(ValidationError):
        schema.model_validate({"target_concept": "x" * 40, "missing": named[:2]})


def test_computed_rows_reach_the_list_and_each_row_says_who_named_it(
    student: StudentState,
) -> None:
    from lesson_author.course.models import RelevantConcept
    from lesson_author.pipeline.analyze import (
        ADDED,
        COMPUTED,
        _listed,
        dropped_rows,
        mark_provenance,
    )
    from lesson_author.pipeline.state import LessonState, OrientOutcome, PrerequisiteFact

    picked = student.concepts[0]
    computed = [
        PrerequisiteFact(concept=c.concept, actual=c.depth, lesson=c.lesson)
        for c in student.concepts[1:3]
    ] + [PrerequisiteFact(concept="DMD", actual=Depth.NOT_TAUGHT)]
    lent = student.concepts[3]  # a row an earlier lesson's planning document lists
    computed.append(
        PrerequisiteFact(
            concept=lent.concept,
            actual=lent.depth,
            lesson=lent.lesson,
            named_by="a prerequisite of sdxl",
        )
    )
    state = LessonState(
        slug="x",
        orient=OrientOutcome(
            relevant_concepts=[RelevantConcept(concept=picked.concept, depth=picked.depth)]
        ),
        computed_prerequisites=computed,
    )
    listed = _listed(state)
    # orient's row first, then the computed record rows; a NOT TAUGHT topic is no list row
    assert [r.concept for r in listed] == [picked.concept] + [
        c.concept for c in computed if c.lesson
    ]
    rows = audit(
        [
            (picked.concept, Depth.INTRODUCED, "orient's pick"),
            (computed[1].concept, Depth.MENTIONED, ""),
            (lent.concept, Depth.INTRODUCED, "builds on it"),
        ],
        student,
        {},
    )
    mark_provenance(rows, state)
    assert rows[0].reasoning.endswith(f"({ADDED})")
    assert rows[1].reasoning.endswith(f"({COMPUTED})")
    assert rows[2].reasoning == "builds on it (computed: a prerequisite of sdxl)"
    # the computed row the model left out is reported, not silently lost
    assert dropped_rows(rows, state) == [computed[0].concept]


def test_the_analyze_prompt_says_which_rows_an_earlier_document_lent() -> None:
    # the example course's z-image: sdxl's planning document lists rows the plans for z-image
    # do not name; the model is told which is which, as the planning document will be
    from example_course import EXAMPLE_COURSE

    from lesson_author.course.tree import CourseTree
    from lesson_author.pipeline.analyze import _context
    from lesson_author.pipeline.context import prompt_environment
    from lesson_author.pipeline.state import LessonState
    from lesson_author.state import lesson_state

    computed = lesson_state(CourseTree.open(EXAMPLE_COURSE), "z-image")
    state = LessonState(
        slug="z-image",
        lesson=computed.info,
        module=computed.module,
        computed_prerequisites=computed.prerequisite_facts(),
    )
    text = (
        prompt_environment()
        .get_template("analyze.md.j2")
        .render(**_context(state, "prerequisites"))
    )
    rows = [line for line in text.splitlines() if line.startswith("[")]
    lent = [r for r in rows if r.endswith("| a prerequisite of sdxl")]
    named = [r for r in rows if r.endswith("| named by the plans")]
    assert lent and named and len(lent) + len(named) == len(rows)
