"""Orient's deterministic half: which student-state rows the model gets to choose from."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from lesson_author.course.knowledge import KnownConcept, StudentState
from lesson_author.course.models import Depth
from lesson_author.llm.schema_budget import unbounded_fields
from lesson_author.pipeline import schemas
from lesson_author.pipeline.orient import orient_outcome
from lesson_author.pipeline.state import ConceptFact
from lesson_author.state import select_candidates

ROOT = Path(__file__).resolve().parents[2]


def known(
    concept: str, lesson: str, module: str, notes: str = "", depth: Depth = Depth.DEVELOPED
) -> KnownConcept:
    return KnownConcept(
        concept=concept,
        depth=depth,
        lesson=lesson,
        module=module,
        notes=notes,
        path=Path("r.md"),
        line=1,
    )


def student() -> StudentState:
    rows = [
        known("Backpropagation (chain rule through layers)", "backprop", "1.1"),
        known(
            "Cross-attention mechanism (Q from image, K/V from text)",
            "conditioning",
            "6.3",
            "Text enters the U-Net here.",
        ),
        known("Flow matching (straight paths between noise and data)", "flow-matching", "7.2"),
        known("Learning rate schedules", "training", "1.3"),
        known(
            "DiT block (transformer block with adaLN-Zero)",
            "dit",
            "7.4",
            "Replaces the cross-attention from 6.3.4 with joint attention.",
        ),
        known("Patchify (latent to tokens)", "dit", "7.4"),
    ]
    rows += [
        known(f"Optimizer trick zq{n}x", "training", "1.3", "A long note " * 5) for n in range(40)
    ]
    return StudentState(
        before="mmdit",
        concepts=rows,
        lessons=["backprop", "training", "conditioning", "flow-matching", "dit"],
    )


def test_earlier_lessons_of_the_module_come_first_then_the_lesson_topics() -> None:
    facts = select_candidates(
        student(),
        lesson_text="MMDiT: joint attention over text and image tokens, trained with flow matching.",
        previous_lessons=["dit"],
        numbers={"dit": "7.4.1", "flow-matching": "7.2.2", "conditioning": "6.3.4"},
    )
    names = [f.concept.split(" (")[0] for f in facts]
    assert set(names[:2]) == {"DiT block", "Patchify"}
    assert "Flow matching" in names
    # an unrelated row only fills what is left of the budget, after every related one
    assert names.index("Backpropagation") > names.index("Flow matching")
    assert [f.id for f in facts] == list(range(1, len(facts) + 1))
    flow = next(f for f in facts if f.concept.startswith("Flow matching"))
    assert (flow.depth, flow.source) == (Depth.DEVELOPED, "flow-matching (7.2.2)")


def test_a_row_cited_by_an_earlier_lesson_of_the_module_is_offered() -> None:
    facts = select_candidates(
        student(),
        lesson_text="Something unrelated to every row.",
        previous_lessons=["dit"],
        numbers={"dit": "7.4.1", "conditioning": "6.3.4"},
    )
    assert any(f.concept.startswith("Cross-attention") for f in facts)


def test_the_candidate_list_respects_its_token_budget() -> None:
    facts = select_candidates(
        student(),
        lesson_text=" ".join(f"zq{n}x" for n in range(40)),
        previous_lessons=[],
        token_budget=200,
    )
    assert 0 < len(facts) < 20
    assert sum(len(f.concept) + len(f.notes) + len(f.source) + 30 for f in facts) // 4 <= 200


def test_the_model_only_picks_rows_depth_and_source_stay_the_records() -> None:
    facts = [
        ConceptFact(
            id=1,
            concept="Flow matching",
            depth=Depth.DEVELOPED,
            lesson="flow-matching",
            source="flow-matching (7.2.2)",
        ),
        ConceptFact(
            id=2, concept="Patchify", depth=Depth.DEVELOPED, lesson="dit", source="dit (7.4.1)"
        ),
    ]
    reply = schemas.OrientReply(
        relevant=[
            schemas.ConceptPick(id=2, note="patches are tokens"),
            schemas.ConceptPick(id=2, note="a repeat"),
            schemas.ConceptPick(id=77, note="an invented id"),
        ],
        missing=["Rectified flow"],
        mental_models=[schemas.MentalModelNote(name="Tokenize the image", use="same move")],
        not_covered=[schemas.NotCoveredNote(topic="Joint attention", detail="never taught")],
        readiness="Ready: every building block is there except joint attention itself.",
    )
    outcome = orient_outcome(reply, facts, None)
    rows = [(r.concept, r.depth, r.source) for r in outcome.relevant_concepts]
    assert rows == [
        ("Patchify", Depth.DEVELOPED, "dit (7.4.1)"),
        ("Rectified flow", Depth.NOT_TAUGHT, "--"),
    ]


def test_the_orient_schema_only_offers_the_ids_of_the_candidate_list() -> None:
    schema = schemas.orient_schema(5)
    assert unbounded_fields(schema) == []
    pick = {"id": 5, "note": "ok"}
    reply = {
        "relevant": [pick, pick, pick],
        "mental_models": [{"name": "m", "use": "u"}],
        "not_covered": [{"topic": "t", "detail": "d"}],
        "readiness": "The student is ready for this lesson, with one small gap.",
    }
    assert schema.model_validate(reply).relevant[0].id == 5
    with pytest.raises(ValidationError):
        schema.model_validate({**reply, "relevant": [{"id": 6, "note": "no such row"}] * 3})


@pytest.mark.corpus
def test_orient_recall_on_the_seed_z_image_plan(seeds_dir: Path, corpus_dir: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import orient_recall

    from lesson_author.course.tree import CourseTree

    with tempfile.TemporaryDirectory() as tmp:
        tree = CourseTree.open(orient_recall.corpus_before_z_image(Path(tmp)))
        figures = orient_recall.measure_lesson(tree, "z-image")
    assert figures.recall >= 0.9, figures.missed
    assert figures.prompt_tokens < 8000


def test_a_concept_the_model_calls_missing_is_looked_up_with_the_audits_matcher(
    corpus_dir: Path,
) -> None:
    """Orient, the audit and the review answer "does the student have it" with one matcher
    (state.match_known): a row the records hold replaces the model's "missing", a named thing
    the records never write stays NOT TAUGHT even when a row shares its other words."""
    from lesson_author.course.knowledge import student_state
    from lesson_author.course.tree import CourseTree

    student = student_state(CourseTree.open(corpus_dir), "z-image")
    # series-7/module-7-2/record.md: the flow-matching lesson's row, offered but not picked
    flow = next(c for c in student.concepts if c.concept.startswith("Conditional flow matching"))
    picked = [c for c in student.by_lesson("sd3-and-flux")][:3]
    facts = [
        ConceptFact(id=n, concept=c.concept, depth=c.depth, lesson=c.lesson, source=c.lesson)
        for n, c in enumerate([flow, *picked], start=1)
    ]
    reply = schemas.OrientReply(
        relevant=[schemas.ConceptPick(id=n, note="builds on it") for n in (2, 3, 4)],
        # "single-stream" is in an sd3-and-flux row's detail; S3-DiT in no row before z-image
        missing=["Conditional flow matching", "S3-DiT single-stream architecture"],
        mental_models=[schemas.MentalModelNote(name="One stream", use="joint attention")],
        not_covered=[schemas.NotCoveredNote(topic="S3-DiT", detail="the lesson's own idea")],
        readiness="Ready: the student has flow matching and MMDiT; S3-DiT is the new idea.",
    )
    outcome = orient_outcome(reply, facts, student)
    rows = [(r.concept, r.depth) for r in outcome.relevant_concepts]
    assert rows == [
        *((c.concept, c.depth) for c in picked),
        (flow.concept, flow.depth),
        ("S3-DiT single-stream architecture", Depth.NOT_TAUGHT),
    ]
